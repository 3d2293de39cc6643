package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * The Intel 8042 keyboard controller as on a PC/AT: data port 60h, status/command port 64h, a
 * {@link Ps2Keyboard} on its keyboard port (IRQ 1), the output port with A20 (bit 1, to the
 * {@link A20Gate}) and system reset (bit 0, active low). No PS/2 mouse is attached: AUX bytes are
 * dropped and IRQ 12 stays low.
 *
 * <p>One output buffer: a controller reply (command byte, self-test result, output port...) takes
 * precedence over keyboard bytes, which wait while the keyboard interface is disabled. When the
 * host reads a byte and another is waiting, IRQ 1 drops and rises again, as the next byte arrives
 * on the wire (QEMU 7.2 does the same). QEMU parity: status bit 3 (A2) reads 1 whatever port was
 * written last, and IRQ 1 stays low while the keyboard interface is disabled.
 */
public final class I8042 {
    public static final int DATA_PORT = 0x60;
    public static final int STATUS_PORT = 0x64;

    public static final int KBD_STAT_OBF = 0x01;
    public static final int KBD_STAT_IBF = 0x02;
    public static final int KBD_STAT_SELFTEST = 0x04;
    public static final int KBD_STAT_CMD = 0x08;
    public static final int KBD_STAT_UNLOCKED = 0x10;
    public static final int KBD_STAT_MOUSE_OBF = 0x20;

    public static final int KBD_MODE_KBD_INT = 0x01;
    public static final int KBD_MODE_MOUSE_INT = 0x02;
    public static final int KBD_MODE_SYS = 0x04;
    public static final int KBD_MODE_DISABLE_KBD = 0x10;
    public static final int KBD_MODE_DISABLE_MOUSE = 0x20;
    public static final int KBD_MODE_KCC = 0x40;

    public static final int KBD_OUT_RESET = 0x01;
    public static final int KBD_OUT_A20 = 0x02;
    public static final int KBD_OUT_OBF = 0x10;
    public static final int KBD_OUT_MOUSE_OBF = 0x20;
    /** Output port bits QEMU keeps set (keyboard clock/data, unused lines). */
    public static final int KBD_OUT_ONES = 0xcc;

    public static final int KBD_CCMD_READ_MODE = 0x20;
    public static final int KBD_CCMD_WRITE_MODE = 0x60;
    public static final int KBD_CCMD_MOUSE_DISABLE = 0xa7;
    public static final int KBD_CCMD_MOUSE_ENABLE = 0xa8;
    public static final int KBD_CCMD_TEST_MOUSE = 0xa9;
    public static final int KBD_CCMD_SELF_TEST = 0xaa;
    public static final int KBD_CCMD_KBD_TEST = 0xab;
    public static final int KBD_CCMD_KBD_DISABLE = 0xad;
    public static final int KBD_CCMD_KBD_ENABLE = 0xae;
    public static final int KBD_CCMD_READ_INPORT = 0xc0;
    public static final int KBD_CCMD_READ_OUTPORT = 0xd0;
    public static final int KBD_CCMD_WRITE_OUTPORT = 0xd1;
    public static final int KBD_CCMD_WRITE_OBUF = 0xd2;
    public static final int KBD_CCMD_WRITE_AUX_OBUF = 0xd3;
    public static final int KBD_CCMD_WRITE_MOUSE = 0xd4;
    public static final int KBD_CCMD_DISABLE_A20 = 0xdd;
    public static final int KBD_CCMD_ENABLE_A20 = 0xdf;
    /** 0xF0-0xFF pulse output port bits 3-0 low for 6 us where the command bit is 0: 0xFE resets. */
    public static final int KBD_CCMD_PULSE_BITS_3_0 = 0xf0;
    public static final int KBD_CCMD_RESET = 0xfe;

    /** Self-test passed (0x55), interface test passed (0x00). */
    public static final int SELF_TEST_OK = 0x55;
    public static final int INTERFACE_TEST_OK = 0x00;
    /** Input port: keyboard not inhibited (bit 7). */
    public static final int INPORT_VALUE = 0x80;

    private final Ps2Keyboard keyboard = new Ps2Keyboard(this::keyboardChanged);
    private final IrqLine irq1;
    private final A20Gate a20;
    private final Runnable resetRequest;

    /** Where the output buffer's byte comes from: fetched when the host reads it, as on QEMU. */
    private enum Source { NONE, CONTROLLER, KEYBOARD }

    private int status;
    private int mode;
    private int outport;
    private int writeCommand;
    /** The byte the last data-port read returned (read again while the buffer is empty). */
    private int outputBuffer;
    private Source source = Source.NONE;
    private int controllerReply;
    private boolean controllerReplyPending;

