package dev.ioemu.bios;

import java.util.ArrayList;
import java.util.List;

/**
 * The INT 15h AX=E820h memory map (shared/spec/int13.md §8.3, §9.1; kvm.md §9.7), built from the
 * machine's RAM size: RAM below the EBDA, the EBDA and the F-segment ROM reserved, RAM from 1 MiB
 * to the PCI hole, the BIOS alias below 4 GiB reserved, and RAM above 4 GiB.
 */
public record E820Map(List<Entry> entries) {
    public static final int TYPE_RAM = 1;
    public static final int TYPE_RESERVED = 2;
    /** QEMU pc: RAM above this goes above 4 GiB. */
    public static final long BELOW_4G_LIMIT = 0xE000_0000L;
    public static final long FOUR_GIB = 1L << 32;
    /** What SeaBIOS reports reserved under 4 GiB for the firmware alias (256 KiB). */
    public static final long HIGH_BIOS_BASE = 0xFFFC_0000L;
    public static final int ENTRY_SIZE = 20;

    public record Entry(long base, long length, int type) {
    }

    public E820Map {
        entries = List.copyOf(entries);
    }

    /**
     * @throws IllegalArgumentException for less than 1 MiB of RAM
     */
    public static E820Map forRam(long ramBytes) {
        if (ramBytes < 0x10_0000L) {
            throw new IllegalArgumentException("RAM size: " + ramBytes + " (expected: at least 1 MiB for the BIOS)");
        }
        List<Entry> e = new ArrayList<>();
        e.add(new Entry(0, Ebda.BASE, TYPE_RAM));
        e.add(new Entry(Ebda.BASE, 0xA0000 - Ebda.BASE, TYPE_RESERVED));
        e.add(new Entry(BiosRom.BASE, BiosRom.SIZE, TYPE_RESERVED));
        long below4g = Math.min(ramBytes, BELOW_4G_LIMIT);
        if (below4g > 0x10_0000L) {
            e.add(new Entry(0x10_0000L, below4g - 0x10_0000L, TYPE_RAM));
        }
        e.add(new Entry(HIGH_BIOS_BASE, FOUR_GIB - HIGH_BIOS_BASE, TYPE_RESERVED));
        if (ramBytes > below4g) {
            e.add(new Entry(FOUR_GIB, ramBytes - below4g, TYPE_RAM));
        }
        return new E820Map(e);
    }

    /** RAM bytes between 1 MiB and the hole (what E801h and 88h describe). */
    public long extendedBelow4g() {
        long top = 0;
        for (Entry e : entries) {
            if (e.type == TYPE_RAM && e.base == 0x10_0000L) {
                top = e.base + e.length;
            }
        }
        return Math.max(0, top - 0x10_0000L);
    }
}
