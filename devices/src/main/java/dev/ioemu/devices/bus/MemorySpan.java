package dev.ioemu.devices.bus;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A validated range of guest RAM inside one RAM chunk: its {@link #buffer()} is a direct view with
 * no copy, so the block layer reads and writes guest memory in place (zero-copy DMA) and a string
 * port instruction moves items straight into RAM. Obtained from {@link PhysicalMemory#ramSpan},
 * which returns null for ranges that are not entirely RAM (those go through a bounce buffer and
 * the address space's ROM/unassigned rules).
 */
public final class MemorySpan {
    private final long guestAddress;
    private final ByteBuffer view;   // little-endian, position 0, limit = length

    MemorySpan(long guestAddress, ByteBuffer chunkBuffer, int offsetInChunk, int length) {
        this.guestAddress = guestAddress;
        this.view = chunkBuffer.slice(offsetInChunk, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    public long guestAddress() {
        return guestAddress;
    }

    public int length() {
        return view.capacity();
    }

    /** A fresh direct little-endian view: position 0, limit {@link #length()}. */
    public ByteBuffer buffer() {
        return view.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public int getLittleEndian(int offset, int size) {
        checkIn(offset, size);
        return switch (size) {
            case 1 -> view.get(offset) & 0xFF;
            case 2 -> view.getShort(offset) & 0xFFFF;
            case 4 -> view.getInt(offset);
            default -> throw new IllegalArgumentException("size: " + size + " (expected: 1, 2 or 4)");
        };
    }

    public void putLittleEndian(int offset, int size, int value) {
        checkIn(offset, size);
        switch (size) {
            case 1 -> view.put(offset, (byte) value);
            case 2 -> view.putShort(offset, (short) value);
            case 4 -> view.putInt(offset, value);
            default -> throw new IllegalArgumentException("size: " + size + " (expected: 1, 2 or 4)");
        }
    }

    private void checkIn(int offset, int size) {
        if (offset < 0 || size < 0 || offset > view.capacity() - size) {
            throw new IndexOutOfBoundsException("offset " + offset + "+" + size + " outside span of " + view.capacity());
        }
    }
}
