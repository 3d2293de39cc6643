package dev.ioemu.bios;

/**
 * The guest's register file as a BIOS service sees it at a trap (shared/spec/int13.md §10.2,
 * shared/spec/kvm.md §7.1): 32-bit general registers with their 16- and 8-bit views, EIP,
 * EFLAGS, the segment registers with their cached bases, and CR0.PE.
 *
 * <p>Every engine implements it over its own state (the software CPU's fields, KVM's sync regs);
 * the BIOS never knows which. Writing a 16- or 8-bit view keeps the other bits of the 32-bit
 * register, so services change only their documented outputs (int13.md §2.2 rule 3).
 */
public interface RegisterFile {
    /** General registers in x86 encoding order. */
    enum Gpr { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI }

    /** Segment registers in x86 encoding order. */
    enum Segment { ES, CS, SS, DS, FS, GS }

    int gpr(Gpr r);

    void setGpr(Gpr r, int value);

    int eip();

    /** Sets EIP; an engine resumes the guest exactly there (it adds nothing for the trapping OUT). */
    void setEip(int value);

    int eflags();

    void setEflags(int value);

    int selector(Segment s);

    /** The cached (hidden) base; in real mode {@code selector << 4}, in unreal mode anything. */
    long segmentBase(Segment s);

    /** Loads a segment register as a real-mode MOV would: selector and base {@code selector << 4}. */
    void loadRealModeSegment(Segment s, int selector);

    /** CR0.PE. */
    boolean protectedMode();

    // ---- 16- and 8-bit views ----

    default int reg16(Gpr r) {
        return gpr(r) & 0xFFFF;
    }

    default void setReg16(Gpr r, int value) {
        setGpr(r, (gpr(r) & 0xFFFF_0000) | (value & 0xFFFF));
    }

    default int low8(Gpr r) {
        return gpr(r) & 0xFF;
    }

    default void setLow8(Gpr r, int value) {
        setGpr(r, (gpr(r) & 0xFFFF_FF00) | (value & 0xFF));
    }

    default int high8(Gpr r) {
        return (gpr(r) >>> 8) & 0xFF;
    }

    default void setHigh8(Gpr r, int value) {
        setGpr(r, (gpr(r) & 0xFFFF_00FF) | ((value & 0xFF) << 8));
    }

    default int ax() { return reg16(Gpr.EAX); }
    default int bx() { return reg16(Gpr.EBX); }
    default int cx() { return reg16(Gpr.ECX); }
    default int dx() { return reg16(Gpr.EDX); }
    default int si() { return reg16(Gpr.ESI); }
    default int di() { return reg16(Gpr.EDI); }
    default int bp() { return reg16(Gpr.EBP); }
    default int sp() { return reg16(Gpr.ESP); }
    default int ip() { return eip() & 0xFFFF; }

    default void setAx(int v) { setReg16(Gpr.EAX, v); }
    default void setBx(int v) { setReg16(Gpr.EBX, v); }
    default void setCx(int v) { setReg16(Gpr.ECX, v); }
    default void setDx(int v) { setReg16(Gpr.EDX, v); }
    default void setSi(int v) { setReg16(Gpr.ESI, v); }
    default void setDi(int v) { setReg16(Gpr.EDI, v); }
    default void setBp(int v) { setReg16(Gpr.EBP, v); }
    default void setSp(int v) { setReg16(Gpr.ESP, v); }

    default int al() { return low8(Gpr.EAX); }
    default int ah() { return high8(Gpr.EAX); }
    default int bl() { return low8(Gpr.EBX); }
    default int bh() { return high8(Gpr.EBX); }
    default int cl() { return low8(Gpr.ECX); }
    default int ch() { return high8(Gpr.ECX); }
    default int dl() { return low8(Gpr.EDX); }
    default int dh() { return high8(Gpr.EDX); }

    default void setAl(int v) { setLow8(Gpr.EAX, v); }
    default void setAh(int v) { setHigh8(Gpr.EAX, v); }
    default void setBl(int v) { setLow8(Gpr.EBX, v); }
    default void setBh(int v) { setHigh8(Gpr.EBX, v); }
    default void setCl(int v) { setLow8(Gpr.ECX, v); }
    default void setCh(int v) { setHigh8(Gpr.ECX, v); }
    default void setDl(int v) { setLow8(Gpr.EDX, v); }
    default void setDh(int v) { setHigh8(Gpr.EDX, v); }

    /** Linear address of {@code segment:offset} with the cached base, offset taken as 16 bits. */
    default long linear(Segment s, int offset) {
        return segmentBase(s) + (offset & 0xFFFF);
    }
}
