package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Segment;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest that hooks INT 13h (DOS, memdisk, GRUB's drivemap) and chains to the old vector with
 * {@code PUSHF; CALL FAR [old]} (shared/spec/int13.md §10.2 "Hooks by guest code"). The BIOS never
 * intercepts the INT instruction: only the ROM stub traps, so the hook runs first, and the stub
 * answers through the frame the hook's PUSHF/CALL FAR built.
 */
class Int13HookTest {
    static final int HOOK_SEG = 0x0000;
    static final int HOOK_IP = 0x0500;
    /** The hook's code after its CALL FAR: where the stub's IRET must return. */
    static final int HOOK_RETURN_IP = 0x0508;

    @TempDir
    Path dir;

    @Test
    void drivemapStyleHookChainsToTheOldVectorAndGetsTheAnswerInItsOwnFrame() throws Exception {
        Path first = GuestKit.sparseImage(dir, "a.img", 1 << 20);
        Path second = GuestKit.sparseImage(dir, "b.img", 1 << 20);
        GuestKit.writeSectors(first, 0, GuestKit.patternSector(1000));
        GuestKit.writeSectors(second, 0, GuestKit.patternSector(2000));
        try (GuestKit kit = GuestKit.withImages(first, second)) {
            kit.powerOn();
            int oldVector = kit.memory.readDword(4 * 0x13);
            assertEquals(0xF000E3FE, oldVector);
            // The hook installs itself, keeping the old vector where its CALL FAR finds it.
            kit.memory.writeDword(0x5F0, oldVector);
            kit.memory.writeDword(4 * 0x13, HOOK_SEG << 16 | HOOK_IP);

            // The caller: INT 13h AH=02h, 1 sector, CHS 0/0/1, DL=80h, ES:BX = 2000:0000.
            kit.regs.loadRealModeSegment(Segment.SS, 0);
            kit.regs.setSp(0x6000);
            kit.regs.setAx(0x0201);
            kit.regs.setCx(0x0001);
            kit.regs.setDx(0x0080);
            kit.regs.loadRealModeSegment(Segment.ES, 0x2000);
            kit.regs.setBx(0);
            kit.regs.setEflags(0x0203);                 // caller: IF=1, CF=1 (stale)
            kit.regs.loadRealModeSegment(Segment.CS, GuestKit.CALLER_CS);
            kit.regs.setEip(GuestKit.CALLER_IP);
            // CPU: INT 13h through the IVT -> the hook, not the BIOS.
            kit.push(kit.regs.eflags());
            kit.push(kit.regs.selector(Segment.CS));
            kit.push(kit.regs.ip());
            kit.regs.setEflags(kit.regs.eflags() & ~0x200);
            int vector = kit.memory.readDword(4 * 0x13);
            kit.regs.loadRealModeSegment(Segment.CS, vector >>> 16);
            kit.regs.setEip(vector & 0xFFFF);
            assertEquals(HOOK_IP, kit.regs.ip(), "the guest's handler runs first");
            int callerFrame = kit.regs.sp();

            // An OUT to the trap port from the hook's own code is not a BIOS call.
            kit.memory.write(HOOK_IP, new byte[] {(byte) 0xE6, (byte) 0xE0}, 0, 2);
            assertEquals(BiosTrapDispatcher.Outcome.UNKNOWN_ADDRESS, kit.bios.dispatcher().trap(kit.regs));

            // Hook: swap 80h and 81h (drivemap), then PUSHF; CALL FAR [0:05F0].
            kit.regs.setDl(0x81);
            kit.push(kit.regs.eflags());
            kit.push(kit.regs.selector(Segment.CS));
            kit.push(HOOK_RETURN_IP);
            int old = kit.memory.readDword(0x5F0);
            kit.regs.loadRealModeSegment(Segment.CS, old >>> 16);
            kit.regs.setEip(old & 0xFFFF);
            kit.runStub();

            // Back in the hook, with the answer in the live FLAGS its frame restored.
            assertEquals(HOOK_SEG, kit.regs.selector(Segment.CS));
            assertEquals(HOOK_RETURN_IP, kit.regs.ip());
            assertFalse(kit.carry());
            assertEquals(0, kit.regs.ah());
            assertEquals(1, kit.regs.al());
            byte[] got = new byte[512];
            kit.memory.read(0x20000, got, 0, 512);
            assertArrayEquals(GuestKit.patternSector(2000), got, "the hook's DL chose the second disk");
            assertEquals(callerFrame, kit.regs.sp(), "the stub popped exactly the hook's frame");
            assertEquals(0x0203, kit.memory.readWord(callerFrame + 4), "caller's frame untouched by the BIOS");

            // Hook: restore DL and return to the caller with its own IRET (after copying CF, as DOS does).
            kit.regs.setDl(0x80);
            int cf = kit.regs.eflags() & 1;
            kit.memory.writeWord(callerFrame + 4, (kit.memory.readWord(callerFrame + 4) & ~1) | cf);
            kit.iret();
            assertTrue(kit.returnedToCaller());
            assertFalse(kit.carry());
        }
    }
}
