package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;

/**
 * The BIOS Data Area at 0040:0000 (shared/spec/int13.md §9.2): field offsets with their spec
 * names, and typed access through guest memory. The BDA is ordinary guest RAM that guests read
 * and write directly, so nothing is cached here.
 */
public final class Bda {
    public static final long BASE = 0x400;
    public static final int SEGMENT = 0x40;

    public static final int COM_PORTS = 0x00;
    public static final int LPT_PORTS = 0x08;
    public static final int EBDA_SEGMENT = 0x0E;
    public static final int EQUIPMENT = 0x10;
    public static final int MEMORY_SIZE_KB = 0x13;
    public static final int KBD_FLAG0 = 0x17;
    public static final int KBD_FLAG1 = 0x18;
    public static final int KBD_BUFFER_HEAD = 0x1A;
    public static final int KBD_BUFFER_TAIL = 0x1C;
    public static final int KBD_BUFFER = 0x1E;
    public static final int FLOPPY_LAST_STATUS = 0x41;
    public static final int VIDEO_MODE = 0x49;
    public static final int VIDEO_COLUMNS = 0x4A;
    public static final int VIDEO_PAGE_SIZE = 0x4C;
    public static final int VIDEO_PAGE_START = 0x4E;
    public static final int CURSOR_POSITION = 0x50;
    public static final int CURSOR_SHAPE = 0x60;
    public static final int VIDEO_ACTIVE_PAGE = 0x62;
    public static final int CRTC_BASE = 0x63;
    public static final int TIMER_COUNTER = 0x6C;
    public static final int TIMER_ROLLOVER = 0x70;
    public static final int SOFT_RESET_FLAG = 0x72;
    public static final int DISK_LAST_STATUS = 0x74;
    public static final int HARD_DISK_COUNT = 0x75;
    public static final int KBD_BUFFER_START = 0x80;
    public static final int KBD_BUFFER_END = 0x82;
    public static final int VIDEO_ROWS = 0x84;
    public static final int CHAR_HEIGHT = 0x85;
    public static final int VIDEO_CONTROL = 0x87;
    public static final int VIDEO_SWITCHES = 0x88;
    public static final int VIDEO_MODESET_CONTROL = 0x89;
    public static final int VIDEO_DCC_INDEX = 0x8A;
    public static final int DISK_INTERRUPT_FLAG = 0x8E;
    public static final int KBD_FLAG2 = 0x96;

    private final PhysicalMemory memory;

    public Bda(PhysicalMemory memory) {
        this.memory = memory;
    }

    public int readByte(int offset) {
        return memory.readByte(BASE + offset);
    }

    public int readWord(int offset) {
        return memory.readWord(BASE + offset);
    }

    public int readDword(int offset) {
        return memory.readDword(BASE + offset);
    }

    public void writeByte(int offset, int value) {
        memory.writeByte(BASE + offset, value);
    }

    public void writeWord(int offset, int value) {
        memory.writeWord(BASE + offset, value);
    }

    public void writeDword(int offset, int value) {
        memory.writeDword(BASE + offset, value);
    }
}
