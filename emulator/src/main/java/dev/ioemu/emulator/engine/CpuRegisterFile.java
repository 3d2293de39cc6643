package dev.ioemu.emulator.engine;

import dev.ioemu.bios.RegisterFile;
import dev.ioemu.cpu.Cpu;

/**
 * The BIOS trap contract's register file over the software CPU's live state. Both enumerate
 * registers in x86 encoding order, so a register is its ordinal. Used only between instructions
 * (inside the trap port's OUT, where EIP is already past the OUT).
 */
final class CpuRegisterFile implements RegisterFile {
    private final Cpu cpu;

    CpuRegisterFile(Cpu cpu) {
        this.cpu = cpu;
    }

    @Override public int gpr(Gpr r) { return cpu.register(r.ordinal()); }

    @Override public void setGpr(Gpr r, int value) { cpu.setRegister(r.ordinal(), value); }

    @Override public int eip() { return cpu.eip(); }

    @Override public void setEip(int value) { cpu.setEip(value); }

    @Override public int eflags() { return cpu.eflags(); }

    @Override public void setEflags(int value) { cpu.setEflags(value); }

    @Override public int selector(Segment s) { return cpu.segmentSelector(s.ordinal()); }

    @Override public long segmentBase(Segment s) { return cpu.segmentBase(s.ordinal()) & 0xFFFF_FFFFL; }

    @Override public void loadRealModeSegment(Segment s, int selector) { cpu.setSegmentRealMode(s.ordinal(), selector); }

    @Override public boolean protectedMode() { return cpu.isProtectedMode(); }
}
