package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

/**
 * QEMU's {@code isa-debugcon} (Bochs' port E9 hack) at any I/O base: each byte written goes to a
 * backend (the chardev), a read returns the read-back value, 0xE9 by default, which is how
 * firmware (SeaBIOS at 0x402) detects the console before logging to it.
 */
public final class IsaDebugCon implements PortDevice {
    public static final int DEFAULT_IOBASE = 0xe9;
    public static final int DEFAULT_READBACK = 0xe9;

    private final SerialBackend backend;
    private final int readback;

    public IsaDebugCon(SerialBackend backend) {
        this(backend, DEFAULT_READBACK);
    }

    public IsaDebugCon(SerialBackend backend, int readback) {
        this.backend = backend;
        this.readback = readback & 0xff;
    }

    @Override
    public int read(int offset, int size) {
        return ByteRegisters.read(o -> readback, offset, size);
    }

    @Override
    public void write(int offset, int size, int value) {
        ByteRegisters.write((o, v) -> backend.transmit((byte) v), offset, size, value);
    }

    @Override
    public String name() {
        return "isa-debugcon";
    }
}
