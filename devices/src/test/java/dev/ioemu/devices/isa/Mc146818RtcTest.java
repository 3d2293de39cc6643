package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.time.TestClock;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MC146818 through ports 70h/71h as firmware and OS drivers use it. */
class Mc146818RtcTest {
    /** QEMU's reference: -rtc base=2006-06-17T16:01:21 (a Saturday). */
    static final long BASE = LocalDateTime.of(2006, 6, 17, 16, 1, 21).toEpochSecond(ZoneOffset.UTC);

    private final TestClock clock = new TestClock();
    private final IoPortBus bus = new IoPortBus();
    private final List<Boolean> irq8 = new ArrayList<>();
    private final Mc146818Rtc rtc = new Mc146818Rtc(clock, irq8::add, BASE);

    Mc146818RtcTest() {
        bus.map(0x70, 2, rtc);
    }

    private int cmos(int index) {
        bus.write(0x70, 1, 0x80 | index);
        return bus.read(0x71, 1);
    }

    private void setCmos(int index, int value) {
        bus.write(0x70, 1, 0x80 | index);
        bus.write(0x71, 1, value);
    }

    @Test
    void powerOnRegistersAndTimeMatchQemu() {
        int[] expected = {0x21, 0, 0x01, 0, 0x16, 0, 0x07, 0x17, 0x06, 0x06, 0x26, 0x02, 0x00, 0x80};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], cmos(i), "register " + i);
        }
        assertEquals(0x20, cmos(0x32));
        assertEquals(0xff, bus.read(0x70, 1));
        assertTrue(rtc.nmiDisabled());
    }

    @Test
    void timeAdvancesWithTheClockAcrossMidnightAndMonths() {
        clock.stepMillis(1000L * (7 * 3600 + 58 * 60 + 39));   // to 2006-06-18 00:00:00
        assertEquals(0x00, cmos(0x04));
        assertEquals(0x18, cmos(0x07));
        assertEquals(0x01, cmos(0x06), "Sunday");
        clock.stepMillis(1000L * 86_400 * 13);
        assertEquals(0x01, cmos(0x07));
        assertEquals(0x07, cmos(0x08));
    }

    @Test
    void binaryAnd12HourFormats() {
        setCmos(0x0b, Mc146818Rtc.REG_B_DM);   // binary, 12 h
        assertEquals(21, cmos(0x00));
        assertEquals(0x84, cmos(0x04), "16h = 4 PM");
        assertEquals(6, cmos(0x09));
    }

    @Test
    void setBitFreezesAndSetsTheTime() {
        setCmos(0x0b, Mc146818Rtc.REG_B_SET | Mc146818Rtc.REG_B_24H);
        setCmos(0x04, 0x23);
        setCmos(0x02, 0x59);
        setCmos(0x00, 0x58);
        clock.stepMillis(5000);
        assertEquals(0x58, cmos(0x00), "SET holds the registers");
        setCmos(0x0b, Mc146818Rtc.REG_B_24H);
        clock.stepMillis(2000);
        assertEquals(0x00, cmos(0x00));
        assertEquals(0x00, cmos(0x04));
        assertEquals(0x18, cmos(0x07), "rolled into the next day");
    }

    @Test
    void uipIsHighInTheLast244MicrosecondsOfASecond() {
        clock.stepMicros(1_000_000 - 245);
        assertEquals(0x26, cmos(0x0a));
        clock.stepMicros(2);
        assertEquals(0xa6, cmos(0x0a));
        clock.stepMicros(300);
        assertEquals(0x26, cmos(0x0a));
    }

    @Nested
    class Interrupts {
        @Test
        void periodicInterruptAtTheRateOfRegisterA() {
            setCmos(0x0a, 0x26);   // 1024 Hz
            setCmos(0x0b, Mc146818Rtc.REG_B_PIE | Mc146818Rtc.REG_B_24H);
            int interrupts = 0;
            for (int ms = 0; ms < 1000; ms++) {
                clock.stepMillis(1);
                while (!irq8.isEmpty() && irq8.get(irq8.size() - 1)) {
                    assertEquals(0xc0, cmos(0x0c) & 0xc0, "IRQF|PF");
                    interrupts++;
                    irq8.clear();
                }
            }
            assertTrue(interrupts >= 999 && interrupts <= 1000, "interrupts in 1 s at 1024 Hz, one read per ms: " + interrupts);
        }

        @Test
        void periodicFlagWithoutInterruptWhenPieIsOff() {
            clock.stepMillis(2);
            assertEquals(Mc146818Rtc.REG_C_PF, cmos(0x0c));
            assertEquals(0, cmos(0x0c), "reading C cleared it");
            assertTrue(!irq8.contains(true), "no interrupt without PIE");
        }

        @Test
        void updateEndedInterruptEverySecond() {
            setCmos(0x0b, Mc146818Rtc.REG_B_UIE | Mc146818Rtc.REG_B_24H);
            irq8.clear();   // writing B lowered the line
            clock.stepMillis(999);
            assertTrue(irq8.isEmpty());
            clock.stepMillis(1);
            assertEquals(List.of(true), irq8);
            assertEquals(Mc146818Rtc.REG_C_IRQF | Mc146818Rtc.REG_C_UF, cmos(0x0c) & 0xb0, "PF may be set too, AF not");
            assertEquals(List.of(true, false), irq8, "reading C lowers IRQ 8");
            assertEquals(0x22, cmos(0x00));
        }

        @Test
        void alarmInterruptAtTheAlarmTimeWithDontCareHours() {
            setCmos(0x05, 0xc0);   // any hour
            setCmos(0x03, 0x02);
            setCmos(0x01, 0x00);
            setCmos(0x0b, Mc146818Rtc.REG_B_AIE | Mc146818Rtc.REG_B_24H);
            irq8.clear();
            clock.stepMillis(38_000);   // 16:01:59
            assertTrue(irq8.isEmpty());
            clock.stepMillis(1_000);    // 16:02:00
            assertEquals(List.of(true), irq8);
            assertEquals(Mc146818Rtc.REG_C_AF, cmos(0x0c) & Mc146818Rtc.REG_C_AF);
        }

        @Test
        void dividerResetStopsTheClock() {
            setCmos(0x0a, 0x76);
            clock.stepMillis(3000);
            assertEquals(0x21, cmos(0x00));
            setCmos(0x0a, 0x26);
            clock.stepMillis(499);
            assertEquals(0x21, cmos(0x00));
            clock.stepMillis(1);
            assertEquals(0x22, cmos(0x00), "first update half a second after the reset ends");
        }
    }

    @Test
    void resetClearsShutdownStatusAndInterruptEnables() {
        setCmos(0x0f, 0x05);
        setCmos(0x0b, Mc146818Rtc.REG_B_PIE | Mc146818Rtc.REG_B_24H);
        rtc.reset();
        assertEquals(0, cmos(0x0f));
        assertEquals(Mc146818Rtc.REG_B_24H, cmos(0x0b));
    }

    @Test
    void pcLayoutMatchesQemusPcMachine() {
        PcCmosLayout.apply(rtc, PcCmosLayout.contents(128L << 20, 0, "cad", List.of()));
        assertEquals(0x06, cmos(0x14));
        assertEquals(0x80, cmos(0x15));
        assertEquals(0x02, cmos(0x16));
        assertEquals(0xff, cmos(0x17));
        assertEquals(0xff, cmos(0x31));
        assertEquals(0x00, cmos(0x34));
        assertEquals(0x07, cmos(0x35));
        assertEquals(0x30, cmos(0x38));
        assertEquals(0x12, cmos(0x3d));
        assertEquals(0x20, cmos(0x37), "the PS/2 century byte aliases 0x32");
    }
}
