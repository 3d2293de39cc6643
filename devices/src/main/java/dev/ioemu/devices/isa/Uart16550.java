package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.time.Clock;

/**
 * National Semiconductor PC16550D UART with 16-byte FIFOs (COM1 at 0x3F8, IRQ 4). Registers at
 * offsets 0-7: RBR/THR (DLL with DLAB), IER (DLM with DLAB), IIR/FCR, LCR, MCR, LSR, MSR, SCR.
 *
 * <p>Transmission takes no time: a byte written to THR goes to the {@link SerialBackend} at once
 * (or, in loopback, to the receiver), so THRE and TEMT stay set and the THRE interrupt re-arms
 * immediately. Received bytes wait in the RX FIFO; the character-timeout interrupt fires after four
 * character times (from the divisor latch) without activity. As on a PC board, MCR OUT2 gates the
 * interrupt onto the IRQ line. Without loopback the modem inputs read DCD, DSR and CTS asserted,
 * as QEMU's chardevs without modem lines do.
 */
public final class Uart16550 implements PortDevice {
    public static final int UART_RBR = 0;
    public static final int UART_IER = 1;
    public static final int UART_IIR = 2;
    public static final int UART_LCR = 3;
    public static final int UART_MCR = 4;
    public static final int UART_LSR = 5;
    public static final int UART_MSR = 6;
    public static final int UART_SCR = 7;

    public static final int UART_IER_RDI = 0x01;
    public static final int UART_IER_THRI = 0x02;
    public static final int UART_IER_RLSI = 0x04;
    public static final int UART_IER_MSI = 0x08;

    public static final int UART_IIR_NO_INT = 0x01;
    public static final int UART_IIR_MSI = 0x00;
    public static final int UART_IIR_THRI = 0x02;
    public static final int UART_IIR_RDI = 0x04;
    public static final int UART_IIR_RLSI = 0x06;
    public static final int UART_IIR_CTI = 0x0c;
    public static final int UART_IIR_FE = 0xc0;

    public static final int UART_FCR_FE = 0x01;
    public static final int UART_FCR_RFR = 0x02;
    public static final int UART_FCR_XFR = 0x04;
    public static final int UART_FCR_ITL_MASK = 0xc0;

    public static final int UART_LCR_DLAB = 0x80;
    public static final int UART_LCR_SBC = 0x40;

    public static final int UART_MCR_DTR = 0x01;
    public static final int UART_MCR_RTS = 0x02;
    public static final int UART_MCR_OUT1 = 0x04;
    public static final int UART_MCR_OUT2 = 0x08;
    public static final int UART_MCR_LOOP = 0x10;

    public static final int UART_LSR_DR = 0x01;
    public static final int UART_LSR_OE = 0x02;
    public static final int UART_LSR_PE = 0x04;
    public static final int UART_LSR_FE = 0x08;
    public static final int UART_LSR_BI = 0x10;
    public static final int UART_LSR_THRE = 0x20;
    public static final int UART_LSR_TEMT = 0x40;
    public static final int UART_LSR_INT_ANY = 0x1e;

    public static final int UART_MSR_DCTS = 0x01;
    public static final int UART_MSR_DDSR = 0x02;
    public static final int UART_MSR_TERI = 0x04;
    public static final int UART_MSR_DDCD = 0x08;
    public static final int UART_MSR_CTS = 0x10;
    public static final int UART_MSR_DSR = 0x20;
    public static final int UART_MSR_RI = 0x40;
    public static final int UART_MSR_DCD = 0x80;

    public static final int FIFO_SIZE = 16;
    /** The 1.8432 MHz crystal divided by 16: the baud rate at divisor 1. */
    public static final long BASE_BAUD = 115_200;
    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final String name;
    private final IrqLine irq;
    private final Clock.Timer timeoutTimer;
    private SerialBackend backend;

    private final byte[] rxFifo = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;
    private int divisor;
    private int ier;
    private int fcr;
    private int lcr;
    private int mcr;
    private int lsr;
    private int msr;
    private int scr;
    private boolean thrInterrupt;
    private boolean timeoutInterrupt;
    private boolean lineLevel;
    private final Clock clock;

    public Uart16550(String name, Clock clock, IrqLine irq, SerialBackend backend) {
        this.name = name;
        this.clock = clock;
        this.irq = irq;
        this.backend = backend;
        this.timeoutTimer = clock.newTimer(name + "-timeout", this::characterTimeout);
        reset();
    }