    private final PortDevice dataPort = new PortDevice() {
        @Override
        public int read(int offset, int size) {
            return ByteRegisters.read(o -> readData(), offset, size);
        }

        @Override
        public void write(int offset, int size, int value) {
            ByteRegisters.write((o, v) -> writeData(v), offset, size, value);
        }

        @Override
        public String name() {
            return "i8042-data";
        }
    };

    private final PortDevice commandPort = new PortDevice() {
        @Override
        public int read(int offset, int size) {
            synchronized (I8042.this) {
                return ByteRegisters.read(o -> status, offset, size);
            }
        }

        @Override
        public void write(int offset, int size, int value) {
            ByteRegisters.write((o, v) -> writeCommand(v), offset, size, value);
        }

        @Override
        public String name() {
            return "i8042-cmd";
        }
    };

    /**
     * @param resetRequest a system reset (pulse of output port bit 0, or bit 0 written as 0); it is
     *                     called after the port write has completed its own state changes
     */
    public I8042(IrqLine irq1, A20Gate a20, Runnable resetRequest) {
        this.irq1 = irq1;
        this.a20 = a20;
        this.resetRequest = resetRequest;
        reset();
    }

    public synchronized void reset() {
        mode = KBD_MODE_KBD_INT | KBD_MODE_MOUSE_INT;
        status = KBD_STAT_CMD | KBD_STAT_UNLOCKED;
        outport = KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES;
        writeCommand = 0;
        controllerReplyPending = false;
        keyboard.reset();
        keyboard.setTranslation(false);
        a20.setKeyboardController(true);
        updateIrqLine();
    }

    /** Port 60h. */
    public PortDevice dataPort() {
        return dataPort;
    }

    /** Port 64h. */
    public PortDevice commandPort() {
        return commandPort;
    }

    /** Host key input (scancode bytes of the keyboard's current set). */
    public synchronized void keyBytes(int... bytes) {
        keyboard.keyBytes(bytes);
    }

    /** The keyboard's buffer changed (a reply queued or output dropped). */
    private void keyboardChanged() {
        updateOutputBuffer();
    }

    private boolean keyboardPending() {
        return keyboard.hasData() && (mode & KBD_MODE_DISABLE_KBD) == 0;
    }

    /** Loads the output buffer from the highest-priority source: a controller reply, then the keyboard. */
    private void loadOutputBuffer() {
        if (controllerReplyPending) {
            source = Source.CONTROLLER;
        } else if (keyboardPending()) {
            source = Source.KEYBOARD;
        } else {
            source = Source.NONE;
            deassertOutputBuffer();
            return;
        }
        status |= KBD_STAT_OBF;
        outport |= KBD_OUT_OBF;
        updateIrqLine();
    }

    /**
     * The output buffer was taken: OBF clears in the status and in output port bit 4 (and 5).
     * Only here and when a byte is loaded do those output-port bits follow the buffer: a value
     * the guest wrote with WRITE OUTPUT PORT (D1h) keeps its bits 4/5 until then, and a command
     * byte write leaves them alone (QEMU 7.2's kbd_deassert_irq/kbd_update_irq; its
     * kbd_update_irq_lines, run on a command byte write, touches only the IRQ lines).
     */
    private void deassertOutputBuffer() {
        status &= ~KBD_STAT_OBF;
        outport &= ~(KBD_OUT_OBF | KBD_OUT_MOUSE_OBF);
        updateIrqLine();
    }

    /** Loads the output buffer if it is empty and something waits; a full buffer is left alone. */
    private void updateOutputBuffer() {
        if ((status & KBD_STAT_OBF) == 0 && (controllerReplyPending || keyboardPending())) {
            loadOutputBuffer();
        }
    }

    /** IRQ 1 follows OBF while keyboard interrupts are enabled and the interface is not disabled. */
    private void updateIrqLine() {
        boolean full = (status & KBD_STAT_OBF) != 0;
        irq1.set(full && (mode & KBD_MODE_KBD_INT) != 0 && (mode & KBD_MODE_DISABLE_KBD) == 0);
    }

    /**
     * A controller reply: one slot, the newest wins; the host gets it ahead of keyboard bytes. The
     * byte is taken from the slot when the host reads, as QEMU 7.2 does.
     */
    private void queueReply(int value) {
        controllerReply = value & 0xff;
        controllerReplyPending = true;
        updateOutputBuffer();
    }

    private synchronized int readData() {
        if ((status & KBD_STAT_OBF) != 0) {
            deassertOutputBuffer();   // the byte is taken; a waiting one raises IRQ 1 anew
            if (source == Source.KEYBOARD) {
                outputBuffer = keyboard.read();
                updateOutputBuffer();
            } else if (source == Source.CONTROLLER) {
                outputBuffer = controllerReply;
                controllerReplyPending = false;
                updateOutputBuffer();
            }
        }
        if (TraceEvent.PCKBD_KBD_READ_DATA.enabled) {
            Trace.emit(TraceEvent.PCKBD_KBD_READ_DATA, outputBuffer);
        }
        return outputBuffer;   // with nothing new, the last byte again
    }

