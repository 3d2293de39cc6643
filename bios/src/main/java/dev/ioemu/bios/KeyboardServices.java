package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * INT 16h keyboard services (shared/spec/int13.md §8.4) over the BDA ring buffer at 40:1E, fed
 * from the host {@link ConsoleInput} (§8.7: the HLE appends key words straight to the ring, so
 * programs that read the BDA and INT 16h agree). A read with no key parks the guest on the stub's
 * {@code HLT} with interrupts enabled (§10.2); it re-enters the service after every interrupt
 * until a key is there. No vCPU thread ever blocks here.
 */
public final class KeyboardServices implements BiosService {
    static final int KBD_BUFFER_DEFAULT_START = 0x1E;
    static final int KBD_BUFFER_DEFAULT_END = 0x3E;
    /** INT 16h AH=09h: functions 10h–12h and 0Ah supported (SeaBIOS). */
    static final int FUNCTIONALITY = 0x30;
    /** INT 16h AH=0Ah: an MF2 keyboard. */
    static final int MF2_KEYBOARD_ID = 0x41AB;
    /** 40:96 bits 2 and 3: right Ctrl, right Alt. */
    static final int KF2_RIGHT_CTRL_ALT = 0x0C;

    private final PhysicalMemory memory;
    private final Bda bda;
    private final ConsoleInput input;

    public KeyboardServices(PhysicalMemory memory, ConsoleInput input) {
        this.memory = memory;
        this.bda = new Bda(memory);
        this.input = input;
    }

    @Override
    public void serve(BiosCall call) {
        RegisterFile r = call.regs();
        moveConsoleKeysToBuffer();
        switch (r.ah()) {
            case 0x00 -> readKey(call, false);
            case 0x10 -> readKey(call, true);
            case 0x01 -> checkKey(call, false);
            case 0x11 -> checkKey(call, true);
            case 0x02 -> r.setAl(bda.readByte(Bda.KBD_FLAG0));
            case 0x12 -> {
                r.setAl(bda.readByte(Bda.KBD_FLAG0));
                r.setAh((bda.readByte(Bda.KBD_FLAG1) & ~KF2_RIGHT_CTRL_ALT)
                        | (bda.readByte(Bda.KBD_FLAG2) & KF2_RIGHT_CTRL_ALT));
            }
            case 0x03 -> { }    // typematic rate: nothing to set
            case 0x05 -> r.setAl(enqueue(r.cx()) ? 0 : 1);
            case 0x09 -> r.setAl(FUNCTIONALITY);
            case 0x0A -> r.setBx(MF2_KEYBOARD_ID);
            default -> call.unsupportedKeepingAh();
        }
    }

    /** AH=00h/10h: take a key, or wait on the HLT for one. */
    private void readKey(BiosCall call, boolean extended) {
        Integer key = peekBuffer();
        if (key == null) {
            if (TraceEvent.BIOS_WAIT.enabled) {
                Trace.emit(TraceEvent.BIOS_WAIT, 0x16, call.regs().ax());
            }
            call.resumeAt(BiosRom.Entry.INT16_KEYBOARD.waitOffset());
            return;
        }
        dropFromBuffer();
        call.regs().setAx(translate(key, extended));
    }

    /** AH=01h/11h: ZF=1 if no key, else ZF=0 and AX = the key, left in the buffer. */
    private void checkKey(BiosCall call, boolean extended) {
        Integer key = peekBuffer();
        call.setZero(key == null);
        if (key != null) {
            call.regs().setAx(translate(key, extended));
        }
    }

    /** SeaBIOS's "non-extended" mapping of E0-prefixed keys, and the F0h filler for both kinds. */
    static int translate(int key, boolean extended) {
        int scan = key >>> 8;
        int ascii = key & 0xFF;
        if (!extended) {
            if (key == 0xE00D || key == 0xE00A) {
                return 0x1C00 | ascii;
            }
            if (key == 0xE02F) {
                return 0x352F;
            }
            if (ascii == 0xE0 && scan != 0) {
                ascii = 0;
            }
        }
        if (ascii == 0xF0 && scan != 0) {
            ascii = 0;
        }
        return scan << 8 | ascii;
    }

    private void moveConsoleKeysToBuffer() {
        for (Integer key = input.peek(); key != null && enqueue(key); key = input.peek()) {
            input.poll();
        }
    }

    // ---- the ring buffer, whose pointers the guest may have scribbled on ----

    private int start() {
        return bda.readWord(Bda.KBD_BUFFER_START);
    }

    private int end() {
        return bda.readWord(Bda.KBD_BUFFER_END);
    }

    /** The pointers describe a sane ring inside segment 40h; if not, it is reset empty. */
    private boolean ringIsSane() {
        int start = start();
        int end = end();
        int head = bda.readWord(Bda.KBD_BUFFER_HEAD);
        int tail = bda.readWord(Bda.KBD_BUFFER_TAIL);
        boolean sane = start < end && end - start >= 4 && (end - start) % 2 == 0
                && head >= start && head < end && tail >= start && tail < end
                && (head - start) % 2 == 0 && (tail - start) % 2 == 0
                && memory.isRam(Bda.BASE + start, end - start);
        if (!sane) {
            bda.writeWord(Bda.KBD_BUFFER_START, KBD_BUFFER_DEFAULT_START);
            bda.writeWord(Bda.KBD_BUFFER_END, KBD_BUFFER_DEFAULT_END);
            bda.writeWord(Bda.KBD_BUFFER_HEAD, KBD_BUFFER_DEFAULT_START);
            bda.writeWord(Bda.KBD_BUFFER_TAIL, KBD_BUFFER_DEFAULT_START);
        }
        return sane;
    }

    private boolean enqueue(int key) {
        ringIsSane();
        int tail = bda.readWord(Bda.KBD_BUFFER_TAIL);
        int next = tail + 2 >= end() ? start() : tail + 2;
        if (next == bda.readWord(Bda.KBD_BUFFER_HEAD)) {
            return false;
        }
        bda.writeWord(tail, key);
        bda.writeWord(Bda.KBD_BUFFER_TAIL, next);
        return true;
    }

    private Integer peekBuffer() {
        if (!ringIsSane()) {
            return null;
        }
        int head = bda.readWord(Bda.KBD_BUFFER_HEAD);
        return head == bda.readWord(Bda.KBD_BUFFER_TAIL) ? null : bda.readWord(head);
    }

    private void dropFromBuffer() {
        int head = bda.readWord(Bda.KBD_BUFFER_HEAD) + 2;
        bda.writeWord(Bda.KBD_BUFFER_HEAD, head >= end() ? start() : head);
    }
}
