package dev.ioemu.bios;

import java.util.EnumMap;
import java.util.Map;

/**
 * A register file held in plain fields: for tests, for probes that drive the BIOS without an
 * engine, and as a scratch copy an engine can fill from its own state and copy back.
 */
public final class PlainRegisterFile implements RegisterFile {
    private final int[] gprs = new int[Gpr.values().length];
    private final int[] selectors = new int[Segment.values().length];
    private final long[] bases = new long[Segment.values().length];
    private int eip;
    private int eflags = 0x0002;  // bit 1 always reads as 1
    private boolean protectedMode;

    @Override public int gpr(Gpr r) { return gprs[r.ordinal()]; }
    @Override public void setGpr(Gpr r, int value) { gprs[r.ordinal()] = value; }
    @Override public int eip() { return eip; }
    @Override public void setEip(int value) { eip = value; }
    @Override public int eflags() { return eflags; }
    @Override public void setEflags(int value) { eflags = value | 0x0002; }
    @Override public int selector(Segment s) { return selectors[s.ordinal()]; }
    @Override public long segmentBase(Segment s) { return bases[s.ordinal()]; }

    @Override
    public void loadRealModeSegment(Segment s, int selector) {
        selectors[s.ordinal()] = selector & 0xFFFF;
        bases[s.ordinal()] = (long) (selector & 0xFFFF) << 4;
    }

    /** Loads a segment with an arbitrary cached base (unreal mode, the reset CS). */
    public void loadSegment(Segment s, int selector, long base) {
        selectors[s.ordinal()] = selector & 0xFFFF;
        bases[s.ordinal()] = base;
    }

    @Override public boolean protectedMode() { return protectedMode; }

    public void setProtectedMode(boolean on) { protectedMode = on; }

    /** A snapshot of the general registers, for tests that check nothing else changed. */
    public Map<Gpr, Integer> gprSnapshot() {
        Map<Gpr, Integer> m = new EnumMap<>(Gpr.class);
        for (Gpr r : Gpr.values()) {
            m.put(r, gprs[r.ordinal()]);
        }
        return m;
    }

    @Override
    public String toString() {
        return String.format("EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x EBP=%08x ESP=%08x "
                        + "CS=%04x IP=%04x FL=%04x DS=%04x ES=%04x SS=%04x",
                gprs[0], gprs[3], gprs[1], gprs[2], gprs[6], gprs[7], gprs[5], gprs[4],
                selectors[1], eip & 0xFFFF, eflags & 0xFFFF, selectors[3], selectors[0], selectors[2]);
    }
}
