package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;

/**
 * Performs a BIOS call the way a CPU reaches it, for callers with no CPU engine (probes that
 * compare our answers with SeaBIOS's, tests): {@code INT n} pushes FLAGS, CS, IP and clears IF/TF,
 * the IVT vector leads into the ROM, the stub's optional STI and its {@code OUT 0xE0, AL} run,
 * the dispatcher serves the trap, and the stub's IRET returns to the caller. Only the ROM's own
 * stub code is understood; a vector that leads anywhere else is reported, not executed.
 */
public final class InterruptRunner {
    static final int OPCODE_STI = 0xFB;
    static final int OPCODE_OUT_IMM8_AL = 0xE6;
    static final int OPCODE_IRET = 0xCF;
    private static final int FLAG_TF = 1 << 8;

    /** How a call ended. */
    public enum Result {
        /** The stub's IRET returned to the caller. */
        RETURNED,
        /** The service moved the guest elsewhere: a wait loop's HLT, the boot sector, the halt loop. */
        REDIRECTED,
        /** CS:IP is not at a trapping ROM stub (a guest hook, a data vector): nothing was run. */
        NOT_A_BIOS_STUB
    }

    private final PhysicalMemory memory;
    private final BiosTrapDispatcher dispatcher;
    private boolean ripAfterOut;
    private BiosTrapDispatcher.Outcome lastOutcome;

    public InterruptRunner(PhysicalMemory memory, BiosTrapDispatcher dispatcher) {
        this.memory = memory;
        this.dispatcher = dispatcher;
    }

    /** Executes {@code INT vector} at the current CS:IP and runs the stub it leads to. */
    public Result interrupt(RegisterFile regs, int vector) {
        push(regs, regs.eflags());
        push(regs, regs.selector(Segment.CS));
        push(regs, regs.ip());
        regs.setEflags(regs.eflags() & ~(BiosCall.FLAG_IF | FLAG_TF));
        int far = memory.readDword(4L * (vector & 0xFF));
        regs.loadRealModeSegment(Segment.CS, far >>> 16);
        regs.setEip(far & 0xFFFF);
        return runStub(regs);
    }

    /**
     * Runs the ROM stub at CS:IP: [STI] OUT 0xE0,AL, the trap, then IRET unless the service
     * redirected the guest. Engines alternate between reporting EIP on and after the OUT here, as
     * KVM's two paths do (kvm.md §7.1), so callers exercise both.
     */
    public Result runStub(RegisterFile regs) {
        long at = regs.segmentBase(Segment.CS) + regs.ip();
        if (!memory.isRam(at, 3) && !isRom(at)) {
            return Result.NOT_A_BIOS_STUB;
        }
        int ip = regs.ip();
        if (memory.readByte(at) == OPCODE_STI) {
            ip++;
            at++;
        }
        if (memory.readByte(at) != OPCODE_OUT_IMM8_AL || memory.readByte(at + 1) != BiosRom.TRAP_PORT
                || dispatcher.entryAt(at) == null) {
            return Result.NOT_A_BIOS_STUB;
        }
        if (ip != regs.ip()) {
            regs.setEflags(regs.eflags() | BiosCall.FLAG_IF);
        }
        ripAfterOut = !ripAfterOut;
        regs.setEip(ripAfterOut ? ip + 2 : ip);
        int reported = regs.ip();
        long csBase = regs.segmentBase(Segment.CS);
        lastOutcome = dispatcher.trap(regs);
        if (regs.ip() != reported || regs.segmentBase(Segment.CS) != csBase) {
            return Result.REDIRECTED;
        }
        regs.setEip(ip + 2);
        if (memory.readByte(regs.segmentBase(Segment.CS) + regs.ip()) != OPCODE_IRET) {
            return Result.REDIRECTED;   // POST: the platform set-up and INT 19h follow
        }
        int returnIp = pop(regs);
        int returnCs = pop(regs);
        int flags = pop(regs);
        regs.loadRealModeSegment(Segment.CS, returnCs);
        regs.setEip(returnIp);
        regs.setEflags((regs.eflags() & 0xFFFF_0000) | flags);
        return Result.RETURNED;
    }

    /** What the dispatcher made of the last trap this runner performed. */
    public BiosTrapDispatcher.Outcome lastOutcome() {
        return lastOutcome;
    }

    private boolean isRom(long at) {
        return at >= BiosRom.BASE && at < BiosRom.BASE + BiosRom.SIZE;
    }

    private void push(RegisterFile regs, int word) {
        regs.setSp(regs.sp() - 2);
        memory.writeWord(regs.linear(Segment.SS, regs.sp()), word);
    }

    private int pop(RegisterFile regs) {
        int v = memory.readWord(regs.linear(Segment.SS, regs.sp()));
        regs.setSp(regs.sp() + 2);
        return v;
    }
}
