package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;

/**
 * INT 10h text-mode services boot loaders use (shared/spec/int13.md §8.1): mode 03h, 80×25, eight
 * pages at B8000h, cursor state in the BDA. Text goes to video memory (when the machine has RAM or
 * a frame buffer there) and, for teletype and write-string output, to the {@link ConsoleOutput}.
 * Unknown functions change no register and answer CF=1 with a trace line.
 */
public final class VideoServices implements BiosService {
    static final long TEXT_BASE = 0xB8000;
    static final int PAGE_SIZE = 0x1000;
    static final int PAGES = 8;
    static final int TEXT_MODE_80X25 = 0x03;
    static final int DEFAULT_ATTRIBUTE = 0x07;
    static final int DEFAULT_CURSOR_SHAPE = 0x0607;
    static final int BEL = 0x07;
    static final int BS = 0x08;
    static final int LF = 0x0A;
    static final int CR = 0x0D;

    private final PhysicalMemory memory;
    private final Bda bda;
    private final ConsoleOutput console;

    public VideoServices(PhysicalMemory memory, ConsoleOutput console) {
        this.memory = memory;
        this.bda = new Bda(memory);
        this.console = console;
    }

    /** The BDA video fields of mode 03h (§9.2), and a blank screen unless {@code keepMemory}. */
    void setMode(int mode, boolean keepMemory) {
        bda.writeByte(Bda.VIDEO_MODE, mode);
        bda.writeWord(Bda.VIDEO_COLUMNS, 80);
        bda.writeWord(Bda.VIDEO_PAGE_SIZE, PAGE_SIZE);
        bda.writeWord(Bda.VIDEO_PAGE_START, 0);
        for (int page = 0; page < PAGES; page++) {
            bda.writeWord(Bda.CURSOR_POSITION + 2 * page, 0);
        }
        bda.writeWord(Bda.CURSOR_SHAPE, DEFAULT_CURSOR_SHAPE);
        bda.writeByte(Bda.VIDEO_ACTIVE_PAGE, 0);
        bda.writeWord(Bda.CRTC_BASE, 0x3D4);
        bda.writeByte(Bda.VIDEO_ROWS, 24);
        bda.writeWord(Bda.CHAR_HEIGHT, 16);
        bda.writeByte(Bda.VIDEO_CONTROL, 0x60 | (keepMemory ? 0x80 : 0));
        bda.writeByte(Bda.VIDEO_SWITCHES, 0xF9);
        bda.writeByte(Bda.VIDEO_MODESET_CONTROL, 0x51);
        bda.writeByte(Bda.VIDEO_DCC_INDEX, 0x08);
        if (!keepMemory) {
            for (int page = 0; page < PAGES; page++) {
                clear(page, 0, 0, rows() - 1, columns() - 1, DEFAULT_ATTRIBUTE);
            }
        }
    }

    @Override
    public void serve(BiosCall call) {
        RegisterFile r = call.regs();
        switch (r.ah()) {
            case 0x00 -> {
                int mode = r.al() & 0x7F;
                if (mode == 0x02 || mode == TEXT_MODE_80X25 || mode == 0x07) {
                    setMode(mode, (r.al() & 0x80) != 0);
                } else {
                    call.unsupportedKeepingAh();
                }
            }
            case 0x01 -> bda.writeWord(Bda.CURSOR_SHAPE, r.cx());
            case 0x02 -> setCursor(r.bh() % PAGES, r.dh(), r.dl());
            case 0x03 -> {
                r.setCx(bda.readWord(Bda.CURSOR_SHAPE));
                r.setDx(bda.readWord(Bda.CURSOR_POSITION + 2 * (r.bh() % PAGES)));
            }
            case 0x05 -> {
                int page = r.al() % PAGES;
                bda.writeByte(Bda.VIDEO_ACTIVE_PAGE, page);
                bda.writeWord(Bda.VIDEO_PAGE_START, page * PAGE_SIZE);
            }
            case 0x06 -> scroll(r.al(), r.bh(), r.ch(), r.cl(), r.dh(), r.dl(), true);
            case 0x07 -> scroll(r.al(), r.bh(), r.ch(), r.cl(), r.dh(), r.dl(), false);
            case 0x08 -> {
                int page = r.bh() % PAGES;
                int pos = cursor(page);
                long cell = cellAddress(page, pos >>> 8, pos & 0xFF);
                r.setAx(memory.isRam(cell, 2) ? memory.readWord(cell) : 0x0720);
            }
            case 0x09 -> repeatChar(r.bh() % PAGES, r.al(), r.bl(), r.cx());
            case 0x0A -> repeatChar(r.bh() % PAGES, r.al(), -1, r.cx());
            case 0x0E -> teletype(activePage(), r.al(), -1);
            case 0x0F -> {
                r.setAl(bda.readByte(Bda.VIDEO_MODE) | (bda.readByte(Bda.VIDEO_CONTROL) & 0x80));
                r.setAh(columns());
                r.setBh(activePage());
            }
            case 0x12 -> {
                if (r.bl() == 0x10) {
                    // EGA/VGA information: colour, 256 KiB, feature bits 0, switches 09h.
                    r.setBh(0x00);
                    r.setBl(0x03);
                    r.setCh(0x00);
                    r.setCl(0x09);
                } else {
                    call.unsupportedKeepingAh();
                }
            }
            case 0x13 -> writeString(call);
            case 0x1A -> {
                if (r.al() == 0x00) {
                    r.setAl(0x1A);
                    r.setBl(0x08);  // VGA with colour display
                    r.setBh(0x00);
                } else {
                    call.unsupportedKeepingAh();
                }
            }
            default -> call.unsupportedKeepingAh();   // includes VBE (4Fh): AX stays ≠ 004Fh
        }
    }

