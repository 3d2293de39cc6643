package dev.ioemu.devices.bus;

/**
 * A device's memory-mapped registers (an IOAPIC, a local APIC, an HPET): the address space calls
 * it with the offset inside its mapping, never the guest-physical address, so the device does not
 * know where it is mapped. Accesses are 1, 2, 4 or 8 bytes, naturally aligned inside the mapping
 * (the address space splits others); values are little-endian and zero-extended.
 */
public interface MmioDevice {
    long read(long offset, int size);

    void write(long offset, int size, long value);
}
