package dev.ioemu.emulator.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the command line asks of the PC platform around a CPU engine: the serial console
 * ({@code -serial}), the debug console ({@code -debugcon}), ISA devices ({@code -device
 * isa-debugcon,…}, {@code -device isa-debug-exit,…}), {@code -no-reboot}, {@code -bios} and
 * {@code -boot}. The qtest accelerator ignores what has no meaning without a CPU.
 *
 * @param serial    COM1's host side, or null for none ({@code -nodefaults} without {@code -serial})
 * @param debugcon  the isa-debugcon at 0xE9, or null
 * @param isaDevices further ISA devices in command-line order
 * @param noReboot  a guest reset ends the process (exit status 0) instead of rebooting
 * @param bios      a firmware image to run instead of the HLE BIOS (e.g. SeaBIOS), or null
 * @param bootOrder {@code -boot order=}: drive letters, "c" = first hard disk
 * @param nanosPerInstruction the software CPU's virtual time per instruction: 10 ns (a 100 MHz
 *                  part) unless {@code -icount shift=N} gives 2^N ns, as QEMU's icount does
 * @param icountSleep {@code -icount sleep=on|off}: whether an idle guest's virtual time waits for
 *                  host time (on, the default) or jumps to the next timer at once (off)
 */
public record PlatformOptions(CharTarget serial, CharTarget debugcon, List<IsaDevice> isaDevices, boolean noReboot,
                              Path bios, String bootOrder, long nanosPerInstruction, boolean icountSleep) {
    /** Virtual time per instruction without {@code -icount}. */
    public static final long DEFAULT_NANOS_PER_INSTRUCTION = 10;
    /** QEMU's limit for {@code shift}: 2^10 ns (about 1 M instructions per second). */
    static final int MAX_ICOUNT_SHIFT = 10;

    /** Where a character device's output goes (and, for stdio, where its input comes from). */
    public record CharTarget(Kind kind, Path file) {
        public enum Kind { STDIO, FILE, NULL }

        /** QEMU's {@code -serial}/{@code -debugcon} spellings: stdio, mon:stdio, file:PATH, null, none (= absent). */
        static CharTarget parse(String option, String text) throws UsageException {
            if (text.equals("none")) {
                return null;
            }
            if (text.equals("stdio") || text.equals("mon:stdio")) {
                return new CharTarget(Kind.STDIO, null);
            }
            if (text.equals("null")) {
                return new CharTarget(Kind.NULL, null);
            }
            if (text.startsWith("file:") && text.length() > "file:".length()) {
                return new CharTarget(Kind.FILE, Path.of(text.substring("file:".length())));
            }
            throw new UsageException(option + " " + text + ": unsupported character device"
                    + " (expected: stdio, file:PATH, null or none)");
        }
    }

    /** {@code -device isa-debug-exit,iobase=,iosize=} or {@code -device isa-debugcon,iobase=,chardev=}. */
    public record IsaDevice(String driver, int iobase, int iosize, CharTarget output) { }

    static final Set<String> ISA_DRIVERS = Set.of("isa-debug-exit", "isa-debugcon");

    /** Collects the options while the command line is read. */
    static final class Builder {
        private CharTarget serial;
        private boolean serialGiven;
        private CharTarget debugcon;
        private final List<IsaDevice> isaDevices = new ArrayList<>();
        private boolean noReboot;
        private boolean noGraphic;
        private Path bios;
        private String bootOrder = "c";
        private long nanosPerInstruction = DEFAULT_NANOS_PER_INSTRUCTION;
        private boolean icountSleep = true;

        /**
         * {@code -icount [shift=]N[,sleep=on|off]}. {@code shift=auto}, {@code align} and record/
         * replay are refused: ioemu's virtual time is always instruction-driven and deterministic.
         */
        void icount(String opt, String value) throws UsageException {
            Map<String, String> o = QemuOpts.parse(opt, value, "shift");
            for (String key : o.keySet()) {
                if (!key.equals("shift") && !key.equals("sleep")) {
                    throw new UsageException(opt + " " + value + ": '" + key + "' is not supported (expected: shift=N, sleep=on|off)");
                }
            }
            String shift = o.get("shift");
            if (shift != null) {
                if (shift.equals("auto")) {
                    throw new UsageException(opt + " shift=auto: not supported: ioemu's virtual time is deterministic"
                            + " (expected: shift=0.." + MAX_ICOUNT_SHIFT + ")");
                }
                int n;
                try {
                    n = Integer.parseInt(shift);
                } catch (NumberFormatException e) {
                    n = -1;
                }
                if (n < 0 || n > MAX_ICOUNT_SHIFT) {
                    throw new UsageException(opt + " shift=" + shift + ": expected a number from 0 to " + MAX_ICOUNT_SHIFT);
                }
                nanosPerInstruction = 1L << n;
            }
            String sleep = o.get("sleep");
            if (sleep != null) {
                if (!sleep.equals("on") && !sleep.equals("off")) {
                    throw new UsageException(opt + " sleep=" + sleep + ": expected on or off");
                }
                icountSleep = sleep.equals("on");
            }
        }

        void serial(String opt, String value) throws UsageException {
            serial = CharTarget.parse(opt, value);
            serialGiven = true;
        }

        void debugcon(String opt, String value) throws UsageException {
            debugcon = CharTarget.parse(opt, value);
        }

        void noReboot() {
            noReboot = true;
        }

        void noGraphic() {
            noGraphic = true;
        }

        void bios(String value) {
            bios = Path.of(value);
        }

        /** {@code -boot c}, {@code -boot order=c}, {@code -boot order=cd,menu=off}. */
        void boot(String opt, String value) throws UsageException {
            Map<String, String> o = QemuOpts.parse(opt, value, "order");
            for (Map.Entry<String, String> e : o.entrySet()) {
                switch (e.getKey()) {
                    case "order", "once" -> {
                        if (!e.getValue().matches("[a-p]+")) {
                            throw new UsageException(opt + " " + value + ": invalid boot device '" + e.getValue()
                                    + "' (expected: letters a-p, c = first hard disk)");
                        }
                        bootOrder = e.getValue();
                    }
                    case "menu", "strict", "splash-time", "reboot-timeout", "splash" -> { }
                    default -> throw new UsageException(opt + " " + value + ": Invalid parameter '" + e.getKey() + "'");
                }
            }
        }

        /** One {@code -device} for an ISA driver (already known to be one of {@link #ISA_DRIVERS}). */
        void isaDevice(String value, Map<String, String> o) throws UsageException {
            String source = "-device " + value;
            String driver = o.get("driver");
            boolean exit = driver.equals("isa-debug-exit");
            int iobase = number(source, o, "iobase", exit ? 0x501 : 0xe9);
            int iosize = exit ? number(source, o, "iosize", 2) : 1;
            CharTarget out = null;
            for (String key : o.keySet()) {
                boolean known = key.equals("driver") || key.equals("id") || key.equals("iobase")
                        || (exit ? key.equals("iosize") : key.equals("chardev") || key.equals("readback"));
                if (!known) {
                    throw new UsageException(source + ": property '" + key + "' not found");
                }
            }
            if (!exit) {
                String chardev = o.get("chardev");
                if (chardev == null) {
                    throw new UsageException(source + ": Property 'isa-debugcon.chardev' can't take value 'null'"
                            + " (expected: chardev=ID of a -chardev file/stdio/null)");
                }
                out = chardevs.get(chardev);
                if (out == null && !chardevs.containsKey(chardev)) {
                    throw new UsageException(source + ": Property 'isa-debugcon.chardev' can't find value '" + chardev + "'");
                }
            }
            if (iobase < 0 || iobase > 0xffff || iosize < 1 || iobase + iosize > 0x10000) {
                throw new UsageException(source + ": I/O range 0x" + Integer.toHexString(iobase) + "+" + iosize
                        + " outside the port space (expected: within 0-0xffff)");
            }
            isaDevices.add(new IsaDevice(driver, iobase, iosize, out));
        }

        /** {@code -chardev file,id=ID,path=P}, {@code stdio,id=ID}, {@code null,id=ID} for isa-debugcon. */
        private final Map<String, CharTarget> chardevs = new java.util.HashMap<>();

        void chardev(String id, CharTarget target) {
            chardevs.put(id, target);
        }

        private static int number(String source, Map<String, String> o, String key, int dflt) throws UsageException {
            String v = o.get(key);
            if (v == null) {
                return dflt;
            }
            try {
                return v.startsWith("0x") || v.startsWith("0X") ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new UsageException(source + ": Parameter '" + key + "' expects a number (got '" + v + "')");
            }
        }

        PlatformOptions build() {
            CharTarget s = serialGiven ? serial : noGraphic ? new CharTarget(CharTarget.Kind.STDIO, null) : null;
            return new PlatformOptions(s, debugcon, List.copyOf(isaDevices), noReboot, bios, bootOrder,
                    nanosPerInstruction, icountSleep);
        }
    }
}
