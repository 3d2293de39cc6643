package dev.ioemu.devices.ide;

/**
 * One unit's copy of the ATA command-block register file, with the HOB shadows that make LBA48
 * work, and the address arithmetic of shared/spec/ide.md §6.1.
 *
 * <p>Sector Count is kept as an int: commands convert it in place (0 → 256 or 65536), and the
 * register reads back its low byte. Guarded by the controller lock.
 */
final class AtaRegisters {
    int feature;
    int hobFeature;
    /** The internal sector counter: 0..65536 (register reads return its low 8 bits). */
    int nsector;
    int hobNsector;
    int sector;
    int hobSector;
    int lcyl;
    int hobLcyl;
    int hcyl;
    int hobHcyl;
    /** Device/Head: always stored with bits 7 and 5 set. */
    int select;
    int status;
    int error;
    /** The command in progress is an EXT (48-bit) command. */
    boolean lba48;

    /** Register values of QEMU's per-unit reset (ide_reset), before the signature is written. */
    void reset() {
        feature = 0;
        error = 0;
        nsector = 0;
        sector = 0;
        lcyl = 0;
        hcyl = 0;
        hobFeature = 0;
        hobNsector = 0;
        hobSector = 0;
        hobLcyl = 0;
        hobHcyl = 0;
        select = Ata.DEVICE_ALWAYS_ON;
        status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        lba48 = false;
    }

    /**
     * Puts the device signature in Sector Count..Cylinder High (§1.6, §9.1): 01/01 and 00/00 for
     * a disk, 14/EB for ATAPI, FF/FF where no drive is attached. Clears the head bits.
     */
    void writeSignature(IdeDriveKind kind, boolean present) {
        select &= ~Ata.DEVICE_HEAD;
        nsector = 1;
        sector = 1;
        if (kind == IdeDriveKind.CDROM) {
            lcyl = Ata.ATAPI_SIGNATURE_LCYL;
            hcyl = Ata.ATAPI_SIGNATURE_HCYL;
        } else if (present) {
            lcyl = 0;
            hcyl = 0;
        } else {
            lcyl = Ata.ABSENT_SIGNATURE_CYL;
            hcyl = Ata.ABSENT_SIGNATURE_CYL;
        }
    }

    /**
     * QEMU's count conversion at command start (§6.3): 28-bit 0 means 256; 48-bit takes the HOB
     * byte as bits 15:8 and 0/0 means 65536.
     */
    void applyCountConversion(boolean ext) {
        lba48 = ext;
        if (!ext) {
            if (nsector == 0) {
                nsector = 256;
            }
        } else if (nsector == 0 && hobNsector == 0) {
            nsector = 65536;
        } else {
            nsector = (hobNsector << 8) | nsector;
        }
    }

    /**
     * The starting sector the registers describe (§6.1). CHS uses {@code heads}/{@code sectors}
     * without validation, so the result may be negative (sector number 0) — callers range-check.
     */
    long address(int heads, int sectors) {
        if ((select & Ata.DEVICE_LBA) != 0) {
            if (!lba48) {
                return ((long) (select & Ata.DEVICE_HEAD) << 24) | ((long) hcyl << 16) | (lcyl << 8) | sector;
            }
            return ((long) hobHcyl << 40) | ((long) hobLcyl << 32) | ((long) hobSector << 24)
                    | ((long) hcyl << 16) | (lcyl << 8) | sector;
        }
        long cylinder = (hcyl << 8) | lcyl;
        return cylinder * heads * sectors + (long) (select & Ata.DEVICE_HEAD) * sectors + (sector - 1);
    }

    /**
     * Writes {@code lba} back in the addressing mode the registers are in (§6.1). CHS with a
     * zero heads×sectors product (INITIALIZE DEVICE PARAMETERS with 0 sectors) leaves the
     * registers unchanged — QEMU 7.2 divides by zero there.
     */
    void setAddress(long lba, int heads, int sectors) {
        if ((select & Ata.DEVICE_LBA) != 0) {
            sector = (int) (lba & 0xFF);
            lcyl = (int) ((lba >>> 8) & 0xFF);
            hcyl = (int) ((lba >>> 16) & 0xFF);
            if (!lba48) {
                select = (select & ~Ata.DEVICE_HEAD) | (int) ((lba >>> 24) & Ata.DEVICE_HEAD);
            } else {
                hobSector = (int) ((lba >>> 24) & 0xFF);
                hobLcyl = (int) ((lba >>> 32) & 0xFF);
                hobHcyl = (int) ((lba >>> 40) & 0xFF);
            }
            return;
        }
        long perCylinder = (long) heads * sectors;
        if (perCylinder == 0 || lba < 0) {
            return;
        }
        long cylinder = lba / perCylinder;
        long rest = lba % perCylinder;
        hcyl = (int) ((cylinder >>> 8) & 0xFF);
        lcyl = (int) (cylinder & 0xFF);
        select = (select & ~Ata.DEVICE_HEAD) | (int) ((rest / sectors) & Ata.DEVICE_HEAD);
        sector = (int) ((rest % sectors + 1) & 0xFF);
    }
}
