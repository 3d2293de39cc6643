package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.GpioPins;

/**
 * A device as qtest addresses it: a QOM path (e.g. {@code /machine/i440fx/ioapic}) with its
 * unnamed input and output GPIO pins. Only devices a qtest client can name are published.
 */
public record QomDevice(String path, GpioPins inputs, GpioPins outputs) {
}
