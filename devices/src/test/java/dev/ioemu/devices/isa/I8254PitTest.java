package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.time.TestClock;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 8254 and port 61h driven as firmware and loaders do, under virtual time (datasheet 231164). */
class I8254PitTest {
    private final TestClock clock = new TestClock();
    private final IoPortBus bus = new IoPortBus();
    /** IRQ 0 edges: +t for a raise at t ns, -t for a lower (no edge happens at t = 0 but a load's). */
    private final List<Long> irq0 = new ArrayList<>();
    private final List<Long> raises = new ArrayList<>();
    private boolean irq0Level;
    /** Edges only: the PIT drives its level at every evaluation, as the PIC sees it. */
    private final I8254Pit pit = new I8254Pit(clock, level -> {
        if (level == irq0Level) {
            return;
        }
        irq0Level = level;
        irq0.add(level ? clock.nanos() : -clock.nanos());
        if (level) {
            raises.add(clock.nanos());
        }
    });

    I8254PitTest() {
        bus.map(0x40, 4, pit);
        bus.map(0x61, 1, new NmiStatusControlPort(pit, clock));
    }

    /** The time of PIT clock pulse k. */
    private static long tick(long k) {
        return I8254Pit.nanosOfTick(k);
    }

    private void program(int counter, int mode, int count) {
        bus.write(0x43, 1, counter << 6 | I8254Pit.RW_LSB_MSB << 4 | mode << 1);
        bus.write(0x40 + counter, 1, count & 0xff);
        bus.write(0x40 + counter, 1, (count >> 8) & 0xff);
    }

    private int latchAndRead(int counter) {
        bus.write(0x43, 1, counter << 6);
        return bus.read(0x40 + counter, 1) | bus.read(0x40 + counter, 1) << 8;
    }

    private boolean out2() {
        return (bus.read(0x61, 1) & NmiStatusControlPort.TMR2_OUT_STS) != 0;
    }

    @Test
    void tickArithmeticIsExactAndDriftFree() {
        assertEquals(0, I8254Pit.ticksAt(837));
        assertEquals(1, I8254Pit.ticksAt(tick(1)));
        assertEquals(0, I8254Pit.ticksAt(tick(1) - 1));
        assertEquals(1_193_182L * 3600 * 24 * 365, I8254Pit.ticksAt(3600L * 24 * 365 * 1_000_000_000L), "one year");
        for (long k : new long[] {1, 2, 65536, 1_193_181, 1_193_182, 10_000_000_007L}) {
            assertEquals(k, I8254Pit.ticksAt(tick(k)));
            assertEquals(k - 1, I8254Pit.ticksAt(tick(k) - 1));
        }
    }

    @Nested
    class Modes {
        @Test
        void mode0InterruptOnTerminalCount() {
            program(0, 0, 1000);
            assertEquals(List.of(), irq0, "OUT low after the control word: the line was already low");
            clock.setNanos(tick(999));
            assertEquals(1, latchAndRead(0));
            assertTrue(irq0.isEmpty());
            clock.setNanos(tick(1000));
            assertEquals(List.of(tick(1000)), irq0, "OUT rises at terminal count");
            clock.setNanos(tick(1010));
            assertEquals(0xfff6, latchAndRead(0), "keeps counting down and wraps");
        }

        @Test
        void mode0CountsOnlyWhileGateIsHigh() {
            bus.write(0x61, 1, 0x00);
            bus.write(0x43, 1, 0xb0);   // counter 2, LSB then MSB, mode 0
            bus.write(0x42, 1, 100);
            bus.write(0x42, 1, 0);
            clock.setNanos(tick(500));
            assertEquals(100, latchAndRead(2), "gate low: no counting");
            bus.write(0x61, 1, 0x01);
            clock.setNanos(tick(590));
            assertFalse(out2());
            clock.setNanos(tick(600));
            assertTrue(out2());
        }

        @Test
        void mode1OneShotRestartsOnGateTrigger() {
            bus.write(0x43, 1, 0xb2);   // counter 2, mode 1
            bus.write(0x42, 1, 50);
            bus.write(0x42, 1, 0);
            clock.setNanos(tick(200));
            assertFalse(out2(), "the one-shot ran out 50 clocks after the count write");
            bus.write(0x61, 1, 0x01);   // rising GATE triggers it again
            assertTrue(out2(), "QEMU's level while the one-shot runs");
            clock.setNanos(tick(249));
            assertTrue(out2());
            assertEquals(1, latchAndRead(2));
            clock.setNanos(tick(250));
            assertFalse(out2());
        }

        @Test
        void mode2RateGeneratorInterruptsEveryPeriodWithoutDrift() {
            program(0, 2, 1193);
            for (int period = 1; period <= 1000; period++) {
                clock.setNanos(tick(1193L * period));
            }
            assertEquals(1000, raises.size(), "one rising edge per period, the first one period after the load");
            assertEquals(tick(1193), raises.get(0));
            assertEquals(tick(1193L * 1000), raises.get(999));
            assertEquals(tick(1193L * 999 + 1), -irq0.get(irq0.size() - 2), "one clock at the reload");
            assertEquals(1193, latchAndRead(0));
        }

