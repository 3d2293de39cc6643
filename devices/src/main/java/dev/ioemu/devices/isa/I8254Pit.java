package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.time.Clock;

/**
 * Intel 8254 programmable interval timer (datasheet 231164): three 16-bit counters at offsets 0-2
 * and the control word register at offset 3, clocked at 1.193182 MHz. Counter 0's OUT drives IRQ 0,
 * counter 1 (DRAM refresh) has no consumer, counter 2's GATE and OUT belong to port 61h
 * ({@link NmiStatusControlPort}).
 *
 * <p>Time: the counting element is derived from the {@link Clock}, never stepped. Input clock
 * pulse k happens at {@code ceil(k * 10^9 / 1193182)} ns, so tick boundaries are exact integers and
 * a periodic mode never drifts; a counter remembers the clock pulses it has counted
 * ({@code ticksBefore}) plus the pulses since it last started running. Counter 0's OUT edges are
 * timers evaluated at their own pulse, so a late timer (host clock) loses no interrupt.
 *
 * <p>OUT is QEMU 7.2's: modes 0 and 3 as in the datasheet; in modes 1, 2, 4 and 5 it is the
 * datasheet's level inverted (mode 2: high for the one clock at reload, so the rising edge that
 * interrupts comes at the same clock as on the chip), and counting in modes 1 and 5 starts at the
 * count write as well as at a GATE trigger. Firmware and loaders only use modes 0 (port 61h
 * calibration), 2 and 3, where the interrupts are the same either way. M2-M0 = 6 and 7 act as
 * modes 2 and 3 (datasheet; QEMU treats them as mode 0). As in QEMU, a counter read after a
 * control word but before the new count continues from the old count, and NULL COUNT (status
 * bit 6) reads 0. Unlike QEMU, GATE low stops counting in modes 0 and 2-4 (datasheet).
 */
public final class I8254Pit implements PortDevice {
    public static final long PIT_FREQ_HZ = 1_193_182;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    public static final int CONTROL_WORD = 3;
    /** Control word fields: SC1-SC0 (bits 7-6), RW1-RW0 (5-4), M2-M0 (3-1), BCD (0). */
    public static final int SC_READ_BACK = 3;
    public static final int RW_LATCH = 0;
    public static final int RW_LSB = 1;
    public static final int RW_MSB = 2;
    public static final int RW_LSB_MSB = 3;
    /** Read-back command bits: COUNT and STATUS are active low, CNT2-CNT0 select counters. */
    public static final int READ_BACK_NOT_COUNT = 0x20;
    public static final int READ_BACK_NOT_STATUS = 0x10;
    public static final int STATUS_OUTPUT = 0x80;

    /** Byte-sequencing state of a read or write (the second byte of an LSB-then-MSB access). */
    private static final int SECOND_BYTE = 4;

    /** One counter. */
    private final class Counter {
        final int index;
        final IrqLine out;
        final Clock.Timer outTimer;
        int mode;            // M2-M0 as written (6 and 7 act as 2 and 3)
        boolean bcd;
        int rwMode;
        int readState;
        int writeState;
        int writeLatch;
        /** Initial count: 1-0x10000 (binary) or 1-10000 (BCD). */
        int count;
        boolean gate;
        /** After a control word and before its count: OUT held at the mode's initial level. */
        boolean waitingForCount;
        boolean running;
        long ticksBefore;
        long runStartTick;
        int latchedCount;
        int countLatched;       // 0 or the RW state of the latched bytes
        boolean statusLatched;
        int status;
        boolean lineLevel;
        /** OUT while waiting for a count after a control word. */
        boolean heldOut;
        long nextTransition = -1;   // elapsed ticks of the next OUT edge, -1 none

        Counter(int index, IrqLine out) {
            this.index = index;
            this.out = out;
            this.outTimer = out == null ? null : clock.newTimer("pit" + index, this::transition);
        }

        int effectiveMode() {
            return mode >= 6 ? mode - 4 : mode;
        }

        void reset() {
            mode = 3;
            bcd = false;
            rwMode = 0;
            readState = 0;
            writeState = 0;
            writeLatch = 0;
            count = 0x10000;
            gate = index != 2;
            waitingForCount = false;
            running = true;
            ticksBefore = 0;
            runStartTick = ticksAt(clock.nanos());
            countLatched = 0;
            statusLatched = false;
            lineLevel = false;   // the line is low until the first OUT edge, as on QEMU's pc
            if (outTimer != null) {
                outTimer.cancel();
            }
            schedule(elapsed(clock.nanos()));
        }

        long elapsed(long nanos) {
            return ticksBefore + (running ? ticksAt(nanos) - runStartTick : 0);
        }

