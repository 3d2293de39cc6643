package dev.ioemu.bios;

/**
 * A hard disk's geometries as INT 13h reports them (shared/spec/int13.md §5): the physical one
 * (ATA IDENTIFY, QEMU's default for the image, reported by AH=48h) and the logical one (AH=02h/08h/15h),
 * with the translation that links them.
 *
 * <p>Sources of the logical geometry, in order (§5.8): the user's {@code bios-chs} override;
 * the geometry the image's partition table was written with (policy {@link Policy#PARTITION_TABLE_FIRST});
 * otherwise what SeaBIOS computes under QEMU from QEMU's translation hint (§5.2–5.4).
 */
public record DiskGeometry(long totalSectors, Chs physical, Chs logical, Translation translation) {
    /** Whether a partition table may set the logical geometry. */
    public enum Policy {
        /** int13.md §5.8: the geometry the partition table was written with wins (the default). */
        PARTITION_TABLE_FIRST,
        /** Exactly what SeaBIOS shows under QEMU 7.2 (for comparisons with it). */
        SEABIOS
    }

    static final int STANDARD_HEADS = 16;
    static final int STANDARD_SECTORS = 63;
    static final int MAX_ATA_CYLINDERS = 16383;
    /** QEMU picks LARGE over LBA when physical C × H is at most this (hw/block/hd-geometry.c). */
    static final long LARGE_LIMIT = 131072;
    private static final int MBR_SIGNATURE = 510;
    private static final int MBR_PARTITION_TABLE = 0x1BE;
    private static final int MBR_ENTRY_SIZE = 16;

    /**
     * Computes the geometries of a disk of {@code totalSectors} 512-byte sectors.
     *
     * @param sector0  the image's first sector (512 bytes), or null if it could not be read
     * @param override the {@code bios-chs} value, or null
     */
    public static DiskGeometry of(long totalSectors, byte[] sector0, Chs override, Policy policy) {
        Chs guess = sector0 == null ? null : partitionTableGeometry(sector0, totalSectors);
        Chs physical;
        Translation hint;
        if (guess == null) {
            physical = standard(totalSectors);
            hint = physical.cylinders() <= 1024 ? Translation.NONE : Translation.LBA;
        } else if (guess.heads() > STANDARD_HEADS) {
            // A partition table with more than 16 heads was written through a BIOS translation,
            // so QEMU keeps the standard physical geometry and hints LARGE or LBA.
            physical = standard(totalSectors);
            hint = (long) physical.cylinders() * physical.heads() <= LARGE_LIMIT ? Translation.LARGE : Translation.LBA;
        } else {
            physical = guess;
            hint = Translation.NONE;
        }
        if (override != null) {
            return new DiskGeometry(totalSectors, physical, override, Translation.HOST);
        }
        if (guess != null && policy == Policy.PARTITION_TABLE_FIRST && hasValidBootIndicators(sector0)) {
            Chs logical = new Chs(Math.min(guess.cylinders(), Chs.MAX_BIOS_CYLINDERS), guess.heads(), guess.sectors());
            return new DiskGeometry(totalSectors, physical, logical, Translation.PARTITION_TABLE);
        }
        return new DiskGeometry(totalSectors, physical, hint.logicalFor(physical, totalSectors), hint);
    }

    /** QEMU's geometry without a partition table: 16 heads, 63 sectors, cylinders clamped to [2, 16383]. */
    static Chs standard(long totalSectors) {
        long cylinders = totalSectors / (STANDARD_HEADS * STANDARD_SECTORS);
        cylinders = Math.max(2, Math.min(MAX_ATA_CYLINDERS, cylinders));
        return new Chs((int) cylinders, STANDARD_HEADS, STANDARD_SECTORS);
    }

    /**
     * QEMU's {@code guess_disk_lchs}: the first MBR entry with a size and a non-zero end head
     * gives heads = end head + 1 and sectors = end sector; cylinders = total / (H × S), accepted
     * if 1 … 16383. Null if the sector has no 55AA signature or no usable entry.
     */
    static Chs partitionTableGeometry(byte[] mbr, long totalSectors) {
        if (mbr.length < 512 || (mbr[MBR_SIGNATURE] & 0xFF) != 0x55 || (mbr[MBR_SIGNATURE + 1] & 0xFF) != 0xAA) {
            return null;
        }
        for (int i = 0; i < 4; i++) {
            int entry = MBR_PARTITION_TABLE + i * MBR_ENTRY_SIZE;
            long length = (mbr[entry + 12] & 0xFFL) | (mbr[entry + 13] & 0xFFL) << 8
                    | (mbr[entry + 14] & 0xFFL) << 16 | (mbr[entry + 15] & 0xFFL) << 24;
            int endHead = mbr[entry + 5] & 0xFF;
            int endSector = mbr[entry + 6] & 0x3F;
            if (length == 0 || endHead == 0 || endSector == 0) {
                continue;
            }
            int heads = endHead + 1;
            long cylinders = totalSectors / ((long) heads * endSector);
            if (cylinders < 1 || cylinders > MAX_ATA_CYLINDERS) {
                continue;
            }
            return new Chs((int) cylinders, heads, endSector);
        }
        return null;
    }

    /**
     * True if every MBR entry's boot indicator is 00h or 80h, as fdisk writes them and Linux's
     * msdos parser requires. A boot sector without a partition table often has code or text
     * there; QEMU's guess (and so SeaBIOS) reads geometry from such bytes anyway, but we let
     * only a real table override the standard geometry.
     */
    static boolean hasValidBootIndicators(byte[] mbr) {
        for (int i = 0; i < 4; i++) {
            int flag = mbr[MBR_PARTITION_TABLE + i * MBR_ENTRY_SIZE] & 0xFF;
            if (flag != 0x00 && flag != 0x80) {
                return false;
            }
        }
        return true;
    }

    /** AH=48h flag bit 1 and the reported cylinders: SeaBIOS calls the CHS invalid past 16383 × H × S. */
    boolean physicalChsValid() {
        return totalSectors <= (long) physical.heads() * physical.sectors() * MAX_ATA_CYLINDERS;
    }
}