    private void writeData(int value) {
        boolean reset;
        synchronized (this) {
            if (TraceEvent.PCKBD_KBD_WRITE_DATA.enabled) {
                Trace.emit(TraceEvent.PCKBD_KBD_WRITE_DATA, value);
            }
            int command = writeCommand;
            writeCommand = 0;
            reset = false;
            switch (command) {
                case 0 -> {
                    // A byte for the keyboard (which drops its unread output); sending it
                    // re-enables the keyboard interface.
                    keyboard.write(value);
                    mode &= ~KBD_MODE_DISABLE_KBD;
                    updateOutputBuffer();
                }
                case KBD_CCMD_WRITE_MODE -> {
                    mode = value;
                    keyboard.setTranslation((mode & KBD_MODE_KCC) != 0);
                    updateIrqLine();
                    updateOutputBuffer();
                }
                // No mouse: an AUX output-buffer byte is reported like a controller byte, as QEMU
                // 7.2 shows it with the mouse interrupt disabled.
                case KBD_CCMD_WRITE_OBUF, KBD_CCMD_WRITE_AUX_OBUF -> queueReply(value);
                case KBD_CCMD_WRITE_OUTPORT -> reset = writeOutport(value);
                default -> { }   // mouse bytes: no mouse attached
            }
        }
        if (reset) {
            requestReset();
        }
    }

    /** @return true if the guest pulled the reset line (bit 0 low) */
    private boolean writeOutport(int value) {
        outport = value;
        a20.setKeyboardController((value & KBD_OUT_A20) != 0);
        return (value & KBD_OUT_RESET) == 0;
    }

    private void writeCommand(int value) {
        boolean reset = false;
        synchronized (this) {
            if (TraceEvent.PCKBD_KBD_WRITE_COMMAND.enabled) {
                Trace.emit(TraceEvent.PCKBD_KBD_WRITE_COMMAND, value);
            }
            int command = value;
            if ((command & KBD_CCMD_PULSE_BITS_3_0) == KBD_CCMD_PULSE_BITS_3_0) {
                // Pulse: only output port bit 0 (reset) has an effect.
                command = (command & 1) == 0 ? KBD_CCMD_RESET : -1;
            }
            switch (command) {
                case KBD_CCMD_READ_MODE -> queueReply(mode);
                case KBD_CCMD_WRITE_MODE, KBD_CCMD_WRITE_OBUF, KBD_CCMD_WRITE_AUX_OBUF, KBD_CCMD_WRITE_MOUSE,
                        KBD_CCMD_WRITE_OUTPORT -> writeCommand = command;
                case KBD_CCMD_MOUSE_DISABLE -> mode |= KBD_MODE_DISABLE_MOUSE;
                case KBD_CCMD_MOUSE_ENABLE -> {
                    mode &= ~KBD_MODE_DISABLE_MOUSE;
                    updateOutputBuffer();
                }
                case KBD_CCMD_TEST_MOUSE -> queueReply(INTERFACE_TEST_OK);
                case KBD_CCMD_SELF_TEST -> {
                    status |= KBD_STAT_SELFTEST;
                    queueReply(SELF_TEST_OK);
                }
                case KBD_CCMD_KBD_TEST -> queueReply(INTERFACE_TEST_OK);
                case KBD_CCMD_KBD_DISABLE -> mode |= KBD_MODE_DISABLE_KBD;   // IRQ 1 as it was
                case KBD_CCMD_KBD_ENABLE -> {
                    mode &= ~KBD_MODE_DISABLE_KBD;
                    updateOutputBuffer();
                }
                case KBD_CCMD_READ_INPORT -> queueReply(INPORT_VALUE);
                case KBD_CCMD_READ_OUTPORT -> queueReply(outport);
                case KBD_CCMD_ENABLE_A20 -> {
                    outport |= KBD_OUT_A20;
                    a20.setKeyboardController(true);
                }
                case KBD_CCMD_DISABLE_A20 -> {
                    outport &= ~KBD_OUT_A20;
                    a20.setKeyboardController(false);
                }
                case KBD_CCMD_RESET -> reset = true;
                default -> { }   // unknown commands are ignored, as by QEMU
            }
        }
        if (reset) {
            requestReset();
        }
    }

    private void requestReset() {
        if (TraceEvent.SYSTEM_RESET_REQUEST.enabled) {
            Trace.emit(TraceEvent.SYSTEM_RESET_REQUEST, "i8042");
        }
        resetRequest.run();
    }

    /** The keyboard's LEDs as last set (bit 0 scroll, 1 num, 2 caps lock). */
    public synchronized int keyboardLeds() {
        return keyboard.ledState();
    }
}
