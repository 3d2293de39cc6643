package dev.ioemu.emulator.machine;

/**
 * The guest-physical address space as the first CPU sees it: RAM where the machine has RAM, and
 * QEMU's answers elsewhere (unassigned space reads as zeros, writes are dropped). Addresses are
 * unsigned 64-bit; a range may run past the end of RAM or wrap, and each byte goes wherever its
 * own address leads. Used by the qtest front end; devices use {@code GuestMemory} directly.
 */
public interface AddressSpace {
    /** Copies {@code length} bytes at {@code address} into {@code dst[offset..]}. */
    void read(long address, byte[] dst, int offset, int length);

    /** Copies {@code src[offset..offset+length)} to {@code address}; unassigned bytes are dropped. */
    void write(long address, byte[] src, int offset, int length);

    /** Fills {@code length} bytes at {@code address} with {@code value}. */
    void fill(long address, long length, byte value);
}
