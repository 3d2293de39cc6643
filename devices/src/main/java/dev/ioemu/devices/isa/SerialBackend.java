package dev.ioemu.devices.isa;

/**
 * The host side of a UART (a chardev: stdio, file, socket, null). Bytes the guest transmits go to
 * {@link #transmit}; bytes for the guest go the other way through {@link Uart16550#receive}.
 * Called on the thread that drives the machine; must not block for long (a chardev buffers).
 */
@FunctionalInterface
public interface SerialBackend {
    void transmit(byte value);

    /** Discards everything ({@code -serial none} keeps the UART, {@code null} chardev). */
    SerialBackend NULL = value -> { };
}
