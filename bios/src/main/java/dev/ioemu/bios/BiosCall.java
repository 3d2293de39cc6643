package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * One trapped BIOS call: the guest's registers, guest memory, and the FLAGS image the stub's IRET
 * will restore (shared/spec/int13.md §10.2). Services set CF/ZF here, never in the live FLAGS;
 * {@link BiosTrapDispatcher} writes the image back to SS:SP+4 after the service returns.
 */
public final class BiosCall {
    static final int FLAG_CF = 1;
    static final int FLAG_ZF = 1 << 6;
    static final int FLAG_IF = 1 << 9;
    /** INT 15h/1Ah "function not supported" (SeaBIOS RET_EUNSUPPORTED). */
    static final int RET_EUNSUPPORTED = 0x86;

    private final RegisterFile regs;
    private final PhysicalMemory memory;
    private final int vector;
    private final long frameAddress;    // linear SS:SP+4, or -1 when there is no usable frame
    private int frameFlags;
    private Integer resumeIp;
    private boolean frameAbandoned;

    BiosCall(RegisterFile regs, PhysicalMemory memory, int vector, long frameAddress, int frameFlags) {
        this.regs = regs;
        this.memory = memory;
        this.vector = vector;
        this.frameAddress = frameAddress;
        this.frameFlags = frameFlags;
    }

    public RegisterFile regs() {
        return regs;
    }

    public PhysicalMemory memory() {
        return memory;
    }

    /** The interrupt vector being served (-1 for POST). */
    public int vector() {
        return vector;
    }

    /** The caller's FLAGS as the IRET will restore them. */
    public int frameFlags() {
        return frameFlags;
    }

    boolean hasFrame() {
        return frameAddress >= 0 && !frameAbandoned;
    }

    /**
     * The service left the interrupt context for good (INT 19h jumping to a boot sector, the
     * halt loop): no IRET will pop the frame, so nothing is written back to where it was.
     */
    public void abandonFrame() {
        frameAbandoned = true;
    }

    long frameAddress() {
        return frameAddress;
    }

    public void setCarry(boolean on) {
        frameFlags = on ? frameFlags | FLAG_CF : frameFlags & ~FLAG_CF;
    }

    public boolean carry() {
        return (frameFlags & FLAG_CF) != 0;
    }

    public void setZero(boolean on) {
        frameFlags = on ? frameFlags | FLAG_ZF : frameFlags & ~FLAG_ZF;
    }

    /** IF=1 in the returned image (INT 13h, as Bochs and DOSBox: int13.md §2.2 rule 4). */
    public void enableInterruptsOnReturn() {
        frameFlags |= FLAG_IF;
    }

    /**
     * Resumes the guest at {@code ip} in the ROM segment instead of at the stub's IRET: the wait
     * loop of a blocking service, or the halt loop.
     */
    public void resumeAt(int ip) {
        resumeIp = ip & 0xFFFF;
    }

    Integer resumeIp() {
        return resumeIp;
    }

    /** The function is not implemented: CF=1, AH=86h, and a trace line (int13.md §8). */
    public void unsupported() {
        unsupportedKeepingAh();
        regs.setAh(RET_EUNSUPPORTED);
    }

    /** Not implemented, for services whose registers must stay untouched (INT 10h, 16h): CF=1 and a trace line. */
    public void unsupportedKeepingAh() {
        if (TraceEvent.BIOS_UNSUPPORTED.enabled) {
            Trace.emit(TraceEvent.BIOS_UNSUPPORTED, vector, regs.ax());
        }
        setCarry(true);
    }

    /** True if [address, address+length) is guest RAM; every guest buffer is checked with it first. */
    public boolean isRam(long address, long length) {
        return address >= 0 && length >= 0 && memory.isRam(address, length);
    }
}
