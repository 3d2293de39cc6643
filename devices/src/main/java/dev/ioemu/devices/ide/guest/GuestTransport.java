package dev.ioemu.devices.ide.guest;

/**
 * The machine as a guest driver sees it: I/O ports, guest-physical memory and the levels of the
 * interrupt lines. Implementations: {@link InProcessTransport} (a port bus and guest RAM in this
 * JVM) and the qtest transport in {@code tools} (an emulator process). Failures of the transport
 * itself (a dead emulator) are unchecked ({@link java.io.UncheckedIOException}); what the device
 * answers is never an exception here.
 */
public interface GuestTransport {
    /** {@code in} of {@code size} bytes (1, 2 or 4) at {@code port}. */
    int in(int port, int size);

    /** {@code out} of {@code size} bytes (1, 2 or 4) at {@code port}. */
    void out(int port, int size, int value);

    void writeMemory(long address, byte[] data);

    byte[] readMemory(long address, int length);

    /** The current level of ISA interrupt line {@code irq} as the guest's interrupt controller sees it. */
    boolean irqLevel(int irq);

    /**
     * Called while the driver waits for the device (a poll saw it busy): lets asynchronous device
     * work progress, as a vCPU that halts or exits does. Never sleeps for a fixed time.
     */
    void awaitProgress();

    /**
     * {@code rep ins} of {@code count} units of {@code size} bytes from {@code port} into guest
     * memory at {@code address}; returns the units moved.
     */
    default int readString(int port, int size, int count, long address) {
        byte[] data = new byte[count * size];
        for (int i = 0; i < count; i++) {
            int v = in(port, size);
            for (int b = 0; b < size; b++) {
                data[i * size + b] = (byte) (v >> (8 * b));
            }
        }
        writeMemory(address, data);
        return count;
    }

    /** {@code rep outs} of {@code count} units of {@code size} bytes from guest memory at {@code address}. */
    default int writeString(int port, int size, int count, long address) {
        byte[] data = readMemory(address, count * size);
        for (int i = 0; i < count; i++) {
            int v = 0;
            for (int b = 0; b < size; b++) {
                v |= (data[i * size + b] & 0xFF) << (8 * b);
            }
            out(port, size, v);
        }
        return count;
    }

    default int inb(int port) { return in(port, 1); }

    default int inw(int port) { return in(port, 2); }

    default int inl(int port) { return in(port, 4); }

    default void outb(int port, int value) { out(port, 1, value & 0xFF); }

    default void outw(int port, int value) { out(port, 2, value & 0xFFFF); }

    default void outl(int port, int value) { out(port, 4, value); }
}
