package dev.ioemu.cpu;

/** The execution modes this CPU has (no paging, no virtual-8086): what {@code cpu_mode_switch} reports. */
public enum CpuMode {
    REAL("real"), PM16("PM16"), PM32("PM32");

    /** The name traces print. */
    public final String label;

    CpuMode(String label) {
        this.label = label;
    }
}
