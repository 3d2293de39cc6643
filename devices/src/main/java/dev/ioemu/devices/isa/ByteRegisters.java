package dev.ioemu.devices.isa;

/**
 * Splits a 16- or 32-bit access to a chip with 8-bit registers into byte accesses at successive
 * offsets, lowest first, as QEMU's memory core does for regions that implement only 1-byte
 * accesses (observed on QEMU 7.2: {@code inw 0x20} = IRR | IMR << 8). The offsets may run past the
 * chip's ports; each chip decodes them as its address lines do.
 */
final class ByteRegisters {
    /** One byte register read at an offset. */
    @FunctionalInterface
    interface ByteReader {
        int read(int offset);
    }

    /** One byte register write at an offset. */
    @FunctionalInterface
    interface ByteWriter {
        void write(int offset, int value);
    }

    private ByteRegisters() {
    }

    static int read(ByteReader reader, int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            value |= (reader.read(offset + i) & 0xff) << (8 * i);
        }
        return value;
    }

    static void write(ByteWriter writer, int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            writer.write(offset + i, (value >>> (8 * i)) & 0xff);
        }
    }
}
