package dev.ioemu.devices.isa;

import java.util.ArrayDeque;

/**
 * A PS/2 (MF2) keyboard behind the i8042: the commands firmware and OS drivers send it and its
 * replies (IBM PS/2 Technical Reference, keyboard commands). Replies and key codes wait in the
 * keyboard's 16-byte buffer until the controller takes them.
 */
public final class Ps2Keyboard {
    public static final int KBD_CMD_SET_LEDS = 0xed;
    public static final int KBD_CMD_ECHO = 0xee;
    public static final int KBD_CMD_SCANCODE = 0xf0;
    public static final int KBD_CMD_GET_ID = 0xf2;
    public static final int KBD_CMD_SET_RATE = 0xf3;
    public static final int KBD_CMD_ENABLE = 0xf4;
    public static final int KBD_CMD_RESET_DISABLE = 0xf5;
    public static final int KBD_CMD_RESET_ENABLE = 0xf6;
    public static final int KBD_CMD_SET_TYPEMATIC = 0xfa;
    public static final int KBD_CMD_SET_MAKE_BREAK = 0xfc;
    public static final int KBD_CMD_RESET = 0xff;

    public static final int KBD_REPLY_POR = 0xaa;
    public static final int KBD_REPLY_ID = 0xab;
    public static final int KBD_REPLY_ACK = 0xfa;
    public static final int KBD_REPLY_RESEND = 0xfe;

    private static final int QUEUE_SIZE = 16;
    private static final int NO_COMMAND = -1;

    private final ArrayDeque<Integer> queue = new ArrayDeque<>();
    private final Runnable dataAvailable;
    private int pendingCommand = NO_COMMAND;
    private boolean scanEnabled = true;
    private int scancodeSet = 2;
    private boolean translate;
    private int ledState;
    private int lastByte;

    /** @param dataAvailable told when a byte was queued (the controller may take it) */
    Ps2Keyboard(Runnable dataAvailable) {
        this.dataAvailable = dataAvailable;
    }

    void reset() {
        queue.clear();
        pendingCommand = NO_COMMAND;
        scanEnabled = true;
        scancodeSet = 2;
        ledState = 0;
    }

    /** Set-2 to set-1 translation by the controller (command byte bit 6). */
    void setTranslation(boolean on) {
        translate = on;
    }

    boolean hasData() {
        return !queue.isEmpty();
    }

    /** The next byte; with the buffer empty, the last one again (QEMU, for EMM386). */
    int read() {
        Integer b = queue.poll();
        if (b != null) {
            lastByte = b;
        }
        return lastByte;
    }

    private void queue(int b) {
        if (queue.size() < QUEUE_SIZE) {
            queue.add(b & 0xff);
        }
    }

    /** A byte from the host (via the controller's data port). */
    void write(int value) {
        queue.clear();   // a byte from the host discards unread output (PS/2: the keyboard's buffer)
        if (pendingCommand != NO_COMMAND) {
            writeParameter(value);
            dataAvailable.run();
            return;
        }
        switch (value) {
            case KBD_CMD_ECHO -> queue(KBD_CMD_ECHO);
            case KBD_CMD_SCANCODE, KBD_CMD_SET_LEDS, KBD_CMD_SET_RATE, KBD_CMD_SET_MAKE_BREAK -> {
                queue(KBD_REPLY_ACK);
                pendingCommand = value;
            }
            case KBD_CMD_GET_ID -> {
                queue(KBD_REPLY_ACK);
                queue(KBD_REPLY_ID);
                queue(translate ? 0x41 : 0x83);
            }
            case KBD_CMD_ENABLE -> {
                scanEnabled = true;
                queue(KBD_REPLY_ACK);
            }
            case KBD_CMD_RESET_DISABLE -> {
                reset();
                scanEnabled = false;
                queue(KBD_REPLY_ACK);
            }
            case KBD_CMD_RESET_ENABLE -> {
                reset();
                queue(KBD_REPLY_ACK);
            }
            case KBD_CMD_RESET -> {
                reset();
                queue(KBD_REPLY_ACK);
                queue(KBD_REPLY_POR);   // basic assurance test passed
            }
            case KBD_CMD_SET_TYPEMATIC, 0x00 -> queue(KBD_REPLY_ACK);   // 0x00: acknowledged by QEMU 7.2
            default -> queue(KBD_REPLY_RESEND);
        }
        dataAvailable.run();
    }

    private void writeParameter(int value) {
        int command = pendingCommand;
        pendingCommand = NO_COMMAND;
        switch (command) {
            case KBD_CMD_SCANCODE -> {
                if (value == 0) {
                    // Report the current set; with translation on the host sees set-1 style codes.
                    queue(KBD_REPLY_ACK);
                    queue(translate ? new int[] {0, 0x43, 0x41, 0x3f}[scancodeSet] : scancodeSet);
                } else if (value >= 1 && value <= 3) {
                    scancodeSet = value;
                    queue(KBD_REPLY_ACK);
                } else {
                    queue(KBD_REPLY_RESEND);
                }
            }
            case KBD_CMD_SET_LEDS -> {
                ledState = value;
                queue(KBD_REPLY_ACK);
            }
            default -> queue(KBD_REPLY_ACK);   // rate/typematic, make/break parameters
        }
    }

    /** Host key input: scancode bytes in the current set, dropped while scanning is disabled. */
    void keyBytes(int... bytes) {
        if (!scanEnabled) {
            return;
        }
        for (int b : bytes) {
            queue(b);
        }
        dataAvailable.run();
    }

    boolean scanEnabled() {
        return scanEnabled;
    }

    int ledState() {
        return ledState;
    }
}