        @Test
        void mode3SquareWaveHalfHighHalfLow() {
            bus.write(0x61, 1, 0x01);
            program(2, 3, 10);
            clock.setNanos(tick(4));
            assertTrue(out2());
            assertEquals(2, latchAndRead(2), "counts down by two");
            clock.setNanos(tick(5));
            assertFalse(out2());
            clock.setNanos(tick(10));
            assertTrue(out2());
        }

        @Test
        void mode4SoftwareStrobePulsesOnce() {
            program(0, 4, 20);
            clock.setNanos(tick(30));
            assertEquals(List.of(tick(20), -tick(21)), irq0, "one clock at terminal count, then no more");
        }

        @Test
        void mode5HardwareStrobeRestartsOnGate() {
            bus.write(0x43, 1, 0xba);   // counter 2, mode 5
            bus.write(0x42, 1, 30);
            bus.write(0x42, 1, 0);
            clock.setNanos(tick(100));
            assertFalse(out2());
            bus.write(0x61, 1, 0x01);   // trigger: count again from the start
            clock.setNanos(tick(129));
            assertFalse(out2());
            clock.setNanos(tick(130));
            assertTrue(out2(), "the strobe at terminal count after the trigger");
            clock.setNanos(tick(131));
            assertFalse(out2());
        }
    }

    @Nested
    class Access {
        @ParameterizedTest
        @CsvSource({"1, 0x34", "2, 0x12"})
        void lsbOnlyAndMsbOnlyAccess(int rw, String expected) {
            bus.write(0x43, 1, 0x40 | rw << 4 | 0x04);   // counter 1, mode 2
            bus.write(0x41, 1, rw == 1 ? 0x34 : 0x12);
            assertEquals(Integer.decode(expected), bus.read(0x41, 1));
        }

        @Test
        void latchFreezesTheValueUntilBothBytesAreRead() {
            program(1, 2, 0x1234);
            bus.write(0x43, 1, 0x40);
            clock.setNanos(tick(0x34));
            bus.write(0x43, 1, 0x40);   // a second latch is ignored
            assertEquals(0x34, bus.read(0x41, 1));
            assertEquals(0x12, bus.read(0x41, 1));
            assertEquals(0x00, bus.read(0x41, 1), "live count again: 0x1200");
        }

        @Test
        void readBackLatchesStatusAndCount() {
            program(2, 3, 0x0400);
            bus.write(0x43, 1, 0xc8);   // read-back, count and status, counter 2
            assertEquals(0x80 | 0x36, bus.read(0x42, 1), "status: OUT high, LSB/MSB, mode 3, binary");
            assertEquals(0x00, bus.read(0x42, 1));
            assertEquals(0x04, bus.read(0x42, 1));
            bus.write(0x43, 1, 0xd8);   // count only (COUNT bit 5 active low)
            clock.setNanos(tick(3));
            assertEquals(0x00, bus.read(0x42, 1), "gate low: counter 2 holds its count");
        }

        @Test
        void bcdCountsInDecimal() {
            bus.write(0x61, 1, 0x01);
            bus.write(0x43, 1, 0xb1);   // counter 2, LSB/MSB, mode 0, BCD
            bus.write(0x42, 1, 0x00);
            bus.write(0x42, 1, 0x10);   // 1000 decimal
            clock.setNanos(tick(1));
            assertEquals(0x0999, latchAndRead(2));
            clock.setNanos(tick(1000));
            assertTrue(out2());
            clock.setNanos(tick(1001));
            assertEquals(0x9999, latchAndRead(2), "wraps to 9999");
        }
    }

    @Test
    void seabiosCalibrationLoopOnPort61Terminates() {
        // SeaBIOS (no PM timer): gate on, speaker off, counter 2 mode 0 count 0x800, poll bit 5.
        bus.write(0x61, 1, (bus.read(0x61, 1) & ~0x02) | 0x01);
        bus.write(0x43, 1, 0xb0);
        bus.write(0x42, 1, 0x00);
        bus.write(0x42, 1, 0x08);
        int polls = 0;
        while (!out2()) {
            clock.stepNanos(100);   // what a software CPU's instructions would cost
            polls++;
        }
        assertTrue(clock.nanos() >= tick(0x800) && clock.nanos() < tick(0x800) + 100, "OUT2 rose at the 0x800th clock");
        assertTrue(polls > 17_000 && polls < 17_200, "polls: " + polls);
    }

    @Test
    void refreshToggleFollowsTheClock() {
        int first = bus.read(0x61, 1) & NmiStatusControlPort.REF_TOGGLE;
        assertEquals(first, bus.read(0x61, 1) & NmiStatusControlPort.REF_TOGGLE, "no time, no toggle");
        clock.stepNanos(NmiStatusControlPort.REFRESH_PERIOD_NANOS);
        assertEquals(first ^ NmiStatusControlPort.REF_TOGGLE, bus.read(0x61, 1) & NmiStatusControlPort.REF_TOGGLE);
    }

    @Test
    void resetIsMode3WithTheLineLowUntilTheFirstEdge() {
        clock.setNanos(tick(32768));
        assertTrue(irq0.isEmpty(), "falling half-period edge: the line was low already");
        clock.setNanos(tick(65536));
        assertEquals(List.of(tick(65536)), irq0);
    }
}
