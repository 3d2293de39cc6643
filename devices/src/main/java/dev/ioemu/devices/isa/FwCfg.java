package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device, I/O interface only (selector + data at 0x510/0x511):
 * the items a qtest client or firmware asks for. libqos's pc allocator reads FW_CFG_RAM_SIZE to
 * know where guest RAM ends (shared/spec/qtest.md §6); SeaBIOS as {@code -bios} reads the
 * numbered items and the files listed in the file directory (shared/spec/seabios.md §6.2–§6.4):
 * {@code etc/e820} (RAM size), {@code etc/boot-fail-wait}, an empty {@code bootorder}, and
 * boot_menu = 0, which switches SeaBIOS's 2.5 s boot-menu wait off.
 *
 * <p>Register behaviour observed on QEMU 7.2: a 16-bit write at 0x510 selects an item and
 * rewinds it; an 8-bit read at 0x510 or 0x511 returns the next byte of the item (0 past its end
 * or for unknown keys); the write-channel bit 0x4000 of a key is ignored; 16/32-bit reads of the
 * selector return 0; data writes are ignored.
 * The DMA interface (0x514) is not implemented, so {@link #KEY_ID} reports the traditional
 * interface only.
 */
public final class FwCfg implements PortDevice {
    public static final int KEY_SIGNATURE = 0x0000;
    public static final int KEY_ID = 0x0001;
    public static final int KEY_UUID = 0x0002;
    public static final int KEY_RAM_SIZE = 0x0003;
    public static final int KEY_NOGRAPHIC = 0x0004;
    public static final int KEY_NB_CPUS = 0x0005;
    public static final int KEY_NUMA = 0x000d;
    public static final int KEY_BOOT_MENU = 0x000e;
    public static final int KEY_MAX_CPUS = 0x000f;
    public static final int KEY_FILE_DIR = 0x0019;
    /** First key of the files; QEMU numbers them in name order from here. */
    public static final int KEY_FILE_FIRST = 0x0020;
    /** Architecture-specific items (x86): legacy ACPI and SMBIOS tables (none: count 0). */
    public static final int KEY_ARCH_ACPI_TABLES = 0x8000;
    public static final int KEY_ARCH_SMBIOS_ENTRIES = 0x8001;
    /** Architecture-specific item (x86): IRQ0 is routed to IOAPIC pin 2. */
    public static final int KEY_ARCH_IRQ0_OVERRIDE = 0x8002;
    /** Legacy e820 reservations (count 0); SeaBIOS reads it only without {@code etc/e820}. */
    public static final int KEY_ARCH_E820_TABLE = 0x8003;

    /** File names SeaBIOS looks up (shared/spec/seabios.md §6.4). */
    public static final String FILE_E820 = "etc/e820";
    public static final String FILE_BOOT_FAIL_WAIT = "etc/boot-fail-wait";
    public static final String FILE_BOOTORDER = "bootorder";
    /** QEMU's default {@code -boot reboot-timeout}: -1, wait forever after "No bootable device". */
    public static final int BOOT_FAIL_WAIT_FOREVER = -1;
    /** One directory entry: u32 size, u16 key, u16 reserved, 56-byte name (all big-endian). */
    private static final int FILE_ENTRY_SIZE = 64;
    private static final int FILE_NAME_SIZE = 56;

    /** Selector bit 14: QEMU's write channel, ignored for reads (0x4000 reads item 0). */
    private static final int WRITE_CHANNEL = 0x4000;

    /** FW_CFG_ID bit 0: the traditional selector/data interface. */
    private static final int ID_TRADITIONAL = 0x1;

    private static final int OFFSET_SELECTOR = 0;

    private final Map<Integer, byte[]> items = new TreeMap<>();
    private final Map<String, byte[]> files = new TreeMap<>();
    private int selected = KEY_SIGNATURE;
    private int position;

    /**
     * A device describing a single-CPU machine with {@code ramSize} bytes of RAM, of which
     * {@code ramBelowFourGib} lie below 4 GiB and the rest from 4 GiB up (QEMU's layout).
     */
    public FwCfg(long ramSize, long ramBelowFourGib) {
        items.put(KEY_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(KEY_ID, littleEndian(ID_TRADITIONAL, 4));
        items.put(KEY_UUID, new byte[16]);
        items.put(KEY_RAM_SIZE, littleEndian(ramSize, 8));
        items.put(KEY_NOGRAPHIC, littleEndian(0, 2));
        items.put(KEY_NB_CPUS, littleEndian(1, 2));
        items.put(KEY_NUMA, littleEndian(0, 8));
        items.put(KEY_BOOT_MENU, littleEndian(0, 2));
        items.put(KEY_MAX_CPUS, littleEndian(1, 2));
        items.put(KEY_ARCH_ACPI_TABLES, littleEndian(0, 2));
        items.put(KEY_ARCH_SMBIOS_ENTRIES, littleEndian(0, 2));
        items.put(KEY_ARCH_IRQ0_OVERRIDE, littleEndian(1, 4));
        items.put(KEY_ARCH_E820_TABLE, littleEndian(0, 4));
        addFile(FILE_BOOTORDER, new byte[0]);
        addFile(FILE_BOOT_FAIL_WAIT, littleEndian(BOOT_FAIL_WAIT_FOREVER, 4));
        addFile(FILE_E820, E820Table.ram(ramSize, ramBelowFourGib).bytes());
    }

    /** A machine whose RAM lies wholly below 4 GiB. */
    public FwCfg(long ramSize) {
        this(ramSize, ramSize);
    }

    /**
     * Adds (or replaces) a file; keys are renumbered in name order from {@link #KEY_FILE_FIRST},
     * as QEMU does. Machine set-up only.
     */
    public synchronized void addFile(String name, byte[] contents) {
        byte[] encoded = name.getBytes(StandardCharsets.US_ASCII);
        if (encoded.length == 0 || encoded.length >= FILE_NAME_SIZE) {
            throw new IllegalArgumentException("fw_cfg file name: '" + name + "' (expected: 1 to "
                    + (FILE_NAME_SIZE - 1) + " ASCII characters)");
        }
        files.put(name, contents.clone());
        ByteBuffer dir = ByteBuffer.allocate(4 + FILE_ENTRY_SIZE * files.size()).order(ByteOrder.BIG_ENDIAN);
        dir.putInt(files.size());
        int key = KEY_FILE_FIRST;
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            byte[] n = f.getKey().getBytes(StandardCharsets.US_ASCII);
            dir.putInt(f.getValue().length).putShort((short) key).putShort((short) 0).put(n)
                    .put(new byte[FILE_NAME_SIZE - n.length]);
            items.put(key++, f.getValue());
        }
        items.put(KEY_FILE_DIR, dir.array());
    }

    private static byte[] littleEndian(long value, int bytes) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        byte[] out = new byte[bytes];
        System.arraycopy(b.array(), 0, out, 0, bytes);
        return out;
    }

    /** Machine reset selects the signature again. */
    public synchronized void reset() {
        selected = KEY_SIGNATURE;
        position = 0;
    }

    @Override
    public synchronized int read(int offset, int size) {
        if (size != 1) {
            return 0;
        }
        byte[] item = items.get(selected & ~WRITE_CHANNEL);
        if (item == null || position >= item.length) {
            return 0;
        }
        return item[position++] & 0xff;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        if (offset == OFFSET_SELECTOR && size == 2) {
            selected = value & 0xffff;
            position = 0;
        }
    }

    @Override
    public String name() {
        return "fw_cfg";
    }
}
