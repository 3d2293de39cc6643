package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;

/**
 * The INT 13h AH=42h–44h/47h disk address packet (shared/spec/int13.md §3.9), copied out of
 * guest memory once and then trusted.
 *
 * @param size             byte 0: 10h, or 18h with the 64-bit flat buffer
 * @param count            word 2: blocks to transfer
 * @param bufferFarPointer dword 4: offset (low word) : segment (high word)
 * @param lba              qword 8: starting block (unsigned)
 * @param flatBuffer       qword 10h if {@code size ≥ 18h}, else 0
 */
public record DiskAddressPacket(int size, int count, int bufferFarPointer, long lba, long flatBuffer) {
    public static final int LENGTH = 0x10;
    public static final int LENGTH_64BIT = 0x18;
    public static final int COUNT_OFFSET = 2;
    /** The far pointer FFFF:FFFF that selects the 64-bit flat buffer (EDD-3). */
    static final int USE_FLAT_BUFFER = 0xFFFF_FFFF;

    /** Reads the packet at {@code address}; the caller has checked that its first 16 bytes are RAM. */
    static DiskAddressPacket read(PhysicalMemory memory, long address) {
        int size = memory.readByte(address);
        int count = memory.readWord(address + COUNT_OFFSET);
        int far = memory.readDword(address + 4);
        long lba = (memory.readDword(address + 8) & 0xFFFF_FFFFL) | ((long) memory.readDword(address + 12) << 32);
        long flat = 0;
        if (size >= LENGTH_64BIT && memory.isRam(address, LENGTH_64BIT)) {
            flat = (memory.readDword(address + 16) & 0xFFFF_FFFFL) | ((long) memory.readDword(address + 20) << 32);
        }
        return new DiskAddressPacket(size, count, far, lba, flat);
    }

    public boolean usesFlatBuffer() {
        return size >= LENGTH_64BIT && bufferFarPointer == USE_FLAT_BUFFER;
    }

    /** Linear address of the buffer: the 64-bit flat address, or segment × 16 + offset. */
    public long bufferAddress() {
        if (usesFlatBuffer()) {
            return flatBuffer;
        }
        return ((long) (bufferFarPointer >>> 16) << 4) + (bufferFarPointer & 0xFFFF);
    }
}
