package dev.ioemu.devices.pci;

/**
 * The PIIX3 PCI-to-ISA bridge, function 0 of device 1 (01.0, 8086:7000). Its header type has the
 * multi-function bit, which is what makes a guest probe 01.1 (the IDE function). The ISA-side
 * registers (PIRQ routing, ...) are plain storage.
 */
public final class Piix3IsaBridge implements PciFunction {
    public static final int DEVFN = 0x08;
    private static final int VENDOR_INTEL = 0x8086;
    private static final int DEVICE_82371SB_ISA = 0x7000;
    private static final int CLASS_ISA_BRIDGE = 0x060100;

    private final PciConfigSpace config = new PciConfigSpace();

    public Piix3IsaBridge() {
        config.setIdentity(VENDOR_INTEL, DEVICE_82371SB_ISA, 0, CLASS_ISA_BRIDGE,
                PciConfigSpace.HEADER_TYPE_MULTI_FUNCTION);
        config.setDefaultWriteMasks();
    }

    @Override
    public int configRead(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        config.write(offset, size, value);
    }

    @Override
    public void reset() {
        config.resetCommon();
    }
}
