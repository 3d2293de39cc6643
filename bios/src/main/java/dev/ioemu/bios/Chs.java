package dev.ioemu.bios;

/** A cylinder/head/sector geometry: counts, not maximum numbers (shared/spec/int13.md §5). */
public record Chs(int cylinders, int heads, int sectors) {
    /** INT 13h's CHS limits: 10-bit cylinder, 255 heads (DOS cannot use 256), 6-bit sector. */
    public static final int MAX_BIOS_CYLINDERS = 1024;
    public static final int MAX_BIOS_HEADS = 255;
    public static final int MAX_BIOS_SECTORS = 63;

    /**
     * Written out: a record's generated equals links through java.lang.runtime.ObjectMethods on
     * first use, which spins method-handle classes (~40 ms at start-up, in every boot's POST).
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof Chs c && c.cylinders == cylinders && c.heads == heads && c.sectors == sectors;
    }

    @Override
    public int hashCode() {
        return (cylinders * 31 + heads) * 31 + sectors;
    }

    public long sectorCount() {
        return (long) cylinders * heads * sectors;
    }

    /**
     * Parses the {@code bios-chs=C/H/S} drive option: a logical geometry the guest's OS was
     * installed with (SeaBIOS's host-supplied LCHS, int13.md §5.3 and §5.8).
     *
     * @throws IllegalArgumentException naming the value and the accepted ranges
     */
    public static Chs parseBiosChs(String text) {
        String[] parts = text.split("/", -1);
        String expected = " (expected: C/H/S with 1 ≤ C ≤ " + MAX_BIOS_CYLINDERS + ", 1 ≤ H ≤ " + MAX_BIOS_HEADS
                + ", 1 ≤ S ≤ " + MAX_BIOS_SECTORS + ", e.g. 1024/255/63)";
        if (parts.length != 3) {
            throw new IllegalArgumentException("bios-chs: " + text + expected);
        }
        int[] v = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bios-chs: " + text + expected);
            }
        }
        if (v[0] < 1 || v[0] > MAX_BIOS_CYLINDERS || v[1] < 1 || v[1] > MAX_BIOS_HEADS
                || v[2] < 1 || v[2] > MAX_BIOS_SECTORS) {
            throw new IllegalArgumentException("bios-chs: " + text + expected);
        }
        return new Chs(v[0], v[1], v[2]);
    }

    @Override
    public String toString() {
        return cylinders + "/" + heads + "/" + sectors;
    }
}
