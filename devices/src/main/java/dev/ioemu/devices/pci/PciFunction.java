package dev.ioemu.devices.pci;

/**
 * One PCI function's 256-byte configuration space as the host bridge sees it (configuration
 * mechanism #1, shared/spec/ide.md §8.1). Offsets are within the function; {@code size} is 1, 2
 * or 4 and the access never runs past offset 0xFF (the host bridge cuts it).
 *
 * <p>Called on the machine thread only.
 */
public interface PciFunction {
    /** Reads {@code size} bytes little-endian at {@code offset}, zero-extended. */
    int configRead(int offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset}, honouring read-only bits. */
    void configWrite(int offset, int size, int value);

    /** Machine reset: back to the power-on values of the function's writable registers. */
    default void reset() {
    }
}