    /** Rebinds the host side (the chardev layer attaches after construction). */
    public synchronized void setBackend(SerialBackend backend) {
        this.backend = backend;
    }

    public synchronized void reset() {
        rxHead = 0;
        rxCount = 0;
        divisor = 12;   // 9600 baud, as QEMU resets
        ier = 0;
        fcr = 0;
        lcr = 0;
        mcr = UART_MCR_OUT2;
        lsr = UART_LSR_TEMT | UART_LSR_THRE;
        msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
        scr = 0;
        thrInterrupt = false;
        timeoutInterrupt = false;
        timeoutTimer.cancel();
        updateIrq();
    }

    private boolean fifoEnabled() {
        return (fcr & UART_FCR_FE) != 0;
    }

    private int rxCapacity() {
        return fifoEnabled() ? FIFO_SIZE : 1;
    }

    /** Free space for host bytes (a chardev stops reading at 0). */
    public synchronized int canReceive() {
        return rxCapacity() - rxCount;
    }

    /**
     * Host to guest: bytes arriving on the line. A byte that finds the FIFO (or the holding
     * register) full is lost and sets OE, as on the wire.
     */
    public synchronized void receive(byte[] data, int offset, int length) {
        if ((mcr & UART_MCR_LOOP) != 0) {
            return;   // loopback disconnects the serial input
        }
        for (int i = 0; i < length; i++) {
            receiveByte(data[offset + i]);
        }
        updateIrq();
    }

    private void receiveByte(byte b) {
        if (rxCount == rxCapacity()) {
            lsr |= UART_LSR_OE;
            return;
        }
        rxFifo[(rxHead + rxCount) % FIFO_SIZE] = b;
        rxCount++;
        lsr |= UART_LSR_DR;
        if (fifoEnabled()) {
            timeoutInterrupt = false;
            timeoutTimer.arm(clock.nanos() + 4 * characterNanos());
        }
    }

    /** One character (start, 5-8 data, parity, stop bits) at the divisor's rate. */
    private long characterNanos() {
        int bits = 1 + 5 + (lcr & 0x03) + ((lcr & 0x08) != 0 ? 1 : 0) + ((lcr & 0x04) != 0 ? 2 : 1);
        long baudDivisor = divisor == 0 ? 0x10000 : divisor;
        return bits * 1_000_000_000L * baudDivisor / BASE_BAUD;
    }

    private void characterTimeout() {
        synchronized (this) {
            if (fifoEnabled() && rxCount > 0) {
                timeoutInterrupt = true;
                updateIrq();
            }
        }
    }

    private int rxTriggerLevel() {
        return TRIGGER_LEVELS[(fcr & UART_FCR_ITL_MASK) >> 6];
    }

    /** The pending interrupt by priority (datasheet table 4). */
    private int interruptId() {
        if ((ier & UART_IER_RLSI) != 0 && (lsr & UART_LSR_INT_ANY) != 0) {
            return UART_IIR_RLSI;
        }
        if ((ier & UART_IER_RDI) != 0) {
            if (timeoutInterrupt) {
                return UART_IIR_CTI;
            }
            if (rxCount > 0 && (!fifoEnabled() || rxCount >= rxTriggerLevel())) {
                return UART_IIR_RDI;
            }
        }
        if ((ier & UART_IER_THRI) != 0 && thrInterrupt) {
            return UART_IIR_THRI;
        }
        if ((ier & UART_IER_MSI) != 0 && (msr & 0x0f) != 0) {
            return UART_IIR_MSI;
        }
        return UART_IIR_NO_INT;
    }

    private void updateIrq() {
        boolean level = interruptId() != UART_IIR_NO_INT && (mcr & UART_MCR_OUT2) != 0;
        if (level != lineLevel) {
            lineLevel = level;
            irq.set(level);
        }
    }

    private int readRbr() {
        if (rxCount == 0) {
            return 0;
        }
        int value = rxFifo[rxHead] & 0xff;
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        timeoutInterrupt = false;
        if (rxCount == 0) {
            lsr &= ~UART_LSR_DR;
            timeoutTimer.cancel();
        } else if (fifoEnabled()) {
            timeoutTimer.arm(clock.nanos() + 4 * characterNanos());
        }
        return value;
    }

