package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The BIOS's view of KVM's sync regs (shared/spec/kvm.md §3.3–3.5, §5.5): offsets and dirty bits. */
class KvmRegisterFileTest {
    private final ByteBuffer run = ByteBuffer.allocateDirect(12288).order(ByteOrder.LITTLE_ENDIAN);
    private final KvmRegisterFile regs = new KvmRegisterFile(run);

    @Test
    void generalRegistersAreTheKvmRegsSlotsInEncodingOrder() {
        long[] kvmOrder = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};   // rax rbx rcx rdx rsi rdi rsp rbp
        for (int i = 0; i < kvmOrder.length; i++) {
            run.putLong(KvmRunLayout.REGS + 8 * i, kvmOrder[i]);
        }
        assertEquals(0x11, regs.gpr(Gpr.EAX));
        assertEquals(0x33, regs.gpr(Gpr.ECX));
        assertEquals(0x44, regs.gpr(Gpr.EDX));
        assertEquals(0x22, regs.gpr(Gpr.EBX));
        assertEquals(0x77, regs.gpr(Gpr.ESP));
        assertEquals(0x88, regs.gpr(Gpr.EBP));
        assertEquals(0x55, regs.gpr(Gpr.ESI));
        assertEquals(0x66, regs.gpr(Gpr.EDI));
        assertEquals(0, run.getLong(KvmRunLayout.KVM_DIRTY_REGS), "reading marks nothing dirty");
    }

    @Test
    void settingAnHalfRegisterKeepsTheUpperBitsAndMarksRegsDirty() {
        run.putLong(KvmRunLayout.REGS + KvmRunLayout.RAX, 0xdead_0201L);
        regs.setHigh8(Gpr.EAX, 0x42);
        assertEquals(0xdead_4201L, run.getLong(KvmRunLayout.REGS + KvmRunLayout.RAX));
        assertEquals(KvmIoctls.KVM_SYNC_X86_REGS, run.getLong(KvmRunLayout.KVM_DIRTY_REGS));
    }

    @Test
    void realModeSegmentLoadSetsBaseLimitAndMarksSregsDirty() {
        regs.loadRealModeSegment(Segment.ES, 0x07c0);
        assertEquals(0x07c0, regs.selector(Segment.ES));
        assertEquals(0x7c00, regs.segmentBase(Segment.ES));
        assertEquals(0xffff, run.getInt(KvmRunLayout.SREGS + KvmRunLayout.SEG_ES + KvmRunLayout.SEG_LIMIT));
        assertEquals(1, run.get(KvmRunLayout.SREGS + KvmRunLayout.SEG_ES + KvmRunLayout.SEG_PRESENT));
        assertEquals(KvmIoctls.KVM_SYNC_X86_SREGS, run.getLong(KvmRunLayout.KVM_DIRTY_REGS));
    }

    @Test
    void protectedModeIsCr0Pe() {
        assertFalse(regs.protectedMode());
        run.putLong(KvmRunLayout.SREGS + KvmRunLayout.CR0, 0x11);
        assertTrue(regs.protectedMode());
    }
}
