package dev.ioemu.devices.isa;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The fw_cfg file {@code etc/e820}: packed 20-byte entries {u64 base, u64 length, u32 type},
 * little-endian (shared/spec/seabios.md §6.2). SeaBIOS takes the highest RAM end below 4 GiB as
 * its RamSize. QEMU 7.2's pc machine under TCG lists RAM only: one entry below 4 GiB and one
 * from 4 GiB for the rest.
 */
public record E820Table(List<Entry> entries) {
    public static final int TYPE_RAM = 1;
    public static final int TYPE_RESERVED = 2;
    private static final int ENTRY_SIZE = 20;
    private static final long FOUR_GIB = 1L << 32;

    /** One range. */
    public record Entry(long base, long length, int type) {
    }

    public E820Table {
        entries = List.copyOf(entries);
    }

    /** RAM of {@code ramSize} bytes, {@code ramBelowFourGib} of them from 0, the rest from 4 GiB. */
    public static E820Table ram(long ramSize, long ramBelowFourGib) {
        List<Entry> out = new ArrayList<>();
        out.add(new Entry(0, ramBelowFourGib, TYPE_RAM));
        if (ramSize > ramBelowFourGib) {
            out.add(new Entry(FOUR_GIB, ramSize - ramBelowFourGib, TYPE_RAM));
        }
        return new E820Table(out);
    }

    /** The file's bytes. */
    public byte[] bytes() {
        ByteBuffer b = ByteBuffer.allocate(ENTRY_SIZE * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : entries) {
            b.putLong(e.base()).putLong(e.length()).putInt(e.type());
        }
        return b.array();
    }
}
