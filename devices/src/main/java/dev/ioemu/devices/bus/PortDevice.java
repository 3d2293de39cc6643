package dev.ioemu.devices.bus;

/**
 * A device that decodes a range of x86 I/O ports. The bus hands it the offset within its range,
 * never the absolute port, so the same model serves a legacy address and a PCI BAR alike.
 *
 * <p>Called only on the thread that drives the machine (vCPU or qtest front end).
 */
public interface PortDevice {
    /** Reads {@code size} (1, 2 or 4) bytes at {@code offset}; the result is zero-extended. */
    int read(int offset, int size);

    /** Writes the low {@code size} (1, 2 or 4) bytes of {@code value} at {@code offset}. */
    void write(int offset, int size, int value);

    /**
     * String input ({@code rep insw/insd}): reads {@code count} items of {@code size} bytes from
     * the same port into {@code dst}. Devices with a data FIFO override this to move a whole
     * sector in one call; the default loops over {@link #read}.
     *
     * @return the number of items actually transferred (the device may stop early, e.g. when DRQ drops)
     */
    default int readString(int offset, int size, int count, MemorySpan dst) {
        for (int i = 0; i < count; i++) {
            dst.putLittleEndian(i * size, size, read(offset, size));
        }
        return count;
    }

    /** String output ({@code rep outsw/outsd}); see {@link #readString}. */
    default int writeString(int offset, int size, int count, MemorySpan src) {
        for (int i = 0; i < count; i++) {
            write(offset, size, src.getLittleEndian(i * size, size));
        }
        return count;
    }

    /** A short name for traces and overlap errors, e.g. "ide0-cmd". */
    String name();
}
