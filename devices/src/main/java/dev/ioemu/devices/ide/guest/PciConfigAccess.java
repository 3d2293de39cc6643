package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.pci.PciConfigSpace;

/**
 * PCI configuration mechanism #1 as a guest uses it: the function and offset latched in
 * CONFIG_ADDRESS (0xCF8), the data at CONFIG_DATA (0xCFC). As libqos does, the offset goes into
 * the latch unaligned and the data is always read at 0xCFC (shared/spec/ide.md §8.5). I/O BARs
 * are assigned from libqos's I/O window, which starts at 0xC000.
 */
public final class PciConfigAccess {
    public static final int CONFIG_ADDRESS = 0xCF8;
    public static final int CONFIG_DATA = 0xCFC;
    private static final int CONFIG_ENABLE = 0x8000_0000;
    /** libqos's first I/O BAR allocation (qtest.md §6). */
    public static final int IO_WINDOW_BASE = 0xC000;
    private static final int BAR_IO_SPACE = 0x01;
    private static final int BAR_IO_ADDRESS_MASK = ~0x3;

    private final GuestTransport transport;
    private int nextIoBar = IO_WINDOW_BASE;

    public PciConfigAccess(GuestTransport transport) {
        this.transport = transport;
    }

    /** Reads {@code size} bytes (1, 2 or 4) at {@code offset} of function {@code devfn} on bus 0. */
    public int read(int devfn, int offset, int size) {
        transport.outl(CONFIG_ADDRESS, CONFIG_ENABLE | devfn << 8 | offset);
        return transport.in(CONFIG_DATA, size);
    }

    public void write(int devfn, int offset, int size, int value) {
        transport.outl(CONFIG_ADDRESS, CONFIG_ENABLE | devfn << 8 | offset);
        transport.out(CONFIG_DATA, size, value);
    }

    /** Vendor ID in the low half, device ID in the high half; 0xFFFFFFFF for an absent function. */
    public int id(int devfn) {
        return read(devfn, PciConfigSpace.VENDOR_ID, 4);
    }

    /** Base class, subclass and programming interface (the class code's 24 bits). */
    public int classCode(int devfn) {
        return read(devfn, PciConfigSpace.REVISION_ID, 4) >>> 8;
    }

    /**
     * Sizes I/O BAR {@code bar} (all-ones written, the mask read back) and assigns it {@code base};
     * returns its size in bytes.
     *
     * @throws GuestDriverException if the BAR is not an I/O BAR
     */
    public int assignIoBar(int devfn, int bar, int base) {
        int size = sizeIoBar(devfn, bar);
        write(devfn, PciConfigSpace.BASE_ADDRESS_0 + 4 * bar, 4, base | BAR_IO_SPACE);
        return size;
    }

    /** {@code qpci_iomap}: sizes I/O BAR {@code bar} and assigns it the next free range of the I/O window. */
    public int iomap(int devfn, int bar) {
        int size = sizeIoBar(devfn, bar);
        int base = (nextIoBar + size - 1) & -size;
        nextIoBar = base + size;
        write(devfn, PciConfigSpace.BASE_ADDRESS_0 + 4 * bar, 4, base | BAR_IO_SPACE);
        return base;
    }

    private int sizeIoBar(int devfn, int bar) {
        int offset = PciConfigSpace.BASE_ADDRESS_0 + 4 * bar;
        write(devfn, offset, 4, 0xFFFF_FFFF);
        int mask = read(devfn, offset, 4);
        if ((mask & BAR_IO_SPACE) == 0) {
            throw new GuestDriverException(String.format("BAR%d of PCI function %02x.%d: 0x%08x after sizing"
                    + " (expected an I/O BAR, bit 0 set)", bar, devfn >> 3, devfn & 7, mask));
        }
        return Integer.lowestOneBit(mask & BAR_IO_ADDRESS_MASK);
    }

    /**
     * Sets {@code bits} in the command register (e.g. I/O | memory | bus master) and checks that
     * they stick.
     *
     * @throws GuestDriverException if a bit does not stick
     */
    public void enable(int devfn, int bits) {
        int command = read(devfn, PciConfigSpace.COMMAND, 2) | bits;
        write(devfn, PciConfigSpace.COMMAND, 2, command);
        int now = read(devfn, PciConfigSpace.COMMAND, 2);
        if ((now & bits) != bits) {
            throw new GuestDriverException(String.format("PCI function %02x.%d command register 0x%04x"
                    + " (expected bits 0x%04x to stick)", devfn >> 3, devfn & 7, now, bits));
        }
    }

    /** Replaces the command register (e.g. to turn bus mastering off again). */
    public void setCommand(int devfn, int command) {
        write(devfn, PciConfigSpace.COMMAND, 2, command);
    }
}
