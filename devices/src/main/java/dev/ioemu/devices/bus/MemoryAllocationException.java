package dev.ioemu.devices.bus;

/**
 * The host refused memory for the guest (RAM or ROM). The message is one line for the user,
 * e.g. "cannot allocate pc.ram: 65536 MiB (Cannot allocate memory)"; front ends print it and exit 1.
 */
public final class MemoryAllocationException extends RuntimeException {
    public MemoryAllocationException(String message) {
        super(message, null, false, false);
    }
}
