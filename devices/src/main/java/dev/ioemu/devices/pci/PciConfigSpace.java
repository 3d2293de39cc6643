package dev.ioemu.devices.pci;

/**
 * A conventional (256-byte) PCI configuration space with a per-byte write mask: the storage
 * behind every {@link PciFunction} here. Bytes whose mask bit is 0 are read-only to the guest;
 * the owner sets them with the {@code set*} methods.
 *
 * <p>Standard header offsets carry the PCI Local Bus Specification names.
 */
public final class PciConfigSpace {
    public static final int SIZE = 256;

    public static final int VENDOR_ID = 0x00;
    public static final int DEVICE_ID = 0x02;
    public static final int COMMAND = 0x04;
    public static final int STATUS = 0x06;
    public static final int REVISION_ID = 0x08;
    public static final int CLASS_PROG = 0x09;
    public static final int CLASS_DEVICE = 0x0A;
    public static final int CACHE_LINE_SIZE = 0x0C;
    public static final int LATENCY_TIMER = 0x0D;
    public static final int HEADER_TYPE = 0x0E;
    public static final int BASE_ADDRESS_0 = 0x10;
    public static final int SUBSYSTEM_VENDOR_ID = 0x2C;
    public static final int SUBSYSTEM_ID = 0x2E;
    public static final int INTERRUPT_LINE = 0x3C;
    public static final int INTERRUPT_PIN = 0x3D;

    public static final int COMMAND_IO = 0x0001;
    public static final int COMMAND_MEMORY = 0x0002;
    public static final int COMMAND_MASTER = 0x0004;
    public static final int COMMAND_SERR = 0x0100;
    public static final int COMMAND_INTX_DISABLE = 0x0400;

    public static final int STATUS_FAST_BACK = 0x0080;
    public static final int STATUS_DEVSEL_MEDIUM = 0x0200;

    public static final int HEADER_TYPE_MULTI_FUNCTION = 0x80;

    /** QEMU's default subsystem IDs (Red Hat / QEMU), present on every QEMU PCI device. */
    public static final int QEMU_SUBSYSTEM_VENDOR = 0x1AF4;
    public static final int QEMU_SUBSYSTEM = 0x1100;

    private final byte[] data = new byte[SIZE];
    private final byte[] writeMask = new byte[SIZE];

    /** Reads {@code size} bytes little-endian; bytes past 0xFF read as 0. */
    public int read(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            value |= (data[offset + i] & 0xFF) << (8 * i);
        }
        return value;
    }

    /** Guest write: only bits set in the write mask change. */
    public void write(int offset, int size, int value) {
        for (int i = 0; i < size && offset + i < SIZE; i++) {
            int o = offset + i;
            int b = (value >>> (8 * i)) & 0xFF;
            int m = writeMask[o] & 0xFF;
            data[o] = (byte) ((data[o] & ~m) | (b & m));
        }
    }

    public void set8(int offset, int value) { data[offset] = (byte) value; }

    public void set16(int offset, int value) {
        set8(offset, value);
        set8(offset + 1, value >>> 8);
    }

    public void set32(int offset, int value) {
        set16(offset, value);
        set16(offset + 2, value >>> 16);
    }

    public int get8(int offset) { return data[offset] & 0xFF; }

    public int get16(int offset) { return read(offset, 2); }

    public int get32(int offset) { return read(offset, 4); }

    /** Declares which bits of [offset, offset+size) the guest may change. */
    public void setWriteMask(int offset, int size, int mask) {
        for (int i = 0; i < size; i++) {
            writeMask[offset + i] = (byte) (mask >>> (8 * i));
        }
    }

    /** Writes the identification header every function has. */
    public void setIdentity(int vendor, int device, int revision, int classCode, int headerType) {
        set16(VENDOR_ID, vendor);
        set16(DEVICE_ID, device);
        set8(REVISION_ID, revision);
        set8(CLASS_PROG, classCode);
        set16(CLASS_DEVICE, classCode >>> 8);
        set8(HEADER_TYPE, headerType);
        set16(SUBSYSTEM_VENDOR_ID, QEMU_SUBSYSTEM_VENDOR);
        set16(SUBSYSTEM_ID, QEMU_SUBSYSTEM);
    }

    /**
     * The writable bits QEMU gives every conventional function: the command bits I/O, memory,
     * bus master, SERR and INTx disable, cache line size, interrupt line, and the whole
     * device-specific area 0x40-0xFF as plain storage.
     */
    public void setDefaultWriteMasks() {
        setWriteMask(COMMAND, 2, COMMAND_IO | COMMAND_MEMORY | COMMAND_MASTER | COMMAND_SERR | COMMAND_INTX_DISABLE);
        setWriteMask(CACHE_LINE_SIZE, 1, 0xFF);
        setWriteMask(INTERRUPT_LINE, 1, 0xFF);
        for (int o = 0x40; o < SIZE; o++) {
            writeMask[o] = (byte) 0xFF;
        }
    }

    /** QEMU's generic function reset: command, cache line size and interrupt line back to 0. */
    public void resetCommon() {
        set16(COMMAND, 0);
        set8(CACHE_LINE_SIZE, 0);
        set8(INTERRUPT_LINE, 0);
    }
}
