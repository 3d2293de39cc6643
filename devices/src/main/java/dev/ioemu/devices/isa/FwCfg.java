package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

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
 * The DMA interface (0x514-0x51B, {@link #dmaPort}) is advertised in {@link #KEY_ID} once guest
 * memory is attached ({@link #enableDma}); SeaBIOS then reads every item through it
 * (shared/spec/seabios.md §6.1).
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

    /** FW_CFG_ID bit 0: the traditional selector/data interface; bit 1: the DMA interface. */
    private static final int ID_TRADITIONAL = 0x1;
    private static final int ID_DMA = 0x2;

    /** DMA descriptor control bits (big-endian u32; the key of a select in bits 31-16). */
    public static final int DMA_CTL_ERROR = 0x01;
    public static final int DMA_CTL_READ = 0x02;
    public static final int DMA_CTL_SKIP = 0x04;
    public static final int DMA_CTL_SELECT = 0x08;
    public static final int DMA_CTL_WRITE = 0x10;
    /** The DMA registers' read-back: "QEMU CFG" in port order. */
    private static final byte[] DMA_SIGNATURE = "QEMU CFG".getBytes(StandardCharsets.US_ASCII);
    /** Descriptor: u32 control, u32 length, u64 address. */
    private static final int DMA_DESCRIPTOR_SIZE = 16;
    /** Offsets in the DMA register block: address bits 63-32, then 31-0 (whose write starts it). */
    private static final int DMA_ADDRESS_HIGH = 0;
    private static final int DMA_ADDRESS_LOW = 4;
    /** Reads past an item's end are zero-filled in pieces of this size. */
    private static final int DMA_ZERO_CHUNK = 64 * 1024;

    private static final int OFFSET_SELECTOR = 0;

    private final Map<Integer, byte[]> items = new TreeMap<>();
    private final Map<String, byte[]> files = new TreeMap<>();
    private int selected = KEY_SIGNATURE;
    private int position;
    private PhysicalMemory dmaMemory;
    private int dmaAddressHigh;

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

    /**
     * Lets the device copy items into guest memory through DMA descriptors and advertises that
     * in FW_CFG_ID, as QEMU 7.2 does (ID = 3). Machine set-up only; map {@link #dmaPort} too.
     */
    public synchronized void enableDma(PhysicalMemory memory) {
        dmaMemory = memory;
        items.put(KEY_ID, littleEndian(ID_TRADITIONAL | ID_DMA, 4));
    }

    /** The DMA registers (8 ports from 0x514): big-endian descriptor address, "QEMU CFG" on read. */
    public PortDevice dmaPort() {
        return new PortDevice() {
            @Override
            public int read(int offset, int size) {
                int v = 0;
                for (int i = 0; i < size; i++) {
                    int o = offset + i;
                    v |= (o < DMA_SIGNATURE.length ? DMA_SIGNATURE[o] & 0xff : 0) << (8 * i);
                }
                return v;
            }

            @Override
            public void write(int offset, int size, int value) {
                if (size == 4 && offset == DMA_ADDRESS_HIGH) {
                    synchronized (FwCfg.this) {
                        dmaAddressHigh = Integer.reverseBytes(value);
                    }
                } else if (size == 4 && offset == DMA_ADDRESS_LOW) {
                    runDma(Integer.toUnsignedLong(Integer.reverseBytes(value)));
                }
            }

            @Override
            public String name() {
                return "fw_cfg-dma";
            }
        };
    }

    /**
     * One descriptor at guest address {@code low} (plus the latched high half): select, then
     * read or skip, then the control word is written back as 0, or as ERROR for a write, an
     * address outside RAM or DMA not enabled. Reads past an item's end give zeros, as in QEMU.
     */
    private synchronized void runDma(long low) {
        long descriptor = Integer.toUnsignedLong(dmaAddressHigh) << 32 | low;
        dmaAddressHigh = 0;   // QEMU clears the latched high half after each transfer
        PhysicalMemory mem = dmaMemory;
        if (mem == null || !mem.isRam(descriptor, DMA_DESCRIPTOR_SIZE)) {
            return;   // nowhere to report to: the guest's descriptor is not in RAM
        }
        byte[] d = new byte[DMA_DESCRIPTOR_SIZE];
        mem.read(descriptor, d, 0, d.length);
        ByteBuffer desc = ByteBuffer.wrap(d).order(ByteOrder.BIG_ENDIAN);
        int control = desc.getInt();
        long length = Integer.toUnsignedLong(desc.getInt());
        long address = desc.getLong();
        if ((control & DMA_CTL_SELECT) != 0) {
            select(control >>> 16);
        }
        boolean ok;
        if ((control & DMA_CTL_WRITE) != 0) {
            ok = false;   // every item is read-only
        } else if ((control & DMA_CTL_READ) != 0) {
            ok = length == 0 || mem.isRam(address, length);
            if (ok) {
                byte[] item = items.get(selected & ~WRITE_CHANNEL);
                int copied = item == null || position >= item.length ? 0 : (int) Math.min(length, item.length - position);
                if (copied > 0) {
                    mem.write(address, item, position, copied);
                }
                byte[] zeros = new byte[(int) Math.min(length - copied, DMA_ZERO_CHUNK)];
                for (long done = copied; done < length; done += zeros.length) {
                    mem.write(address + done, zeros, 0, (int) Math.min(zeros.length, length - done));
                }
                position = (int) Math.min(Integer.MAX_VALUE, position + length);
            }
        } else {
            ok = true;
            if ((control & DMA_CTL_SKIP) != 0) {
                position = (int) Math.min(Integer.MAX_VALUE, position + length);
            }
        }
        if (TraceEvent.FW_CFG_DMA.enabled) {
            Trace.emit(TraceEvent.FW_CFG_DMA, control, length, address, ok ? 0 : DMA_CTL_ERROR);
        }
        byte[] status = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(ok ? 0 : DMA_CTL_ERROR).array();
        mem.write(descriptor, status, 0, status.length);
    }

    /** Selects an item and rewinds it; traced with its name as QEMU's fw_cfg_select is. */
    private void select(int key) {
        selected = key;
        position = 0;
        if (TraceEvent.FW_CFG_SELECT.enabled) {
            boolean present = items.containsKey(key & ~WRITE_CHANNEL);
            Trace.emit(TraceEvent.FW_CFG_SELECT, key, itemName(key & ~WRITE_CHANNEL), present ? 1 : 0);
        }
    }

    /** The file name of a file key, else a short name for the numbered items. */
    private String itemName(int key) {
        int file = KEY_FILE_FIRST;
        for (String name : files.keySet()) {
            if (file++ == key) {
                return name;
            }
        }
        return switch (key) {
            case KEY_SIGNATURE -> "signature";
            case KEY_ID -> "id";
            case KEY_RAM_SIZE -> "ram_size";
            case KEY_NB_CPUS -> "nb_cpus";
            case KEY_BOOT_MENU -> "boot_menu";
            case KEY_MAX_CPUS -> "max_cpus";
            case KEY_FILE_DIR -> "file_dir";
            default -> "unknown";
        };
    }

    /** Machine reset selects the signature again. */
    public synchronized void reset() {
        selected = KEY_SIGNATURE;
        position = 0;
        dmaAddressHigh = 0;
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
            select(value & 0xffff);
        }
    }

    @Override
    public String name() {
        return "fw_cfg";
    }
}
