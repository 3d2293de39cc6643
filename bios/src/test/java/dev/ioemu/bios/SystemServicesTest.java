package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** INT 11h, 12h and 15h (shared/spec/int13.md §8.2–8.3) as Linux's and GRUB's probes call them. */
class SystemServicesTest {
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

    void int15(int ax) {
        kit.regs.setAx(ax);
        kit.interrupt(0x15);
    }

    @Test
    void int11AndInt12ReadTheBda() {
        kit.interrupt(0x11);
        assertEquals(0x0220, kit.regs.ax(), "80x25 colour, one COM port, no x87 (bit 1): the software CPU has none");
        kit.interrupt(0x12);
        assertEquals(639, kit.regs.ax());
    }

    record E820(long base, long length, int type) {
    }

    @Test
    void e820LoopAsLinuxRunsIt() {
        List<E820> got = new ArrayList<>();
        int ebx = 0;
        do {
            kit.set(Gpr.EAX, 0xE820);
            kit.set(Gpr.EDX, SystemServices.SMAP);
            kit.set(Gpr.ECX, 24);
            kit.set(Gpr.EBX, ebx);
            kit.regs.loadRealModeSegment(Segment.ES, 0);
            kit.regs.setDi(0x800);
            kit.interrupt(0x15);
            assertFalse(kit.carry());
            assertEquals(SystemServices.SMAP, kit.regs.gpr(Gpr.EAX));
            assertEquals(20, kit.regs.gpr(Gpr.ECX));
            got.add(new E820(kit.memory.readQword(0x800), kit.memory.readQword(0x808), kit.memory.readDword(0x810)));
            ebx = kit.regs.gpr(Gpr.EBX);
        } while (ebx != 0 && got.size() < 20);
        assertEquals(List.of(
                new E820(0, 0x9FC00, 1),
                new E820(0x9FC00, 0x400, 2),
                new E820(0xF0000, 0x10000, 2),
                new E820(0x100000, GuestKit.RAM - 0x100000, 1),
                new E820(0xFFFC0000L, 0x40000, 2)), got);
    }

    @Test
    void e820RejectsBadSignatureShortBufferAndBadContinuation() {
        kit.set(Gpr.EAX, 0xE820);
        kit.set(Gpr.EDX, 0x1234);
        kit.set(Gpr.ECX, 20);
        kit.set(Gpr.EBX, 0);
        kit.interrupt(0x15);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
        kit.set(Gpr.EAX, 0xE820);
        kit.set(Gpr.EDX, SystemServices.SMAP);
        kit.set(Gpr.ECX, 19);
        kit.interrupt(0x15);
        assertTrue(kit.carry());
        kit.set(Gpr.EAX, 0xE820);
        kit.set(Gpr.ECX, 20);
        kit.set(Gpr.EBX, 99);
        kit.interrupt(0x15);
        assertTrue(kit.carry());
        kit.set(Gpr.EAX, 0xE820);
        kit.set(Gpr.EBX, 0);
        kit.regs.loadSegment(Segment.ES, 0, GuestKit.RAM - 10);
        kit.regs.setDi(0);
        kit.interrupt(0x15);
        assertTrue(kit.carry(), "buffer outside RAM");
    }

    @Test
    void mapAbove4GibAndTheHole() {
        E820Map m = E820Map.forRam(5L << 30);
        assertEquals(new E820Map.Entry(0x100000, 0xE0000000L - 0x100000, 1), m.entries().get(3));
        assertEquals(new E820Map.Entry(1L << 32, (5L << 30) - 0xE0000000L, 1), m.entries().get(5));
    }

    @Test
    void e801And88() {
        int15(0xE801);
        assertFalse(kit.carry());
        assertEquals(15 * 1024, kit.regs.ax());
        assertEquals(15 * 1024, kit.regs.cx());
        assertEquals(0, kit.regs.bx());
        assertEquals(0, kit.regs.dx());
        kit.regs.setEflags(kit.regs.eflags() | 1);
        int15(0x8800);
        assertFalse(kit.carry());
        assertEquals(15 * 1024, kit.regs.ax());
    }

    @Test
    void e801ForLargerMachines() {
        E820Map m = E820Map.forRam(128L << 20);
        assertEquals((127L << 20), m.extendedBelow4g());
    }

    @Test
    void a20GateFunctions() {
        int15(0x2400);
        assertFalse(kit.carry());
        assertFalse(kit.a20.isEnabled());
        int15(0x2402);
        assertEquals(0x0000, kit.regs.ax());
        int15(0x2401);
        assertTrue(kit.a20.isEnabled());
        int15(0x2402);
        assertEquals(0x0001, kit.regs.ax());
        int15(0x2403);
        assertEquals(0x0003, kit.regs.bx());
        assertEquals(0, kit.regs.ah());
        int15(0x2404);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }

    @Test
    void configurationTableAndEbdaSegment() {
        int15(0xC000);
        assertFalse(kit.carry());
        assertEquals(0xF000, kit.regs.selector(Segment.ES));
        assertEquals(0xE6F5, kit.regs.bx());
        assertEquals(0xFC, kit.memory.readByte(0xFE6F5 + 2), "model byte in the table");
        int15(0xC100);
        assertEquals(Ebda.SEGMENT, kit.regs.selector(Segment.ES));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x14, 0x17})
    void serialAndPrinterBiosAreUnsupported(int vector) {
        kit.regs.setAx(0x0000);
        kit.interrupt(vector);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }

    @Test
    void int40DisketteAnswersNoDrive() {
        kit.regs.setAx(0x0201);
        kit.regs.setDx(0x0000);
        kit.interrupt(0x40);
        assertTrue(kit.carry());
        assertEquals(0x01, kit.regs.ah());
        assertEquals(0x01, kit.bda(Bda.FLOPPY_LAST_STATUS));
    }

    @Test
    void keyboardInterceptDefaultSaysProcessIt() {
        int15(0x4F1E);
        assertTrue(kit.carry());
        assertEquals(0x4F1E, kit.regs.ax());
    }

    @ParameterizedTest
    @ValueSource(ints = {0x5300, 0xE980, 0xEC00, 0x8700, 0x0000})
    void unsupportedFunctionsSetCfAndAh86(int ax) {
        int15(ax);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }

    @Test
    void waitParksTheGuestOnTheHltUntilVirtualTimePasses() {
        kit.regs.setCx(0x0001);
        kit.regs.setDx(0x86A0);     // 100,000 µs
        int15(0x8600);
        assertFalse(kit.returnedToCaller());
        assertEquals(0xF000, kit.regs.selector(Segment.CS));
        int hlt = BiosRom.Entry.INT15_SYSTEM.waitOffset();
        assertEquals(hlt, kit.regs.ip());
        assertEquals(0xF4, kit.memory.readByte(kit.linearIp()));
        kit.clock.nanos += 50_000_000;
        resumeFromHlt();
        assertEquals(hlt, kit.regs.ip(), "still waiting at 50 ms");
        kit.clock.nanos += 50_000_000;
        resumeFromHlt();
        assertTrue(kit.returnedToCaller());
        assertFalse(kit.carry());
        assertEquals(0, kit.regs.ah());
    }

    /** An interrupt wakes the HLT; the JMP goes back to the stub's STI; OUT. */
    void resumeFromHlt() {
        kit.regs.setEip(BiosRom.Entry.INT15_SYSTEM.offset);
        kit.runStub();
    }
}