        void restart() {
            ticksBefore = 0;
            runStartTick = ticksAt(clock.nanos());
            int m = effectiveMode();
            running = gate || m == 1 || m == 5;   // GATE gates counting except in the triggered modes
        }

        boolean outAt(long d) {
            if (waitingForCount) {
                return heldOut;
            }
            long n = count;
            return switch (effectiveMode()) {
                case 0 -> d >= n;
                case 1 -> d < n;
                case 2 -> d % n == 0 && d != 0;
                case 3 -> d % n < (n + 1) / 2;
                default -> d == n;   // modes 4 and 5
            };
        }

        /** The elapsed tick of the next OUT change after {@code d}, or -1. */
        long nextTransitionAfter(long d) {
            if (waitingForCount || !running) {
                return -1;
            }
            long n = count;
            return switch (effectiveMode()) {
                case 0, 1 -> d < n ? n : -1;
                case 2 -> n == 1 ? -1 : (d % n == 0 && d != 0 ? d + 1 : d - d % n + n);
                case 3 -> n == 1 ? -1 : (d % n < (n + 1) / 2 ? d - d % n + (n + 1) / 2 : d - d % n + n);
                default -> d < n ? n : d == n ? n + 1 : -1;   // modes 4 and 5
            };
        }

        /** Counting element as read (binary or BCD encoded). */
        int readCount() {
            long d = elapsed(clock.nanos());
            long n = count;
            long value = switch (effectiveMode()) {
                case 2 -> n - d % n;
                case 3 -> n - (2 * d) % n;
                default -> n - d;   // 0, 1, 4, 5 wrap around after terminal count
            };
            if (bcd) {
                value = Math.floorMod(value, 10000);
                return (int) (value / 1000 << 12 | value / 100 % 10 << 8 | value / 10 % 10 << 4 | value % 10);
            }
            return (int) (value & 0xffff);
        }

        /** Re-evaluates OUT now and re-arms the edge timer (after any state change). */
        void update() {
            long d = elapsed(clock.nanos());
            setLine(outAt(d));
            schedule(d);
        }

        void schedule(long d) {
            if (outTimer == null) {
                return;
            }
            nextTransition = nextTransitionAfter(d);
            if (nextTransition < 0) {
                outTimer.cancel();
            } else {
                outTimer.arm(nanosOfTick(runStartTick + nextTransition - ticksBefore));
            }
        }

        /** Timer: OUT at the scheduled clock pulse, whatever the clock reads now. */
        void transition() {
            synchronized (I8254Pit.this) {
                long d = nextTransition;
                if (d < 0) {
                    return;
                }
                setLine(outAt(d));
                schedule(d);
            }
        }

        /** Drives OUT onto the line at every evaluation, changed or not (the PIC sees edges only). */
        void setLine(boolean level) {
            if (out != null) {
                lineLevel = level;
                out.set(level);
            }
        }

        void loadCount(int value) {
            int n = value;
            if (n == 0) {
                n = bcd ? 10000 : 0x10000;
            } else if (bcd) {
                n = fromBcd(value);
                if (n == 0) {
                    n = 10000;
                }
            }
            count = n;
            waitingForCount = false;
            restart();
            update();
        }

        void latchCount() {
            if (countLatched == 0) {   // a second latch before the read is ignored
                latchedCount = readCount();
                countLatched = rwMode;
            }
        }

        void latchStatus() {
            if (!statusLatched) {
                boolean o = outAt(elapsed(clock.nanos()));
                status = (o ? STATUS_OUTPUT : 0) | rwMode << 4 | mode << 1 | (bcd ? 1 : 0);
                statusLatched = true;
            }
        }

        void controlWord(int value) {
            int rw = (value >> 4) & 3;
            if (rw == RW_LATCH) {
                latchCount();
                return;
            }
            heldOut = outAt(elapsed(clock.nanos()));
            rwMode = rw;
            readState = rw;
            writeState = rw;
            mode = (value >> 1) & 7;
            bcd = (value & 1) != 0;
            // Counting stops until the count is written; as on QEMU 7.2, OUT keeps its level
            // until then (the datasheet sets the mode's initial level here).
            waitingForCount = true;
            if (outTimer != null) {
                outTimer.cancel();
            }
        }