    int columns() {
        int c = bda.readWord(Bda.VIDEO_COLUMNS);
        return c == 0 || c > 132 ? 80 : c;
    }

    int rows() {
        int r = bda.readByte(Bda.VIDEO_ROWS) + 1;
        return r > 60 ? 25 : r;
    }

    int activePage() {
        return bda.readByte(Bda.VIDEO_ACTIVE_PAGE) % PAGES;
    }

    private int cursor(int page) {
        return bda.readWord(Bda.CURSOR_POSITION + 2 * page);
    }

    private void setCursor(int page, int row, int column) {
        bda.writeWord(Bda.CURSOR_POSITION + 2 * page, row << 8 | column);
    }

    long cellAddress(int page, int row, int column) {
        return TEXT_BASE + (long) page * PAGE_SIZE + ((long) row * columns() + column) * 2;
    }

    /** Writes one cell; {@code attribute} -1 keeps the cell's attribute. */
    private void putCell(int page, int row, int column, int ch, int attribute) {
        long cell = cellAddress(page, row, column);
        if (!memory.isRam(cell, 2)) {
            return;
        }
        memory.writeByte(cell, ch);
        if (attribute >= 0) {
            memory.writeByte(cell + 1, attribute);
        }
    }

    /**
     * Teletype output: BEL, BS, LF, CR are control codes; anything else is written at the cursor,
     * which advances, wraps at the last column and scrolls the page at the last row.
     */
    void teletype(int page, int ch, int attribute) {
        int pos = cursor(page);
        int row = pos >>> 8;
        int column = pos & 0xFF;
        switch (ch) {
            case BEL -> { }
            case BS -> column = Math.max(0, column - 1);
            case LF -> row++;
            case CR -> column = 0;
            default -> {
                if (row < rows() && column < columns()) {
                    putCell(page, row, column, ch, attribute);
                }
                column++;
                if (column >= columns()) {
                    column = 0;
                    row++;
                }
            }
        }
        if (row >= rows()) {
            scrollPage(page, 1, DEFAULT_ATTRIBUTE, 0, 0, rows() - 1, columns() - 1, true);
            row = rows() - 1;
        }
        setCursor(page, row, column);
        console.putChar(ch);
    }

    private void repeatChar(int page, int ch, int attribute, int count) {
        int pos = cursor(page);
        int row = pos >>> 8;
        int column = pos & 0xFF;
        for (int i = 0; i < count && row < rows(); i++) {
            putCell(page, row, column, ch, attribute);
            if (++column >= columns()) {
                column = 0;
                row++;
            }
        }
    }

    /** AH=13h: AL bit 0 moves the cursor, bit 1 means (char, attribute) pairs; ES:BP, CX, DH/DL. */
    private void writeString(BiosCall call) {
        RegisterFile r = call.regs();
        int mode = r.al();
        boolean pairs = (mode & 2) != 0;
        int page = r.bh() % PAGES;
        int count = r.cx();
        long string = r.linear(Segment.ES, r.bp());
        if (!call.isRam(string, (long) count * (pairs ? 2 : 1))) {
            call.unsupportedKeepingAh();
            return;
        }
        int saved = cursor(page);
        setCursor(page, r.dh(), r.dl());
        for (int i = 0; i < count; i++) {
            int ch = memory.readByte(string + (long) i * (pairs ? 2 : 1));
            int attribute = pairs ? memory.readByte(string + 2L * i + 1) : r.bl();
            teletype(page, ch, attribute);
        }
        if ((mode & 1) == 0) {
            bda.writeWord(Bda.CURSOR_POSITION + 2 * page, saved);
        }
    }

    private void scroll(int lines, int attribute, int top, int left, int bottom, int right, boolean up) {
        scrollPage(activePage(), lines, attribute, top, left, bottom, right, up);
    }

    /** Scrolls a window of a page by {@code lines} (0: clear it), filling with blanks of {@code attribute}. */
    private void scrollPage(int page, int lines, int attribute, int top, int left, int bottom, int right, boolean up) {
        bottom = Math.min(bottom, rows() - 1);
        right = Math.min(right, columns() - 1);
        if (top > bottom || left > right) {
            return;
        }
        int height = bottom - top + 1;
        if (lines == 0 || lines >= height) {
            clear(page, top, left, bottom, right, attribute);
            return;
        }
        int width = (right - left + 1) * 2;
        byte[] line = new byte[width];
        for (int i = 0; i < height - lines; i++) {
            int dst = up ? top + i : bottom - i;
            int src = up ? dst + lines : dst - lines;
            long from = cellAddress(page, src, left);
            long to = cellAddress(page, dst, left);
            if (memory.isRam(from, width) && memory.isRam(to, width)) {
                memory.read(from, line, 0, width);
                memory.write(to, line, 0, width);
            }
        }
        if (up) {
            clear(page, bottom - lines + 1, left, bottom, right, attribute);
        } else {
            clear(page, top, left, top + lines - 1, right, attribute);
        }
    }

    private void clear(int page, int top, int left, int bottom, int right, int attribute) {
        for (int row = top; row <= bottom; row++) {
            for (int column = left; column <= right; column++) {
                putCell(page, row, column, ' ', attribute);
            }
        }
    }
}
