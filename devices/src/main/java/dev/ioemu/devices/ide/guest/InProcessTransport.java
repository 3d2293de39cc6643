package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;

import java.util.function.IntPredicate;

/**
 * A {@link GuestTransport} on a port bus and guest RAM in this JVM, for unit tests and in-process
 * benchmarks. String I/O moves data between the port and guest RAM without a copy, as
 * {@link IoPortBus#readString} does for a CPU's {@code rep insw}.
 *
 * <p>One thread (the caller, playing the vCPU) uses it.
 */
public final class InProcessTransport implements GuestTransport {
    private final IoPortBus ports;
    private final GuestMemory memory;
    private final IntPredicate irqLevels;
    private final Runnable awaitProgress;

    /**
     * @param irqLevels     the level of an ISA IRQ line by number (the lines the machine's devices drive)
     * @param awaitProgress what a wait does between two busy polls: drain the device's I/O for a
     *                      deterministic test, or {@link Thread#yield} to time the real path
     */
    public InProcessTransport(IoPortBus ports, GuestMemory memory, IntPredicate irqLevels, Runnable awaitProgress) {
        this.ports = ports;
        this.memory = memory;
        this.irqLevels = irqLevels;
        this.awaitProgress = awaitProgress;
    }

    @Override
    public int in(int port, int size) {
        return ports.read(port, size);
    }

    @Override
    public void out(int port, int size, int value) {
        ports.write(port, size, value);
    }

    @Override
    public void writeMemory(long address, byte[] data) {
        memory.write(address, data, 0, data.length);
    }

    @Override
    public byte[] readMemory(long address, int length) {
        byte[] data = new byte[length];
        memory.read(address, data, 0, length);
        return data;
    }

    @Override
    public boolean irqLevel(int irq) {
        return irqLevels.test(irq);
    }

    @Override
    public void awaitProgress() {
        awaitProgress.run();
    }

    @Override
    public int readString(int port, int size, int count, long address) {
        return ports.readString(port, size, count, memory.span(address, count * size));
    }

    @Override
    public int writeString(int port, int size, int count, long address) {
        return ports.writeString(port, size, count, memory.span(address, count * size));
    }
}