        void setGate(boolean level) {
            boolean was = gate;
            gate = level;
            if (was != level) {
                long now = clock.nanos();
                switch (effectiveMode()) {
                    case 0, 4 -> {
                        // GATE low suspends counting; high resumes it where it stopped.
                        if (level) {
                            runStartTick = ticksAt(now);
                            running = true;
                        } else {
                            ticksBefore = elapsed(now);
                            running = false;
                        }
                    }
                    case 2, 3 -> {
                        // Low stops counting (OUT high); a rising edge reloads the count.
                        if (level) {
                            restart();
                        } else {
                            ticksBefore = elapsed(now);
                            running = false;
                        }
                    }
                    default -> {
                        if (level) {
                            restart();   // modes 1 and 5: the rising edge is the trigger
                        }
                    }
                }
            }
            update();
        }

        int read() {
            if (statusLatched) {
                statusLatched = false;
                return status;
            }
            if (countLatched != 0) {
                return switch (countLatched) {
                    case RW_MSB -> {
                        countLatched = 0;
                        yield (latchedCount >> 8) & 0xff;
                    }
                    case RW_LSB_MSB -> {
                        countLatched = RW_MSB;   // the MSB follows
                        yield latchedCount & 0xff;
                    }
                    default -> {
                        countLatched = 0;
                        yield latchedCount & 0xff;
                    }
                };
            }
            int c = readCount();
            return switch (readState) {
                case RW_MSB -> (c >> 8) & 0xff;
                case RW_LSB_MSB -> {
                    readState = SECOND_BYTE;
                    yield c & 0xff;
                }
                case SECOND_BYTE -> {
                    readState = RW_LSB_MSB;
                    yield (c >> 8) & 0xff;
                }
                default -> c & 0xff;
            };
        }

        void write(int value) {
            switch (writeState) {
                case RW_MSB -> loadCount(value << 8);
                case RW_LSB_MSB -> {
                    writeLatch = value;
                    writeState = SECOND_BYTE;
                }
                case SECOND_BYTE -> {
                    loadCount(writeLatch | value << 8);
                    writeState = RW_LSB_MSB;
                }
                default -> loadCount(value);
            }
        }
    }

    private final Clock clock;
    private final Counter[] counters = new Counter[3];

    /** @param irq0 counter 0's OUT line (ISA IRQ 0) */
    public I8254Pit(Clock clock, IrqLine irq0) {
        this.clock = clock;
        counters[0] = new Counter(0, irq0);
        counters[1] = new Counter(1, null);
        counters[2] = new Counter(2, null);
        reset();
    }

    public synchronized void reset() {
        for (Counter c : counters) {
            c.reset();
        }
    }

    /** Clock pulses from time 0 to {@code nanos}: floor(nanos * f / 10^9), exactly. */
    static long ticksAt(long nanos) {
        return nanos / NANOS_PER_SECOND * PIT_FREQ_HZ + nanos % NANOS_PER_SECOND * PIT_FREQ_HZ / NANOS_PER_SECOND;
    }

    /** The time of clock pulse {@code tick}: the first ns at which {@link #ticksAt} reaches it. */
    static long nanosOfTick(long tick) {
        long whole = tick / PIT_FREQ_HZ;
        long rest = tick % PIT_FREQ_HZ;
        return whole * NANOS_PER_SECOND + (rest * NANOS_PER_SECOND + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
    }

    private static int fromBcd(int v) {
        return (v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf);
    }

    @Override
    public synchronized int read(int offset, int size) {
        return ByteRegisters.read(this::readRegister, offset, size);
    }

    private int readRegister(int offset) {
        int reg = offset & 3;
        if (reg == CONTROL_WORD) {
            return 0;   // write-only; QEMU 7.2 answers 0
        }
        return counters[reg].read();
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        ByteRegisters.write(this::writeRegister, offset, size, value);
    }

    private void writeRegister(int offset, int value) {
        int reg = offset & 3;
        if (reg != CONTROL_WORD) {
            counters[reg].write(value);
            return;
        }
        int select = value >> 6;
        if (select != SC_READ_BACK) {
            counters[select].controlWord(value);
            return;
        }
        for (int i = 0; i < 3; i++) {
            if ((value & (2 << i)) != 0) {
                // Read-back: latch count and/or status of each selected counter.
                if ((value & READ_BACK_NOT_COUNT) == 0) {
                    counters[i].latchCount();
                }
                if ((value & READ_BACK_NOT_STATUS) == 0) {
                    counters[i].latchStatus();
                }
            }
        }
    }

    /** Counter 2's GATE, driven by port 61h bit 0. */
    public synchronized void setGate2(boolean level) {
        counters[2].setGate(level);
    }

    public synchronized boolean gate2() {
        return counters[2].gate;
    }

    /** Counter 2's OUT now (port 61h bit 5). */
    public synchronized boolean out2() {
        Counter c = counters[2];
        return c.outAt(c.elapsed(clock.nanos()));
    }

    @Override
    public String name() {
        return "pit";
    }
}
