package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.bios.RegisterFile;

import java.nio.ByteBuffer;

import static dev.ioemu.emulator.engine.kvm.KvmRunLayout.*;

/**
 * The BIOS trap contract's register file over KVM's sync regs (shared/spec/kvm.md §5.5): reads
 * come from the {@code kvm_regs}/{@code kvm_sregs} copies the kernel stored in the run area at
 * the exit; writes go there too and set the matching {@code kvm_dirty_regs} bit, so the next
 * KVM_RUN loads them — no register ioctl per trap. Valid only on the vCPU thread between an exit
 * and the next KVM_RUN.
 */
final class KvmRegisterFile implements RegisterFile {
    /** kvm_regs offsets of EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI (x86 encoding order). */
    private static final int[] GPR = {RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI};
    /** kvm_sregs offsets of ES, CS, SS, DS, FS, GS. */
    private static final int[] SEGMENT = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};

    private final ByteBuffer run;

    KvmRegisterFile(ByteBuffer run) {
        this.run = run;
    }

    private void dirty(int bits) {
        run.putLong(KVM_DIRTY_REGS, run.getLong(KVM_DIRTY_REGS) | bits);
    }

    @Override public int gpr(Gpr r) { return (int) run.getLong(REGS + GPR[r.ordinal()]); }

    @Override
    public void setGpr(Gpr r, int value) {
        run.putLong(REGS + GPR[r.ordinal()], value & 0xFFFF_FFFFL);
        dirty(KvmIoctls.KVM_SYNC_X86_REGS);
    }

    @Override public int eip() { return (int) run.getLong(REGS + RIP); }

    @Override
    public void setEip(int value) {
        run.putLong(REGS + RIP, value & 0xFFFF_FFFFL);
        dirty(KvmIoctls.KVM_SYNC_X86_REGS);
    }

    @Override public int eflags() { return (int) run.getLong(REGS + RFLAGS); }

    @Override
    public void setEflags(int value) {
        run.putLong(REGS + RFLAGS, (value & 0xFFFF_FFFFL) | 0x2);   // bit 1 is always 1
        dirty(KvmIoctls.KVM_SYNC_X86_REGS);
    }

    @Override public int selector(Segment s) { return run.getShort(SREGS + SEGMENT[s.ordinal()] + SEG_SELECTOR) & 0xFFFF; }

    @Override public long segmentBase(Segment s) { return run.getLong(SREGS + SEGMENT[s.ordinal()] + SEG_BASE); }

    /** As a real-mode MOV: base = selector × 16, limit FFFFh, a present accessed code/data segment (§6.1). */
    @Override
    public void loadRealModeSegment(Segment s, int selector) {
        int seg = SREGS + SEGMENT[s.ordinal()];
        run.putLong(seg + SEG_BASE, (long) (selector & 0xFFFF) << 4);
        run.putInt(seg + SEG_LIMIT, 0xFFFF);
        run.putShort(seg + SEG_SELECTOR, (short) selector);
        run.put(seg + SEG_TYPE, (byte) (s == Segment.CS ? TYPE_CODE_RX_ACCESSED : TYPE_DATA_RW_ACCESSED));
        run.put(seg + SEG_PRESENT, (byte) 1);
        run.put(seg + SEG_DPL, (byte) 0);
        run.put(seg + SEG_DB, (byte) 0);
        run.put(seg + SEG_S, (byte) 1);
        run.put(seg + SEG_L, (byte) 0);
        run.put(seg + SEG_G, (byte) 0);
        run.put(seg + SEG_UNUSABLE, (byte) 0);
        dirty(KvmIoctls.KVM_SYNC_X86_SREGS);
    }

    @Override public boolean protectedMode() { return (run.getLong(SREGS + CR0) & CR0_PE) != 0; }

    /** The architectural reset state (§3.5): F000:FFF0 with CS base FFFF0000, CR0 60000010h, EDX 600h. */
    void resetToPowerOn() {
        for (int off : GPR) {
            run.putLong(REGS + off, 0);
        }
        for (int r = 64; r < 128; r += 8) {
            run.putLong(REGS + r, 0);   // r8-r15
        }
        run.putLong(REGS + RDX, 0x600);
        run.putLong(REGS + RIP, 0xFFF0);
        run.putLong(REGS + RFLAGS, 0x2);
        for (Segment s : Segment.values()) {
            loadRealModeSegment(s, 0);
        }
        loadRealModeSegment(Segment.CS, 0xF000);
        run.putLong(SREGS + SEG_CS + SEG_BASE, 0xFFFF0000L);
        run.putLong(SREGS + CR0, 0x6000_0010L);
        run.putLong(SREGS + 232, 0);   // cr2
        run.putLong(SREGS + 240, 0);   // cr3
        run.putLong(SREGS + 248, 0);   // cr4
        run.putLong(SREGS + EFER, 0);
        run.putLong(SREGS + GDT, 0);
        run.putShort(SREGS + GDT + 8, (short) 0xFFFF);
        run.putLong(SREGS + IDT, 0);
        run.putShort(SREGS + IDT + 8, (short) 0xFFFF);
        dirty(KvmIoctls.KVM_SYNC_X86_REGS | KvmIoctls.KVM_SYNC_X86_SREGS);
    }

    /** CS:EIP, registers and flags in one line, for error reports. */
    String describe() {
        return String.format("CS:EIP=%04x:%08x (CS base %08x) EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x "
                        + "EBP=%08x ESP=%08x SS=%04x DS=%04x ES=%04x EFLAGS=%08x CR0=%08x",
                selector(Segment.CS), eip(), segmentBase(Segment.CS), gpr(Gpr.EAX), gpr(Gpr.EBX), gpr(Gpr.ECX), gpr(Gpr.EDX),
                gpr(Gpr.ESI), gpr(Gpr.EDI), gpr(Gpr.EBP), gpr(Gpr.ESP), selector(Segment.SS), selector(Segment.DS),
                selector(Segment.ES), eflags(), run.getLong(SREGS + CR0));
    }
}
