package dev.ioemu.bios;

/**
 * Where an INT 13h disk sits on the IDE controller, for the AH=48h DPTE and EDD-3 device path
 * (shared/spec/int13.md §3.11): channel, master/slave, the channel's legacy ports and IRQ, and
 * the controller's PCI address.
 */
public record AtaLocation(int channel, boolean slave, int commandBase, int controlBase, int irq,
                          int pciBus, int pciDevice, int pciFunction) {
    /** PIIX3 IDE at 00:01.1 with the legacy channel resources (1F0h/3F6h IRQ 14, 170h/376h IRQ 15). */
    public static AtaLocation piix3(int channel, int unit) {
        if (channel < 0 || channel > 1 || unit < 0 || unit > 1) {
            throw new IllegalArgumentException("IDE position: channel " + channel + " unit " + unit
                    + " (expected: channel 0-1, unit 0-1)");
        }
        return channel == 0
                ? new AtaLocation(0, unit == 1, 0x1F0, 0x3F6, 14, 0, 1, 1)
                : new AtaLocation(1, unit == 1, 0x170, 0x376, 15, 0, 1, 1);
    }
}
