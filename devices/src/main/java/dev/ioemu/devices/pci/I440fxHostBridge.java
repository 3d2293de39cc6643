package dev.ioemu.devices.pci;

/**
 * The i440FX PCI host bridge function at 00:00.0 (8086:1237). Its identity and the generic
 * writable registers are modelled; the chipset registers at 0x40+ are plain storage. The PAM
 * registers (0x59-0x5F) and SMRAM (0x72) read back what was written and take their power-on
 * values on reset, but remap nothing: with {@code -bios}, 0xc0000-0xfffff is always-writable
 * shadow RAM, the design shared/spec/seabios.md §4.3 recommends (SeaBIOS's unlock and lock are
 * then stored and harmless, as under QEMU + KVM).
 */
public final class I440fxHostBridge implements PciFunction {
    public static final int DEVFN = 0x00;
    private static final int VENDOR_INTEL = 0x8086;
    private static final int DEVICE_82441 = 0x1237;
    private static final int REVISION = 0x02;
    private static final int CLASS_HOST_BRIDGE = 0x060000;
    /** PAM0: high nibble controls 0xF0000-0xFFFFF; PAM1-PAM6 follow, one 16 KiB segment per nibble. */
    public static final int PAM0 = 0x59;
    public static final int PAM_COUNT = 7;
    /** SMRAM control; QEMU's power-on value 0x02 (C_BASE_SEG: SMRAM at 0xA0000, closed). */
    public static final int SMRAM = 0x72;
    public static final int SMRAM_POWER_ON = 0x02;

    private final PciConfigSpace config = new PciConfigSpace();

    public I440fxHostBridge() {
        config.setIdentity(VENDOR_INTEL, DEVICE_82441, REVISION, CLASS_HOST_BRIDGE, 0);
        config.setDefaultWriteMasks();
        powerOnChipsetRegisters();
    }

    /** PAM closed (every segment reads ROM/PCI), SMRAM at its default. */
    private void powerOnChipsetRegisters() {
        for (int i = 0; i < PAM_COUNT; i++) {
            config.set8(PAM0 + i, 0);
        }
        config.set8(SMRAM, SMRAM_POWER_ON);
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
        // The shadow RAM is reloaded from the image on reset (seabios.md §10), so PAM must say
        // "closed" again: SeaBIOS then runs a cold POST from the pristine copy.
        powerOnChipsetRegisters();
    }
}
