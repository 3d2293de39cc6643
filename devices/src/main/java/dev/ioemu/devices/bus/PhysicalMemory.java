package dev.ioemu.devices.bus;

/**
 * Guest-physical memory as firmware services, DMA engines and CPU engines see it: byte-addressed,
 * little-endian, addresses unsigned. This is the one contract the BIOS services and the engines'
 * glue code are written against; the machine's address space (RAM, ROM, MMIO, unassigned space)
 * implements it.
 *
 * <p>Guest addresses are hostile input: callers check {@link #isRam} before they trust a range, or
 * let the implementation answer an unassigned access as QEMU 7.2 does: reads 0, writes dropped
 * (all-ones is the I/O port bus's answer, not memory's).
 * Multi-byte accessors are little-endian and may cross region boundaries; each byte then goes
 * where its own address leads.
 */
public interface PhysicalMemory {
    int readByte(long address);

    int readWord(long address);

    int readDword(long address);

    void writeByte(long address, int value);

    void writeWord(long address, int value);

    void writeDword(long address, int value);

    /** Copies {@code len} bytes at {@code address} into {@code dst[off..]}. */
    void read(long address, byte[] dst, int off, int len);

    /** Copies {@code src[off..off+len)} to {@code address}; bytes landing on ROM or unassigned space are dropped. */
    void write(long address, byte[] src, int off, int len);

    /** True if every byte of [address, address+length) is guest RAM (readable and writable). */
    boolean isRam(long address, long length);

    /**
     * A zero-copy window onto [address, address+length) if that range is RAM in one piece of host
     * memory, else null: the caller then copies through {@link #read}/{@link #write}, which apply
     * the ROM and unassigned-space rules byte by byte. DMA engines use this to hand guest memory
     * to the block layer without a copy.
     */
    default MemorySpan ramSpan(long address, int length) {
        return null;
    }

    /**
     * Tells the machine that a device wrote [address, address+length) of RAM behind the CPU's
     * back (DMA through a {@link #ramSpan} window), so a CPU engine drops instructions it decoded
     * from those bytes. Writes through {@link #write} need no such call.
     */
    default void ramWritten(long address, long length) {
    }
}
