package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Gpr;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** INT 1Ah (shared/spec/int13.md §8.5) on the injected RTC 2026-12-07 13:45:30 UTC. */
class TimeServicesTest {
    GuestKit kit;

    @BeforeEach
    void start() {
        kit = new GuestKit(List.of());
        kit.powerOn();
    }

    @AfterEach
    void stop() {
        kit.close();
    }

    void int1a(int ax) {
        kit.regs.setAx(ax);
        kit.interrupt(0x1A);
    }

    @Test
    void ticksAndTheMidnightFlag() {
        kit.memory.writeByte(0x470, 1);
        int1a(0x0000);
        assertEquals(49_530L * 1_193_182 / 65_536, (long) kit.regs.cx() << 16 | kit.regs.dx());
        assertEquals(1, kit.regs.al());
        assertEquals(0, kit.memory.readByte(0x470), "reading clears the flag");
        kit.regs.setCx(0x0012);
        kit.regs.setDx(0x3456);
        int1a(0x0100);
        assertEquals(0x0012_3456, kit.memory.readDword(0x46C));
        assertFalse(kit.carry());
    }

    @Test
    void rtcTimeAndDateInBcd() {
        int1a(0x0200);
        assertFalse(kit.carry());
        assertEquals(0x13, kit.regs.ch());
        assertEquals(0x45, kit.regs.cl());
        assertEquals(0x30, kit.regs.dh());
        assertEquals(0x00, kit.regs.dl());
        int1a(0x0400);
        assertEquals(0x20, kit.regs.ch());
        assertEquals(0x26, kit.regs.cl());
        assertEquals(0x12, kit.regs.dh());
        assertEquals(0x07, kit.regs.dl());
    }

    @Test
    void settingTheClockMovesLaterReads() {
        kit.regs.setCx(0x2359);
        kit.regs.setDx(0x5800);
        int1a(0x0300);
        assertFalse(kit.carry());
        int1a(0x0200);
        assertEquals(0x23, kit.regs.ch());
        assertEquals(0x59, kit.regs.cl());
        kit.regs.setCx(0x1999);
        kit.regs.setDx(0x1231);
        int1a(0x0500);
        int1a(0x0400);
        assertEquals(0x19, kit.regs.ch());
        assertEquals(0x99, kit.regs.cl());
        kit.regs.setCx(0x2AFF);
        int1a(0x0300);
        assertTrue(kit.carry(), "not BCD");
    }

    @Test
    void noTpmLeavesEaxAndNoPciBiosSays81() {
        kit.set(Gpr.EAX, 0xBB00);
        kit.interrupt(0x1A);
        assertEquals(0xBB00, kit.regs.gpr(Gpr.EAX));
        assertTrue(kit.carry());
        kit.set(Gpr.EDX, 0x1111_2222);
        int1a(0xB101);
        assertTrue(kit.carry());
        assertEquals(0x81, kit.regs.ah());
        assertEquals(0x1111_2222, kit.regs.gpr(Gpr.EDX));
        int1a(0x4200);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }
}
