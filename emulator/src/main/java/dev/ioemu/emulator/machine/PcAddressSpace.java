package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.GuestMemory;

/**
 * The pc machine's physical memory map at power-on, as QEMU 7.2 answers it over qtest with
 * {@code -S} (observed on the installed peer): RAM at [0, 0xc0000) and [1 MiB, RAM size);
 * [0xc0000, 0x100000) is expansion-ROM and BIOS space (PAM registers closed) where writes are
 * dropped and ioemu reads zeros (QEMU shows SeaBIOS bytes at 0xe0000 and up; ioemu loads no
 * firmware); everything above RAM reads zeros and drops writes. The IOAPIC/LAPIC MMIO windows
 * and the high BIOS alias are not modelled.
 */
public final class PcAddressSpace implements AddressSpace {
    /** Start of the legacy ROM hole (expansion ROMs, then the BIOS at 0xe0000). */
    public static final long ROM_HOLE_START = 0xc0000;
    /** End of the legacy ROM hole: extended memory starts at 1 MiB. */
    public static final long ROM_HOLE_END = 0x100000;

    private final GuestMemory ram;

    public PcAddressSpace(GuestMemory ram) {
        this.ram = ram;
    }

    /**
     * Number of bytes from {@code address} that are backed by RAM (0 if the address is not RAM).
     * Lengths are at most 2^32 (the qtest server bounds them), so signed arithmetic is safe.
     */
    private long ramRun(long address, long length) {
        long ramEnd = ram.size();
        if (Long.compareUnsigned(address, ROM_HOLE_START) < 0) {
            return Math.max(0, Math.min(length, Math.min(ROM_HOLE_START, ramEnd) - address));
        }
        if (Long.compareUnsigned(address, ROM_HOLE_END) >= 0 && Long.compareUnsigned(address, ramEnd) < 0) {
            return Math.min(length, ramEnd - address);
        }
        return 0;
    }

    /**
     * Number of bytes from {@code address} that are not RAM, at most {@code length}. A range that
     * runs past 2^64 does not wrap to address 0: QEMU hands such an access whole to unassigned
     * space (observed: {@code read 0xfffffffffffffffe 4} reads zeros).
     */
    private long holeRun(long address, long length) {
        boolean ramFollows = Long.compareUnsigned(address, ROM_HOLE_END) < 0 && ROM_HOLE_END < ram.size();
        if (!ramFollows) {
            return length;
        }
        return Math.min(length, ROM_HOLE_END - address);
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        long a = address;
        int done = 0;
        while (done < length) {
            long run = ramRun(a, length - done);
            if (run > 0) {
                ram.read(a, dst, offset + done, (int) run);
            } else {
                run = holeRun(a, length - done);
                java.util.Arrays.fill(dst, offset + done, offset + done + (int) run, (byte) 0);
            }
            done += (int) run;
            a += run;
        }
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        long a = address;
        int done = 0;
        while (done < length) {
            long run = ramRun(a, length - done);
            if (run > 0) {
                ram.write(a, src, offset + done, (int) run);
            } else {
                run = holeRun(a, length - done);
            }
            done += (int) run;
            a += run;
        }
    }

    @Override
    public void fill(long address, long length, byte value) {
        long a = address;
        long done = 0;
        while (Long.compareUnsigned(done, length) < 0) {
            long left = length - done;
            long run = ramRun(a, left);
            if (run > 0) {
                ram.fill(a, run, value);
            } else {
                run = holeRun(a, left);
            }
            done += run;
            a += run;
        }
    }
}
