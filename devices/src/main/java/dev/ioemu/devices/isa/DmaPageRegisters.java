package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

/**
 * The PC's DMA page registers: plain byte storage (QEMU answers what was written, 0 at
 * power-on). Map one instance per run of ports, e.g. 0x81-0x83, 0x87, 0x89-0x8b and 0x8f; the
 * unused page ports (0x80, 0x84-0x86, 0x88, 0x8c-0x8e) stay unmapped as in QEMU 7.2.
 */
public final class DmaPageRegisters implements PortDevice {
    private final String name;
    private final byte[] pages;

    public DmaPageRegisters(String name, int ports) {
        this.name = name;
        this.pages = new byte[ports];
    }

    @Override
    public synchronized int read(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            int o = offset + i;
            value |= (o < pages.length ? pages[o] & 0xff : 0xff) << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        for (int i = 0; i < size && offset + i < pages.length; i++) {
            pages[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    @Override
    public String name() {
        return name;
    }
}