    private void transmit(int value) {
        thrInterrupt = false;
        if ((mcr & UART_MCR_LOOP) != 0) {
            receiveByte((byte) value);
        } else {
            backend.transmit((byte) value);
        }
        // Sent at once: the holding register and the shift register are empty again.
        lsr |= UART_LSR_THRE | UART_LSR_TEMT;
        thrInterrupt = true;
    }

    /** Modem status in loopback: the outputs fed back (RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD). */
    private void updateLoopbackModemStatus(int oldMcr) {
        int old = msr;
        int lines;
        if ((mcr & UART_MCR_LOOP) != 0) {
            lines = ((mcr & UART_MCR_RTS) != 0 ? UART_MSR_CTS : 0) | ((mcr & UART_MCR_DTR) != 0 ? UART_MSR_DSR : 0)
                    | ((mcr & UART_MCR_OUT1) != 0 ? UART_MSR_RI : 0) | ((mcr & UART_MCR_OUT2) != 0 ? UART_MSR_DCD : 0);
        } else {
            lines = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
        }
        int delta = 0;
        if (((old ^ lines) & UART_MSR_CTS) != 0) {
            delta |= UART_MSR_DCTS;
        }
        if (((old ^ lines) & UART_MSR_DSR) != 0) {
            delta |= UART_MSR_DDSR;
        }
        if ((old & UART_MSR_RI) != 0 && (lines & UART_MSR_RI) == 0) {
            delta |= UART_MSR_TERI;   // trailing edge of ring indicator
        }
        if (((old ^ lines) & UART_MSR_DCD) != 0) {
            delta |= UART_MSR_DDCD;
        }
        msr = lines | (old & 0x0f) | delta;
    }

    @Override
    public synchronized int read(int offset, int size) {
        return ByteRegisters.read(this::readByte, offset, size);
    }

    private int readByte(int offset) {
        int value = switch (offset & 7) {
            case UART_RBR -> (lcr & UART_LCR_DLAB) != 0 ? divisor & 0xff : readRbr();
            case UART_IER -> (lcr & UART_LCR_DLAB) != 0 ? (divisor >> 8) & 0xff : ier;
            case UART_IIR -> {
                int id = interruptId();
                if (id == UART_IIR_THRI) {
                    thrInterrupt = false;   // reading IIR with THRE as the source acknowledges it
                }
                yield id | (fifoEnabled() ? UART_IIR_FE : 0);
            }
            case UART_LCR -> lcr;
            case UART_MCR -> mcr;
            case UART_LSR -> {
                int v = lsr;
                lsr &= ~UART_LSR_INT_ANY;   // error and break bits clear when read
                yield v;
            }
            case UART_MSR -> {
                int v = msr;
                msr &= 0xf0;   // delta bits clear when read
                yield v;
            }
            default -> scr;
        };
        updateIrq();
        return value;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        ByteRegisters.write(this::writeByte, offset, size, value);
    }

    private void writeByte(int offset, int value) {
        switch (offset & 7) {
            case UART_RBR -> {
                if ((lcr & UART_LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff00) | value;
                } else {
                    transmit(value);
                }
            }
            case UART_IER -> {
                if ((lcr & UART_LCR_DLAB) != 0) {
                    divisor = (divisor & 0x00ff) | value << 8;
                } else {
                    int old = ier;
                    ier = value & 0x0f;
                    if ((ier & UART_IER_THRI) != 0 && (old & UART_IER_THRI) == 0 && (lsr & UART_LSR_THRE) != 0) {
                        thrInterrupt = true;   // enabling ETBEI with THR empty interrupts at once
                    }
                }
            }
            case UART_IIR -> writeFcr(value);
            case UART_LCR -> lcr = value;
            case UART_MCR -> {
                int old = mcr;
                mcr = value & 0x1f;
                updateLoopbackModemStatus(old);
            }
            case UART_LSR, UART_MSR -> { }   // status registers: writes ignored (factory test only)
            default -> scr = value;
        }
        updateIrq();
    }

    private void writeFcr(int value) {
        if (((value ^ fcr) & UART_FCR_FE) != 0) {
            // Enabling or disabling the FIFOs clears them.
            value |= UART_FCR_RFR | UART_FCR_XFR;
        }
        if ((value & UART_FCR_RFR) != 0) {
            rxHead = 0;
            rxCount = 0;
            lsr &= ~UART_LSR_DR;
            timeoutInterrupt = false;
            timeoutTimer.cancel();
        }
        fcr = value & (UART_FCR_FE | UART_FCR_ITL_MASK);
    }

    @Override
    public String name() {
        return name;
    }
}
