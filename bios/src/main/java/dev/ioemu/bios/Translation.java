package dev.ioemu.bios;

/**
 * How the logical (INT 13h) geometry was derived from the physical one (shared/spec/int13.md
 * §5.3–5.4). The first four are SeaBIOS's modes, selected under QEMU by CMOS byte 39h; the last
 * two are the HLE's own sources (§5.8).
 */
public enum Translation {
    NONE,
    /** LBA-assisted: 63 sectors, heads 16…255 by size. */
    LBA,
    /** ECHS bit-shift: halve cylinders, double heads while C > 1024. */
    LARGE,
    /** Revised ECHS (16 heads become 15 first). */
    RECHS,
    /** The user's {@code bios-chs=C/H/S}. */
    HOST,
    /** The geometry the partition table was written with. */
    PARTITION_TABLE;

    /** CMOS 39h / DPTE bits 10–9 encoding: 0 none, 1 LBA, 2 large, 3 R-ECHS; HLE sources count as none-type. */
    int dpteTranslationType() {
        return switch (this) {
            case LBA -> 1;
            case RECHS -> 3;
            default -> 0;
        };
    }

    /**
     * SeaBIOS's {@code setup_translation}: the logical geometry this mode gives for a physical
     * geometry and disk size, cylinders finally clipped to 1024.
     */
    Chs logicalFor(Chs physical, long totalSectors) {
        int c = physical.cylinders();
        int h = physical.heads();
        int s = physical.sectors();
        switch (this) {
            case NONE, HOST, PARTITION_TABLE -> { }
            case LBA -> {
                s = 63;
                if (totalSectors > 63L * 255 * 1024) {
                    h = 255;
                    c = 1024;
                } else {
                    long t = (totalSectors & 0xFFFF_FFFFL) / 63;
                    long perCylinder = t / 1024;
                    h = perCylinder > 128 ? 255 : perCylinder > 64 ? 128 : perCylinder > 32 ? 64
                            : perCylinder > 16 ? 32 : 16;
                    c = (int) (t / h);
                }
            }
            case RECHS, LARGE -> {
                if (this == RECHS && h == 16) {
                    c = Math.min(c, 61439);
                    h = 15;
                    c = (c * 16 / 15) & 0xFFFF;
                }
                while (c > 1024) {
                    c >>= 1;
                    h <<= 1;
                    if (h > 127) {
                        break;
                    }
                }
            }
        }
        return new Chs(Math.min(c, Chs.MAX_BIOS_CYLINDERS), h, s);
    }
}
