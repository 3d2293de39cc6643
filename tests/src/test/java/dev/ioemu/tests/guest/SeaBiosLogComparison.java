package dev.ioemu.tests.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Compares SeaBIOS's debugcon log (port 0x402) from ioemu with QEMU 7.2's for the same command
 * line. Both logs are normalised, QEMU's lines that name hardware ioemu does not have are mapped
 * through {@link #ALLOWED} (each entry says why), and then the two must be equal line for line,
 * except the lines SeaBIOS's init threads print concurrently ({@link #THREADED}), which must be
 * the same set in any order.
 */
final class SeaBiosLogComparison {
    /** One difference the peer comparison allows: on QEMU's line (or ioemu's, if ioemuSide). */
    record Allowed(String name, String why, boolean ioemuSide, Pattern line, String replacement) {
        String apply(String l) {
            return line.matcher(l).matches() ? (replacement == null ? null : line.matcher(l).replaceAll(replacement)) : l;
        }
    }

    private static Allowed qemuOnly(String name, String why, String regex) {
        return new Allowed(name, why, false, Pattern.compile(regex), null);
    }

    private static Allowed qemuReads(String name, String why, String regex, String ioemu) {
        return new Allowed(name, why, false, Pattern.compile(regex), ioemu);
    }

    static final List<Allowed> ALLOWED = List.of(
            qemuOnly("piix4-pm", "no PIIX4 power-management function (00:01.3): SeaBIOS neither moves its I/O "
                    + "base nor uses its PM timer", "Moving pm_base to 0x600|PCI: init bdf=00:01\\.3 id=8086:7113"
                    + "|Using pmtimer, ioport 0x608"),
            qemuReads("piix4-pm-count", "no PIIX4 PM function: one PCI function fewer",
                    "Found 4 PCI devices \\(max PCI bus is 00\\)", "Found 3 PCI devices (max PCI bus is 00)"),
            new Allowed("tsc-calibration", "without a PM timer SeaBIOS calibrates the TSC against PIT channel 2 "
                    + "and logs the result (seabios.md §7.5)", true, Pattern.compile("CPU Mhz=\\d+"), null),
            qemuReads("no-lapic", "ioemu's CPU reports no local APIC (CPUID.1:EDX.APIC = 0), so SeaBIOS skips "
                    + "its SMP start-up (seabios.md §7.8)", "Found 1 cpu\\(s\\) max supported 1 cpu\\(s\\)",
                    "No apic - only the main cpu is present."),
            qemuOnly("acpi-tables", "no ACPI tables through etc/table-loader (not needed for a disk boot, "
                    + "seabios.md §6.4)", "table\\(50434146\\)=.*|ACPI: parse DSDT at .*"),
            qemuReads("acpi-e820", "QEMU reserves its ACPI tables' 128 KiB at the top of RAM",
                    "  #: 0000000000100000 - 0000000007fe0000 = 1 RAM", "  #: 0000000000100000 - 0000000008000000 = 1 RAM"),
            qemuOnly("acpi-e820-reserved", "QEMU's ACPI table area", "  #: 0000000007fe0000 - 0000000008000000 = 2 RESERVED"),
            qemuOnly("amd-ht-hole", "QEMU 7.2 reserves 0xfd00000000-1 TiB (AMD HyperTransport) on AMD hosts",
                    "  #: 000000fd00000000 - 0000010000000000 = 2 RESERVED"),
            qemuOnly("kvmvapic", "QEMU's kvmvapic option ROM (TPR patching for KVM) is not provided",
                    "Searching bootorder for: /rom@genroms/kvmvapic\\.bin|Running option rom at c000:0003"));

    /** A line whose numbers depend on table sizes or placement, and the tokens masked in it (both sides). */
    private record Mask(Pattern line, Pattern token, String replacement) {
        Mask(Pattern line, Pattern token) {
            this(line, token, "#");
        }
    }

    private static final Pattern ANY_NUMBER = Pattern.compile("\\b(0x)?[0-9a-f]*[0-9][0-9a-f]*\\b");
    private static final List<Mask> MASKS = List.of(
            new Mask(Pattern.compile("Copying (PIR|MPTABLE|SMBIOS) from .*"), ANY_NUMBER),
            new Mask(Pattern.compile("drive 0x[0-9a-f]+: .*"), Pattern.compile("^drive 0x[0-9a-f]+"), "drive #"),
            new Mask(Pattern.compile("Space available for UMB: .*"), ANY_NUMBER),
            new Mask(Pattern.compile("Returned \\d+ bytes of ZoneHigh"), ANY_NUMBER),
            new Mask(Pattern.compile("e820 map has \\d+ items:"), Pattern.compile("\\d+(?= items)")));
    /** An e820 entry: its index shifts when QEMU has more entries. */
    private static final Pattern E820_INDEX = Pattern.compile("^  \\d+: ");
    /** IDENTIFY's model string: "QEMU HARDDISK" in QEMU, ioemu's own in ioemu (ide.md). */
    private static final Pattern DISK_MODEL = Pattern.compile("^(ata\\d-\\d): .* (ATA-\\d+ Hard-Disk .*)$");

    /** Printed by SeaBIOS's init threads (keyboard, ATA, LPT/serial probes) in whichever order they run. */
    static final Pattern THREADED = Pattern.compile("PS2 keyboard initialized|ata\\d-\\d: .*|Found \\d+ (lpt|serial) ports"
            + "|Searching (bootorder|bios-geometry) for: /pci@i0cf8/.*");

    private SeaBiosLogComparison() {
    }

    static String normalise(String line) {
        String l = line.replace("\r", "");
        for (Mask m : MASKS) {
            if (m.line().matcher(l).matches()) {
                l = m.token().matcher(l).replaceAll(m.replacement());
            }
        }
        l = E820_INDEX.matcher(l).replaceAll("  #: ");
        return DISK_MODEL.matcher(l).replaceAll("$1: <model> $2");
    }

    /** The log's lines, normalised, with the allowed differences of one side applied. */
    static List<String> prepare(String log, boolean ioemuSide) {
        List<String> out = new ArrayList<>();
        for (String raw : log.split("\n")) {
            String l = normalise(raw);
            for (Allowed a : ALLOWED) {
                if (l != null && a.ioemuSide() == ioemuSide) {
                    l = a.apply(l);
                }
            }
            if (l != null && !l.isEmpty()) {
                out.add(l);
            }
        }
        return out;
    }

    private static final String HARD_REBOOT = "Attempting a hard reboot";
    private static final String RUNNING = "Running on QEMU (i440fx)";

    /**
     * The log with the restarts between SeaBIOS's "Attempting a hard reboot" and the next POST
     * that gets going removed: everything after that line up to the last banner before "Running
     * on QEMU". QEMU keeps PAM and the shadow RAM across its reset, so after the reboot request it
     * may start SeaBIOS again once or twice (a banner, sometimes a second resume pass) before the
     * cold POST, varying from run to run; ioemu reloads the shadow on reset (seabios.md §10) and
     * POSTs at once.
     */
    static List<String> withoutRestartsAfterRebootRequest(List<String> lines) {
        List<String> out = new ArrayList<>(lines);
        String banner = out.isEmpty() ? "" : out.get(0);
        for (int i = out.indexOf(HARD_REBOOT); i >= 0; i = indexOf(out, HARD_REBOOT, i + 1)) {
            int running = indexOf(out, RUNNING, i + 1);
            if (running < 0) {
                break;
            }
            int lastBanner = out.subList(i + 1, running).lastIndexOf(banner);
            if (lastBanner > 0) {
                out.subList(i + 1, i + 1 + lastBanner).clear();
            }
        }
        return out;
    }

    private static int indexOf(List<String> lines, String line, int from) {
        for (int i = from; i < lines.size(); i++) {
            if (lines.get(i).equals(line)) {
                return i;
            }
        }
        return -1;
    }

    /** The ordered lines (threaded ones removed). */
    static List<String> ordered(List<String> lines) {
        return lines.stream().filter(l -> !THREADED.matcher(l).matches()).toList();
    }

    /** The threaded lines, sorted. */
    static List<String> threaded(List<String> lines) {
        return lines.stream().filter(l -> THREADED.matcher(l).matches()).sorted().toList();
    }
}
