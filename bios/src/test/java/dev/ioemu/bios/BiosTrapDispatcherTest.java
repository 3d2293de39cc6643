package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.trace.Trace;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The trap contract of shared/spec/kvm.md §7.1 and int13.md §10.2, without any engine. */
class BiosTrapDispatcherTest {
    final GuestKit kit = new GuestKit(List.of());
    final ByteArrayOutputStream traceOut = new ByteArrayOutputStream();

    @AfterEach
    void tracesOff() {
        Trace.disableAll();
        Trace.setOutput(System.err);
        kit.close();
    }

    void captureTrace(String pattern) {
        Trace.setOutput(new PrintStream(traceOut, true, StandardCharsets.UTF_8));
        Trace.enable(pattern);
    }

    String trace() {
        Trace.flush();
        return traceOut.toString(StandardCharsets.UTF_8);
    }

    @Test
    void findsTheServiceByTheOutAddressOrTheAddressAfterIt() {
        BiosTrapDispatcher d = kit.bios.dispatcher();
        long out = BiosRom.BASE + 0xE3FF;
        assertSame(BiosRom.Entry.INT13_DISK, d.entryAt(out));
        assertSame(BiosRom.Entry.INT13_DISK, d.entryAt(out + 2));
        assertSame(BiosRom.Entry.INT13_DISK, d.entryAt(BiosRom.HIGH_ALIAS + 0xE3FF), "the alias below 4 GiB");
        assertEquals(null, d.entryAt(out + 1));
        assertEquals(null, d.entryAt(out + 3));
        assertEquals(null, d.entryAt(0x7C00));
    }

    @Test
    void patchesCarryAndZeroIntoTheFrameTheIretRestores() {
        kit.powerOn();
        kit.regs.setEflags(0x0046);     // caller: ZF and PF set, CF clear
        kit.regs.setAx(0x0100);         // INT 16h AH=01h: no key -> ZF=1, then a key -> ZF=0
        kit.interrupt(0x16);
        assertTrue(kit.zero());
        kit.keyboard.offerText("x");
        kit.regs.setAx(0x0100);
        kit.interrupt(0x16);
        assertFalse(kit.zero());
        assertEquals(0x04, kit.regs.eflags() & 0x04, "other caller flags survive");
        kit.regs.setAx(0x5300);         // INT 15h APM: unsupported -> CF=1, AH=86h
        kit.interrupt(0x15);
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }

    @Test
    void ignoresAndTracesAnOutFromAnywhereElse() {
        captureTrace("bios_trap_unknown");
        kit.powerOn();
        kit.memory.write(0x7C00, new byte[] {(byte) 0xE6, (byte) 0xE0}, 0, 2);
        kit.regs.loadRealModeSegment(Segment.CS, 0);
        kit.regs.setEip(0x7C00);
        kit.regs.setAx(0x0201);
        kit.regs.setSp(0x6000);
        kit.memory.writeWord(0x6004, 0x1234);
        String before = kit.regs.toString();
        assertEquals(BiosTrapDispatcher.Outcome.UNKNOWN_ADDRESS, kit.bios.dispatcher().trap(kit.regs));
        assertEquals(before, kit.regs.toString(), "registers untouched");
        assertEquals(0x1234, kit.memory.readWord(0x6004), "no frame patched");
        assertTrue(trace().contains("bios_trap_unknown linear 0x7c00 cs 0x0000 ip 0x7c00"), trace());
    }

    @Test
    void refusesProtectedModeCallers() {
        kit.powerOn();
        kit.regs.setProtectedMode(true);
        kit.regs.setAx(0x0800);
        kit.regs.setDl(0x80);
        assertEquals(BiosTrapDispatcher.Outcome.REFUSED_PROTECTED_MODE, kit.interrupt(0x13));
        assertTrue(kit.carry());
        assertEquals(0x86, kit.regs.ah());
    }

    @Test
    void tracesEveryCallWithVectorRegistersAndResult() {
        captureTrace("bios_call");
        kit.powerOn();
        kit.regs.setAx(0x0800);
        kit.regs.setDx(0x0080);
        kit.interrupt(0x13);
        String t = trace();
        assertTrue(t.contains("bios_call int 0x13 ax 0x0800 bx 0x0000 cx 0x0000 dx 0x0080 -> ax 0x0100 cf 1 lat_ns "), t);
    }

    @Test
    void everyTrappingEntryNeedsAService() {
        BiosRom rom = new BiosRom(LocalDate.of(2026, 1, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BiosTrapDispatcher(new GuestMemory(1 << 20), rom, Map.of()));
        assertTrue(e.getMessage().startsWith("BIOS service for "), e.getMessage());
    }

    @Test
    void aServiceBugIsAnUnsupportedAnswerNotACrash() {
        GuestMemory memory = new GuestMemory(1 << 20);
        BiosRom rom = new BiosRom(LocalDate.of(2026, 1, 1));
        Map<BiosRom.Entry, BiosService> services = new java.util.EnumMap<>(BiosRom.Entry.class);
        for (BiosRom.Entry e : rom.trapLinearAddresses().values()) {
            services.put(e, call -> {
                throw new IllegalStateException("bug");
            });
        }
        BiosTrapDispatcher d = new BiosTrapDispatcher(memory, rom, services);
        PlainRegisterFile regs = new PlainRegisterFile();
        regs.loadRealModeSegment(Segment.CS, 0xF000);
        regs.setEip(0xE3FF);
        regs.setSp(0x1000);
        assertEquals(BiosTrapDispatcher.Outcome.SERVICED, d.trap(regs));
        assertEquals(0x86, regs.ah());
        assertEquals(1, memory.readWord(0x1004) & 1, "CF in the frame");
    }
}
