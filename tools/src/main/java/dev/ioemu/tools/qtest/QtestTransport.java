package dev.ioemu.tools.qtest;

import dev.ioemu.devices.ide.guest.GuestTransport;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The guest-driver kit's {@link GuestTransport} over a qtest connection: port accesses are
 * {@code in*}/{@code out*} requests, memory moves with {@code b64write}/{@code b64read}, IRQ
 * levels come from intercepted lines ({@code irq_intercept_in ioapic} first). Waiting needs no
 * help: the emulator completes I/O on its own while the driver polls.
 */
public final class QtestTransport implements GuestTransport {
    private final QtestClient client;

    public QtestTransport(QtestClient client) {
        this.client = client;
    }

    public QtestClient client() {
        return client;
    }

    @Override
    public int in(int port, int size) {
        try {
            return switch (size) {
                case 1 -> client.inb(port);
                case 2 -> client.inw(port);
                case 4 -> client.inl(port);
                default -> throw new IllegalArgumentException("port access size: " + size + " (expected: 1, 2 or 4)");
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void out(int port, int size, int value) {
        try {
            switch (size) {
                case 1 -> client.outb(port, value);
                case 2 -> client.outw(port, value);
                case 4 -> client.outl(port, value);
                default -> throw new IllegalArgumentException("port access size: " + size + " (expected: 1, 2 or 4)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void writeMemory(long address, byte[] data) {
        try {
            client.bufwrite(address, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public byte[] readMemory(long address, int length) {
        try {
            return client.bufread(address, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean irqLevel(int irq) {
        try {
            return client.getIrq(irq);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void awaitProgress() {
        // The emulator runs its I/O by itself; the next poll is the wait.
    }
}
