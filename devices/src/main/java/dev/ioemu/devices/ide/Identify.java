package dev.ioemu.devices.ide;

/**
 * Builds the 512-byte IDENTIFY DEVICE (disk) and IDENTIFY PACKET DEVICE (CD) blocks word for word
 * as QEMU does (shared/spec/ide.md §4). Model strings are ioemu's own; the layout, serial
 * and firmware defaults are QEMU's.
 */
final class Identify {
    static final String DEFAULT_DISK_MODEL = "IOEMU HARDDISK";
    static final String DEFAULT_CD_MODEL = "IOEMU DVD-ROM";
    /** QEMU's hardware version string, the default firmware revision. */
    static final String DEFAULT_FIRMWARE = "2.5+";

    static final int WORD_CONFIG = 0;
    static final int WORD_SERIAL = 10;
    static final int WORD_FIRMWARE = 23;
    static final int WORD_MODEL = 27;
    static final int WORD_MULTIPLE = 59;
    static final int WORD_SW_DMA = 62;
    static final int WORD_MW_DMA = 63;
    static final int WORD_COMMAND_SET_ENABLED = 85;
    static final int WORD_UDMA = 88;
    static final int SERIAL_LENGTH = 20;
    static final int FIRMWARE_LENGTH = 8;
    static final int MODEL_LENGTH = 40;

    /** Word 85 bit 5: write cache enabled. */
    static final int WRITE_CACHE_ENABLED = 1 << 5;

    private Identify() {
    }

    /** The unit's strings and sizes that IDENTIFY reports. */
    record DiskInfo(String serial, String firmware, String model, long totalSectors, int cylinders, int heads,
                    int sectors, int multSectors, boolean writeCache, boolean trim) {
    }

    /** The default serial of the unit at {@code channel}/{@code unit}: QEMU numbers every IDE unit from 1. */
    static String defaultSerial(int channel, int unit) {
        // Not String.format: its locale data would cost every VM start a few milliseconds.
        String n = Integer.toString(channel * 2 + unit + 1);
        return "QM" + "00000".substring(n.length()) + n;
    }

    /** IDENTIFY DEVICE for an ATA disk (§4.2). */
    static void buildDisk(byte[] out, DiskInfo d) {
        java.util.Arrays.fill(out, 0, 512, (byte) 0);
        put(out, WORD_CONFIG, 0x0040);
        put(out, 1, d.cylinders);
        put(out, 3, d.heads);
        put(out, 4, 512 * d.sectors);
        put(out, 5, 512);
        put(out, 6, d.sectors);
        putString(out, WORD_SERIAL, d.serial, SERIAL_LENGTH);
        put(out, 20, 0x0003);
        put(out, 21, 0x0200);
        put(out, 22, 0x0004);
        putString(out, WORD_FIRMWARE, d.firmware, FIRMWARE_LENGTH);
        putString(out, WORD_MODEL, d.model, MODEL_LENGTH);
        put(out, 47, 0x8000 | Ata.MAX_MULT_SECTORS);
        put(out, 48, 0x0001);
        put(out, 49, (1 << 11) | (1 << 9) | (1 << 8));
        put(out, 51, 0x0200);
        put(out, 52, 0x0200);
        put(out, 53, 0x0007);
        put(out, 54, d.cylinders);
        put(out, 55, d.heads);
        put(out, 56, d.sectors);
        long chsCapacity = (long) d.cylinders * d.heads * d.sectors;
        put(out, 57, (int) chsCapacity);
        put(out, 58, (int) (chsCapacity >>> 16));
        if (d.multSectors != 0) {
            put(out, WORD_MULTIPLE, 0x0100 | d.multSectors);
        }
        long lba28 = Math.min(d.totalSectors, Ata.LBA28_MAX);
        put(out, 60, (int) lba28);
        put(out, 61, (int) (lba28 >>> 16));
        put(out, WORD_SW_DMA, 0x0007);
        put(out, WORD_MW_DMA, 0x0007);
        put(out, 64, 0x0003);
        put(out, 65, 120);
        put(out, 66, 120);
        put(out, 67, 120);
        put(out, 68, 120);
        if (d.trim) {
            put(out, 69, 1 << 14);
        }
        put(out, 80, 0x00F0);
        put(out, 81, 0x0016);
        put(out, 82, (1 << 14) | (1 << 5) | 1);
        put(out, 83, (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10));
        put(out, 84, 1 << 14);
        put(out, WORD_COMMAND_SET_ENABLED, (1 << 14) | (d.writeCache ? WRITE_CACHE_ENABLED : 0) | 1);
        put(out, 86, (1 << 13) | (1 << 12) | (1 << 10));
        put(out, 87, 1 << 14);
        put(out, WORD_UDMA, 0x003F | (1 << 13));
        put(out, 93, 1 | (1 << 14) | 0x2000);
        put(out, 100, (int) d.totalSectors);
        put(out, 101, (int) (d.totalSectors >>> 16));
        put(out, 102, (int) (d.totalSectors >>> 32));
        put(out, 103, (int) (d.totalSectors >>> 48));
        put(out, 106, 0x6000);
        if (d.trim) {
            put(out, 169, 1);
        }
    }

    /** IDENTIFY PACKET DEVICE for an ATAPI CD/DVD-ROM (§4.3). */
    static void buildPacket(byte[] out, String serial, String firmware, String model) {
        java.util.Arrays.fill(out, 0, 512, (byte) 0);
        put(out, WORD_CONFIG, 0x85C0);
        putString(out, WORD_SERIAL, serial, SERIAL_LENGTH);
        put(out, 20, 0x0003);
        put(out, 21, 0x0200);
        put(out, 22, 0x0004);
        putString(out, WORD_FIRMWARE, firmware, FIRMWARE_LENGTH);
        putString(out, WORD_MODEL, model, MODEL_LENGTH);
        put(out, 48, 0x0001);
        put(out, 49, 0x0300);
        put(out, 53, 0x0007);
        put(out, WORD_SW_DMA, 0x0007);
        put(out, WORD_MW_DMA, 0x0007);
        put(out, 64, 0x0003);
        put(out, 65, 0x00B4);
        put(out, 66, 0x00B4);
        put(out, 67, 0x012C);
        put(out, 68, 0x00B4);
        put(out, 71, 0x001E);
        put(out, 72, 0x001E);
        put(out, 80, 0x001E);
        put(out, WORD_UDMA, 0x003F | (1 << 13));
    }

    static void put(byte[] out, int word, int value) {
        out[2 * word] = (byte) value;
        out[2 * word + 1] = (byte) (value >>> 8);
    }

    static int get(byte[] in, int word) {
        return (in[2 * word] & 0xFF) | (in[2 * word + 1] & 0xFF) << 8;
    }

    /** ATA string: space padded, first character of each pair in the high byte (§4.1). */
    static void putString(byte[] out, int word, String text, int length) {
        for (int i = 0; i < length; i++) {
            char c = i < text.length() ? text.charAt(i) : ' ';
            out[2 * word + (i ^ 1)] = (byte) (c < 0x80 ? c : '?');
        }
    }
}
