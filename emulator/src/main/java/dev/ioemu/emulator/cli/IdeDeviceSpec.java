package dev.ioemu.emulator.cli;

/**
 * One {@code -device ide-hd|ide-cd,drive=ID,bus=ide.N,unit=U[,model=][,serial=][,ver=]}, with
 * {@code -global ide-hd.PROP=VALUE} defaults already applied to the unset properties.
 *
 * @param drive   the {@code if=none} drive's id, or null (an empty CD-ROM)
 * @param bus     0 or 1, or -1 for the first free bus
 * @param unit    0 or 1, or -1 for the first free unit
 * @param model   IDENTIFY model string, or null for the device model's default
 * @param serial  IDENTIFY serial, or null for the default
 * @param version IDENTIFY firmware revision, or null for the default
 */
public record IdeDeviceSpec(Kind kind, String drive, int bus, int unit, String model, String serial,
                            String version, String source) {
    public enum Kind { HD, CD }
}
