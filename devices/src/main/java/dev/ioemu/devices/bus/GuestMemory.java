package dev.ioemu.devices.bus;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Guest RAM: one page-aligned off-heap region starting at guest-physical address 0, shared by
 * every engine (KVM maps it, a software CPU and the qtest front end read it) and by DMA.
 *
 * <p>Every access is bounds-checked against the region before memory is touched: a guest address
 * is hostile input. Accessors that take a guest address throw {@link IndexOutOfBoundsException}
 * only for programming errors; devices validate with {@link #contains} first and turn a miss into
 * the guest-visible error their spec defines.
 *
 * <p>Thread safety: plain memory, like RAM. A DMA worker and the vCPU may touch it concurrently.
 */
public final class GuestMemory implements PhysicalMemory {
    private final long size;
    private final ByteBuffer ram;       // little-endian view of the whole region
    private final long hostAddress;     // for KVM_SET_USER_MEMORY_REGION and zero-copy I/O

    /**
     * Allocates {@code size} bytes of zeroed, 4096-aligned guest RAM.
     *
     * @throws IllegalArgumentException if size is not a positive multiple of 4096 or exceeds 2 GiB
     *                                  (a single region; larger guests need a second slot)
     */
    public GuestMemory(long size) {
        if (size <= 0 || size % 4096 != 0 || size > (1L << 31) - 4096) {
            throw new IllegalArgumentException("guest RAM size: " + size
                    + " (expected: a positive multiple of 4096 below 2 GiB)");
        }
        this.size = size;
        ByteBuffer raw = ByteBuffer.allocateDirect((int) size + 4096).alignedSlice(4096);
        this.ram = raw.order(ByteOrder.LITTLE_ENDIAN);
        this.hostAddress = Pointer.nativeValue(Native.getDirectBufferPointer(raw));
    }

    public long size() {
        return size;
    }

    /** Host virtual address of guest-physical 0 (page aligned). */
    public long hostAddress() {
        return hostAddress;
    }

    /** True if [address, address+length) lies entirely inside guest RAM. */
    public boolean contains(long address, long length) {
        return address >= 0 && length >= 0 && address <= size && length <= size - address;
    }

    @Override
    public boolean isRam(long address, long length) {
        return contains(address, length);
    }

    private int check(long address, long length) {
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(String.format(
                    "guest address 0x%x+%d outside RAM (size 0x%x)", address, length, size));
        }
        return (int) address;
    }

    public int readByte(long address) { return ram.get(check(address, 1)) & 0xFF; }
    public int readWord(long address) { return ram.getShort(check(address, 2)) & 0xFFFF; }
    public int readDword(long address) { return ram.getInt(check(address, 4)); }
    public long readQword(long address) { return ram.getLong(check(address, 8)); }

    public void writeByte(long address, int value) { ram.put(check(address, 1), (byte) value); }
    public void writeWord(long address, int value) { ram.putShort(check(address, 2), (short) value); }
    public void writeDword(long address, int value) { ram.putInt(check(address, 4), value); }
    public void writeQword(long address, long value) { ram.putLong(check(address, 8), value); }

    /** Copies guest memory into {@code dst[off..off+len)}. */
    public void read(long address, byte[] dst, int off, int len) {
        ram.get(check(address, len), dst, off, len);
    }

    /** Copies {@code src[off..off+len)} into guest memory. */
    public void write(long address, byte[] src, int off, int len) {
        ram.put(check(address, len), src, off, len);
    }

    /** Fills [address, address+length) with {@code value}. */
    public void fill(long address, long length, byte value) {
        int start = check(address, length);
        for (int i = 0; i < length; i++) {
            ram.put(start + i, value);
        }
    }

    /** A bounds-checked window onto guest memory, e.g. one PRD region or a sector buffer. */
    public Span span(long address, int length) {
        return new Span(check(address, length), length);
    }

    /**
     * A validated range of guest RAM. Its {@link #buffer()} is a direct view with no copy, so the
     * block layer can read and write guest memory in place (zero-copy DMA).
     */
    public final class Span {
        private final int start;
        private final int length;

        private Span(int start, int length) {
            this.start = start;
            this.length = length;
        }

        public long guestAddress() { return start; }

        public int length() { return length; }

        /** A fresh direct little-endian view: position 0, limit {@link #length()}. */
        public ByteBuffer buffer() {
            return ram.slice(start, length).order(ByteOrder.LITTLE_ENDIAN);
        }

        public int getLittleEndian(int offset, int size) {
            int a = start + checkIn(offset, size);
            return switch (size) {
                case 1 -> ram.get(a) & 0xFF;
                case 2 -> ram.getShort(a) & 0xFFFF;
                case 4 -> ram.getInt(a);
                default -> throw new IllegalArgumentException("size: " + size + " (expected: 1, 2 or 4)");
            };
        }

        public void putLittleEndian(int offset, int size, int value) {
            int a = start + checkIn(offset, size);
            switch (size) {
                case 1 -> ram.put(a, (byte) value);
                case 2 -> ram.putShort(a, (short) value);
                case 4 -> ram.putInt(a, value);
                default -> throw new IllegalArgumentException("size: " + size + " (expected: 1, 2 or 4)");
            }
        }

        private int checkIn(int offset, int size) {
            if (offset < 0 || size < 0 || offset > length - size) {
                throw new IndexOutOfBoundsException("offset " + offset + "+" + size + " outside span of " + length);
            }
            return offset;
        }
    }
}
