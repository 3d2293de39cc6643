package dev.ioemu.devices.pci;

/**
 * The i440FX PCI host bridge function at 00:00.0 (8086:1237). Only its identity and the
 * generic writable registers are modelled; the PAM/SMRAM chipset registers at 0x40+ are plain
 * storage (no memory remapping in ioemu).
 */
public final class I440fxHostBridge implements PciFunction {
    public static final int DEVFN = 0x00;
    private static final int VENDOR_INTEL = 0x8086;
    private static final int DEVICE_82441 = 0x1237;
    private static final int REVISION = 0x02;
    private static final int CLASS_HOST_BRIDGE = 0x060000;

    private final PciConfigSpace config = new PciConfigSpace();

    public I440fxHostBridge() {
        config.setIdentity(VENDOR_INTEL, DEVICE_82441, REVISION, CLASS_HOST_BRIDGE, 0);
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
