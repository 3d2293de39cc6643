package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device, I/O interface only (selector + data at 0x510/0x511):
 * the few items a qtest client or firmware asks for first. libqos's pc allocator reads
 * FW_CFG_RAM_SIZE to know where guest RAM ends (shared/spec/qtest.md §6).
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
    public static final int KEY_NB_CPUS = 0x0005;
    public static final int KEY_MAX_CPUS = 0x000f;
    public static final int KEY_FILE_DIR = 0x0019;
    /** Architecture-specific item (x86): IRQ0 is routed to IOAPIC pin 2. */
    public static final int KEY_ARCH_IRQ0_OVERRIDE = 0x8002;

    /** Selector bit 14: QEMU's write channel, ignored for reads (0x4000 reads item 0). */
    private static final int WRITE_CHANNEL = 0x4000;

    /** FW_CFG_ID bit 0: the traditional selector/data interface. */
    private static final int ID_TRADITIONAL = 0x1;

    private static final int OFFSET_SELECTOR = 0;

    private final Map<Integer, byte[]> items = new TreeMap<>();
    private int selected = KEY_SIGNATURE;
    private int position;

    /** A device describing a single-CPU machine with {@code ramSize} bytes of RAM. */
    public FwCfg(long ramSize) {
        items.put(KEY_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(KEY_ID, littleEndian(ID_TRADITIONAL, 4));
        items.put(KEY_UUID, new byte[16]);
        items.put(KEY_RAM_SIZE, littleEndian(ramSize, 8));
        items.put(KEY_NB_CPUS, littleEndian(1, 2));
        items.put(KEY_MAX_CPUS, littleEndian(1, 2));
        items.put(KEY_FILE_DIR, new byte[4]);   // big-endian file count 0
        items.put(KEY_ARCH_IRQ0_OVERRIDE, littleEndian(1, 4));
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
