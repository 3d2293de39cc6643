package dev.ioemu.cpu;

/**
 * Port I/O as the CPU issues it: IN/OUT/INS/OUTS with sizes 1, 2 or 4. A callback runs between
 * the CPU's register updates: during {@link #out} the register file already shows EIP past the
 * OUT, so a firmware trap (OUT 0xE0, AL) may read and rewrite registers through {@link Cpu}.
 */
public interface IoPorts {
    /** Reads {@code size} bytes (1, 2 or 4) at {@code port}; unassigned ports answer all-ones. */
    int in(int port, int size);

    /** Writes the low {@code size} bytes of {@code value} to {@code port}. */
    void out(int port, int size, int value);

    /** No devices: reads all-ones, writes dropped (the vector runner's rig). */
    IoPorts NONE = new IoPorts() {
        @Override
        public int in(int port, int size) {
            return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
        }

        @Override
        public void out(int port, int size, int value) {
        }
    };
}
