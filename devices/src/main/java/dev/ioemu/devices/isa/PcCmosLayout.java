package dev.ioemu.devices.isa;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The CMOS bytes QEMU 7.2's pc machine writes for its firmware (hw/i386/pc.c {@code pc_cmos_init}),
 * as a table: base/extended memory sizes, the equipment byte, floppy and hard-disk types, the IDE
 * geometry blocks, the translation byte, boot order and the CPU count. Observed on QEMU 7.2
 * ({@code -m 128 -nodefaults}): 0x14 = 0x06, 0x15/0x16 = 0x80 0x02, 0x17/0x18 = 0xFF 0xFF,
 * 0x30/0x31 = 0xFF 0xFF, 0x34/0x35 = 0x00 0x07, 0x38 = 0x30, 0x3D = 0x12, everything else 0.
 */
public final class PcCmosLayout {
    public static final int REG_SHUTDOWN_STATUS = 0x0f;
    public static final int REG_FLOPPY_TYPES = 0x10;
    public static final int REG_HD_TYPES = 0x12;
    public static final int REG_EQUIPMENT_BYTE = 0x14;
    public static final int REG_BASE_MEM_LO = 0x15;
    public static final int REG_EXT_MEM_LO = 0x17;
    public static final int REG_HD0_EXT_TYPE = 0x19;
    public static final int REG_HD1_EXT_TYPE = 0x1a;
    public static final int REG_HD0_GEOMETRY = 0x1b;
    public static final int REG_HD1_GEOMETRY = 0x24;
    public static final int REG_EXT_MEM_POST_LO = 0x30;
    public static final int REG_MEM_ABOVE_16M_LO = 0x34;
    public static final int REG_BOOT_ORDER_3_FLOPPY_CHECK = 0x38;
    public static final int REG_IDE_TRANSLATION = 0x39;
    public static final int REG_BOOT_ORDER_1_2 = 0x3d;
    public static final int REG_MEM_ABOVE_4G = 0x5b;
    public static final int REG_CPU_COUNT_MINUS_ONE = 0x5f;

    /** Equipment byte: FPU present (bit 1), PS/2 mouse (bit 2); bits 0 and 7-6 count floppies. */
    public static final int EQUIPMENT_FPU = 0x02;
    public static final int EQUIPMENT_PS2_MOUSE = 0x04;
    /** Extended type 47 = "user-defined" geometry in the 0x1B/0x24 blocks. */
    public static final int HD_TYPE_USER = 47;

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    /** One IDE hard disk's BIOS geometry; translation 0 none, 1 LBA, 2 large, 3 r-echs. */
    public record HardDisk(int unit, int cylinders, int heads, int sectors, int translation) {
    }

    private PcCmosLayout() {
    }

    /**
     * The bytes for a machine with {@code ramSize} bytes of RAM (below 4 GiB: {@code belowFourG}),
     * boot order letters as {@code -boot order=} ({@code "cad"} is QEMU's default), hard disks on
     * IDE units 0-3 (primary master, primary slave, secondary master, secondary slave).
     */
    public static Map<Integer, Integer> contents(long belowFourG, long aboveFourG, String bootOrder,
                                                 List<HardDisk> disks) {
        Map<Integer, Integer> b = new TreeMap<>();
        b.put(REG_BASE_MEM_LO, 640 & 0xff);
        b.put(REG_BASE_MEM_LO + 1, 640 >> 8);
        long ext = Math.min(Math.max(belowFourG / KIB - 1024, 0), 65535);
        word(b, REG_EXT_MEM_LO, ext);
        word(b, REG_EXT_MEM_POST_LO, ext);
        long above16 = belowFourG > 16 * MIB ? Math.min((belowFourG - 16 * MIB) / (64 * KIB), 65535) : 0;
        word(b, REG_MEM_ABOVE_16M_LO, above16);
        long above4 = aboveFourG / (64 * KIB);
        b.put(REG_MEM_ABOVE_4G, (int) (above4 & 0xff));
        b.put(REG_MEM_ABOVE_4G + 1, (int) (above4 >> 8 & 0xff));
        b.put(REG_MEM_ABOVE_4G + 2, (int) (above4 >> 16 & 0xff));
        b.put(REG_CPU_COUNT_MINUS_ONE, 0);
        b.put(REG_EQUIPMENT_BYTE, EQUIPMENT_FPU | EQUIPMENT_PS2_MOUSE);
        int[] nibbles = new int[3];
        for (int i = 0; i < 3 && i < bootOrder.length(); i++) {
            nibbles[i] = bootDeviceNibble(bootOrder.charAt(i));
        }
        b.put(REG_BOOT_ORDER_1_2, nibbles[1] << 4 | nibbles[0]);
        b.put(REG_BOOT_ORDER_3_FLOPPY_CHECK, nibbles[2] << 4);   // bit 0 clear: floppy signature checked
        int hdTypes = 0;
        int translation = 0;
        for (HardDisk d : disks) {
            translation |= (d.translation() & 3) << (2 * d.unit());
            if (d.unit() > 1) {
                continue;   // only the primary channel has CMOS geometry blocks
            }
            hdTypes |= d.unit() == 0 ? 0xf0 : 0x0f;
            b.put(d.unit() == 0 ? REG_HD0_EXT_TYPE : REG_HD1_EXT_TYPE, HD_TYPE_USER);
            int base = d.unit() == 0 ? REG_HD0_GEOMETRY : REG_HD1_GEOMETRY;
            b.put(base, d.cylinders() & 0xff);
            b.put(base + 1, d.cylinders() >> 8 & 0xff);
            b.put(base + 2, d.heads());
            b.put(base + 3, 0xff);   // write precompensation: none
            b.put(base + 4, 0xff);
            b.put(base + 5, 0xc0 | (d.heads() > 8 ? 0x08 : 0));
            b.put(base + 6, d.cylinders() & 0xff);   // landing zone = cylinders
            b.put(base + 7, d.cylinders() >> 8 & 0xff);
            b.put(base + 8, d.sectors());
        }
        b.put(REG_HD_TYPES, hdTypes);
        b.put(REG_IDE_TRANSLATION, translation & 0xff);
        return b;
    }

    private static void word(Map<Integer, Integer> b, int at, long value) {
        b.put(at, (int) (value & 0xff));
        b.put(at + 1, (int) (value >> 8 & 0xff));
    }

    /** QEMU's boot-device nibbles: a/b floppy 1, c disk 2, d CD-ROM 3, n network 4. */
    private static int bootDeviceNibble(char c) {
        return switch (c) {
            case 'a', 'b' -> 1;
            case 'c' -> 2;
            case 'd' -> 3;
            case 'n' -> 4;
            default -> throw new IllegalArgumentException("boot device: '" + c + "' (expected: a, b, c, d or n)");
        };
    }

    /** Writes {@link #contents} into {@code rtc}. */
    public static void apply(Mc146818Rtc rtc, Map<Integer, Integer> contents) {
        contents.forEach(rtc::setCmosByte);
    }
}
