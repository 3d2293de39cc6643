package dev.ioemu.tests.guest;

/**
 * The probe's disk images (tests/guest/build-probe.sh) and the logical geometry SeaBIOS derives
 * for each (shared/spec/int13.md §5.2-§5.5): the expected INT 13h answers follow from these.
 */
enum ProbeImage {
    /** 64 MiB: QEMU's default PCHS 130/16/63, no translation. */
    SIZE_64M("probe-64m.img", 131_072L, 130, 16, 63),
    /** 10 GiB sparse: LBA-assisted translation, clipped to 1024/255/63. */
    SIZE_10G("probe-10g.img", 20_971_520L, 1024, 255, 63),
    /** 64 MiB whose partition ends at head 15, sector 32: QEMU guesses PCHS 256/16/32 (§5.8). */
    PARTITION_GEOMETRY("probe-part.img", 131_072L, 256, 16, 32);

    final String file;
    final long sectors;
    final int cylinders;
    final int heads;
    final int sectorsPerTrack;

    ProbeImage(String file, long sectors, int cylinders, int heads, int sectorsPerTrack) {
        this.file = file;
        this.sectors = sectors;
        this.cylinders = cylinders;
        this.heads = heads;
        this.sectorsPerTrack = sectorsPerTrack;
    }

    /** AH=08h CX: maximum cylinder LC-2 (SeaBIOS keeps the last one), packed with the sectors per track. */
    String ah08Ecx() {
        int maxCylinder = cylinders - 2;
        int ch = maxCylinder & 0xFF;
        int cl = ((maxCylinder >> 2) & 0xC0) | sectorsPerTrack;
        return String.format("0000%02X%02X", ch, cl);
    }

    /** AH=08h DX: maximum head, one hard disk. */
    String ah08Edx() {
        return String.format("0000%02X01", heads - 1);
    }

    /** AH=15h CX:DX = (LC-1) * LH * LS. */
    long ah15Sectors() {
        return (long) (cylinders - 1) * heads * sectorsPerTrack;
    }

    /** The total sector count as the little-endian qword AH=48h returns at offset 10h. */
    String totalLittleEndian() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            s.append(String.format("%02X", (sectors >>> (8 * i)) & 0xFF));
        }
        return s.toString();
    }

    /** Whether CHS (c, h, s) addresses a sector inside the logical geometry. */
    boolean chsInRange(int c, int h, int s) {
        return s >= 1 && s <= sectorsPerTrack && h < heads && c < cylinders;
    }
}
