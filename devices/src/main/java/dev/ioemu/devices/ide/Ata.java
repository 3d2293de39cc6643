package dev.ioemu.devices.ide;

/**
 * ATA register bit names and limits with the spec's names (shared/spec/ide.md §0, §1.6).
 */
final class Ata {
    private Ata() {
    }

    // Status register (+7 / alternate status)
    static final int STATUS_BSY = 0x80;
    static final int STATUS_DRDY = 0x40;
    static final int STATUS_DF = 0x20;
    static final int STATUS_DSC = 0x10;
    static final int STATUS_DRQ = 0x08;
    static final int STATUS_CORR = 0x04;
    static final int STATUS_IDX = 0x02;
    static final int STATUS_ERR = 0x01;

    // Error register (+1)
    static final int ERR_ABRT = 0x04;
    /** Not an error bit: EXECUTE DEVICE DIAGNOSTIC's "device 0 passed" code. */
    static final int DIAGNOSTIC_PASSED = 0x01;

    // Device/Head register (+6)
    static final int DEVICE_ALWAYS_ON = 0xA0;
    static final int DEVICE_LBA = 0x40;
    static final int DEVICE_DEV = 0x10;
    static final int DEVICE_HEAD = 0x0F;

    // Device Control register (control block)
    static final int CONTROL_HOB = 0x80;
    static final int CONTROL_SRST = 0x04;
    static final int CONTROL_NIEN = 0x02;

    static final int SECTOR_SIZE = 512;
    /** Largest READ/WRITE MULTIPLE block QEMU allows (IDENTIFY word 47). */
    static final int MAX_MULT_SECTORS = 16;
    /** LBA28 capacity cap of IDENTIFY words 60-61. */
    static final long LBA28_MAX = 0x0FFF_FFFFL;

    // Signature in Sector Count / Sector Number / Cyl Low / Cyl High (§1.6, §9.1)
    static final int ATAPI_SIGNATURE_LCYL = 0x14;
    static final int ATAPI_SIGNATURE_HCYL = 0xEB;
    static final int ABSENT_SIGNATURE_CYL = 0xFF;
}
