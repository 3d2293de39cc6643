package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ioemu.bios.RegisterFile.Segment;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The engine-less call path probes use: only the ROM's own stubs are run. */
class InterruptRunnerTest {
    @Test
    void runsStubsReportsRedirectsAndRefusesGuestCode() {
        try (GuestKit kit = new GuestKit(List.of())) {
            kit.powerOn();
            InterruptRunner runner = new InterruptRunner(kit.memory, kit.bios.dispatcher());
            PlainRegisterFile regs = kit.regs;
            regs.loadRealModeSegment(Segment.CS, 0);
            regs.setEip(0x7E00);
            regs.setSp(0x6000);
            assertEquals(InterruptRunner.Result.RETURNED, runner.interrupt(regs, 0x12));
            assertEquals(639, regs.ax());
            assertEquals(0x7E00, regs.ip());
            assertEquals(0x6000, regs.sp(), "frame popped");

            regs.setAx(0x0000);
            assertEquals(InterruptRunner.Result.REDIRECTED, runner.interrupt(regs, 0x16), "no key: wait loop");

            kit.memory.writeDword(4 * 0x60, 0x0000_0500);
            regs.loadRealModeSegment(Segment.CS, 0);
            regs.setEip(0x7E00);
            regs.setSp(0x6000);
            assertEquals(InterruptRunner.Result.NOT_A_BIOS_STUB, runner.interrupt(regs, 0x60));
            kit.memory.writeDword(4 * 0x61, BiosRom.Entry.EOI_MASTER.farPointer());
            assertEquals(InterruptRunner.Result.NOT_A_BIOS_STUB, runner.interrupt(regs, 0x61),
                    "ROM code without a trap is for a CPU to run");
        }
    }
}
