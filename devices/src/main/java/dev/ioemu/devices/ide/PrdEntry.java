package dev.ioemu.devices.ide;

/**
 * One Physical Region Descriptor, copied out of guest memory once and validated
 * (shared/spec/ide.md §8.3): a 32-bit buffer address (bit 0 kept, as QEMU does), a byte count
 * where bit 0 is ignored and 0 means 64 KiB, and the end-of-table flag.
 *
 * @param address    guest-physical start, 0..2^32-1
 * @param length     bytes, 2..65536, even
 * @param endOfTable EOT (dword 1 bit 31)
 */
record PrdEntry(long address, int length, boolean endOfTable) {
    static final int SIZE = 8;
    static final int MAX_LENGTH = 0x10000;
    private static final int COUNT_MASK = 0xFFFE;
    private static final int EOT = 0x8000_0000;

    PrdEntry {
        if (address < 0 || address > 0xFFFF_FFFFL || length <= 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("PRD entry: " + address + "+" + length);
        }
    }

    /** Decodes the two little-endian dwords of a table entry. */
    static PrdEntry decode(int addressDword, int countDword) {
        int length = countDword & COUNT_MASK;
        return new PrdEntry(addressDword & 0xFFFF_FFFFL, length == 0 ? MAX_LENGTH : length, (countDword & EOT) != 0);
    }
}
