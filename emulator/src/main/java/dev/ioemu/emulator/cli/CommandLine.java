package dev.ioemu.emulator.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a QEMU-style argument vector into a {@link VmConfig}. Accepts the options libqtest and
 * QEMU bug reproducers use (shared/spec/qtest.md §5.2) with QEMU's spellings (a leading
 * {@code --} works like {@code -}); anything else is a {@link UsageException} naming the option.
 */
public final class CommandLine {
    /** Keys of {@code -drive} that the front end interprets; every other key goes to the block layer. */
    public static final Set<String> DRIVE_FRONTEND_KEYS = Set.of("if", "index", "id", "media", "werror", "rerror",
            "bus", "unit", "serial", "model", "ver", "wwn", "cyls", "heads", "secs", "trans", "share-rw");

    private static final Set<String> ERROR_POLICIES = Set.of("report", "ignore", "stop", "enospc");
    private static final Set<String> IDE_PROPERTIES = Set.of("drive", "bus", "unit", "model", "serial", "ver");
    private static final int IDE_UNITS = 4;

    private String machineType = "pc";
    private String accelerator;
    private long ramSize = VmConfig.DEFAULT_RAM_SIZE;
    private boolean noDefaults;
    private boolean startPaused;
    private final List<DriveSpec> drives = new ArrayList<>();
    private final List<String[]> deviceArgs = new ArrayList<>();   // {text} resolved after -global
    private final Map<String, Map<String, String>> globals = new HashMap<>();
    private ChardevSpec qtest;
    private String qtestLog;
    private final Map<String, ChardevSpec> chardevs = new LinkedHashMap<>();
    private final List<String> monitorArgs = new ArrayList<>();
    private final List<String> objectArgs = new ArrayList<>();
    private final List<ChardevSpec> monitors = new ArrayList<>();
    private final List<String> tracePatterns = new ArrayList<>();
    private Path traceFile;
    private String name;
    private boolean exitWithParent;

    private CommandLine() {
    }

    /** Parses {@code args}; never returns a partially valid config. */
    public static VmConfig parse(String[] args) throws UsageException {
        return new CommandLine().run(args);
    }

    private VmConfig run(String[] args) throws UsageException {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-")) {
                // QEMU's only positional argument is the legacy disk image (= -hda).
                addLegacyDrive("-hda", arg, 0, "disk");
                continue;
            }
            String opt = arg.startsWith("--") ? arg.substring(1) : arg;
            if (isFlag(opt)) {
                flag(opt);
                continue;
            }
            if (!takesValue(opt)) {
                throw new UsageException(arg + ": invalid option");
            }
            if (i + 1 >= args.length) {
                throw new UsageException(arg + ": requires an argument");
            }
            option(opt, args[++i]);
        }
        for (String mon : monitorArgs) {
            monitor(mon);
        }
        for (String obj : objectArgs) {
            qtestObject(obj);
        }
        List<IdeDeviceSpec> ideDevices = new ArrayList<>();
        for (String[] d : deviceArgs) {
            ideDevices.add(device(d[0]));
        }
        checkDrives(ideDevices);
        if (accelerator == null) {
            // QEMU's default is tcg; with -qtest and no CPU engine yet, qtest is the only choice.
            accelerator = "qtest";
        }
        return new VmConfig(machineType, accelerator, ramSize, noDefaults, startPaused, List.copyOf(drives),
                List.copyOf(ideDevices), qtest, qtestLog, List.copyOf(monitors), List.copyOf(tracePatterns),
                traceFile, name, exitWithParent, copyGlobals());
    }

    private Map<String, Map<String, String>> copyGlobals() {
        Map<String, Map<String, String>> out = new HashMap<>();
        globals.forEach((driver, props) -> out.put(driver, Map.copyOf(props)));
        return Map.copyOf(out);
    }

    private static boolean isFlag(String opt) {
        return Set.of("-nodefaults", "-S", "-nographic", "-no-reboot", "-no-shutdown", "-enable-kvm").contains(opt);
    }

    private static boolean takesValue(String opt) {
        return Set.of("-machine", "-M", "-accel", "-m", "-display", "-drive", "-blockdev", "-hda", "-hdb", "-hdc", "-hdd",
                "-cdrom", "-device", "-global", "-qtest", "-qtest-log", "-chardev", "-mon", "-qmp", "-trace",
                "-D", "-name", "-audio", "-run-with", "-serial", "-parallel", "-monitor", "-vga", "-L", "-object").contains(opt);
    }

    private void flag(String opt) throws UsageException {
        switch (opt) {
            case "-nodefaults" -> noDefaults = true;
            case "-S" -> startPaused = true;
            case "-enable-kvm" -> setAccelerator(opt, "kvm");
            // No display and no guest-initiated reboot/shutdown exist yet: nothing to switch.
            case "-nographic", "-no-reboot", "-no-shutdown" -> { }
            default -> throw new IllegalStateException("flag " + opt);
        }
    }

    private void option(String opt, String value) throws UsageException {
        switch (opt) {
            case "-machine", "-M" -> machine(opt, value);
            case "-accel" -> {
                Map<String, String> o = QemuOpts.parse(opt, value, "accel");
                for (String key : o.keySet()) {
                    if (!key.equals("accel")) {
                        throw new UsageException(opt + " " + value + ": Invalid parameter '" + key + "'");
                    }
                }
                setAccelerator(opt + " " + value, o.getOrDefault("accel", ""));
            }
            case "-m" -> ramSize = memorySize(value);
            case "-display" -> onlyNone(opt, value, "display");
            case "-audio" -> onlyNone(opt, value, "audio driver");
            case "-serial", "-parallel", "-monitor", "-vga" -> onlyNone(opt, value, opt.substring(1));
            case "-drive" -> addDrive(value);
            case "-blockdev" -> drives.add(BlockdevSpec.parse(value,
                    node -> drives.stream().filter(d -> node.equals(d.id())).findFirst().orElse(null)));
            case "-hda" -> addLegacyDrive(opt, value, 0, "disk");
            case "-hdb" -> addLegacyDrive(opt, value, 1, "disk");
            case "-hdc" -> addLegacyDrive(opt, value, 2, "disk");
            case "-hdd" -> addLegacyDrive(opt, value, 3, "disk");
            case "-cdrom" -> addLegacyDrive(opt, value, 2, "cdrom");
            case "-device" -> deviceArgs.add(new String[] {value});
            case "-global" -> global(value);
            case "-qtest" -> {
                if (qtest != null) {
                    throw new UsageException("-qtest " + value + ": only one qtest chardev is allowed");
                }
                qtest = ChardevSpec.parseLegacy(opt, value);
            }
            case "-qtest-log" -> qtestLog = value;
            case "-chardev" -> {
                ChardevSpec c = ChardevSpec.parseChardev(value);
                if (chardevs.putIfAbsent(c.id(), c) != null) {
                    throw new UsageException("-chardev " + value + ": duplicate chardev id '" + c.id() + "'");
                }
            }
            case "-mon" -> monitorArgs.add(value);
            case "-object" -> objectArgs.add(value);
            case "-qmp" -> monitors.add(ChardevSpec.parseLegacy(opt, value));
            case "-trace" -> trace(value);
            case "-D" -> traceFile = Path.of(value);
            case "-name" -> name = QemuOpts.parse(opt, value, "guest").get("guest");
            case "-run-with" -> runWith(value);
            case "-L" -> { /* firmware search path: no firmware is loaded yet */ }
            default -> throw new IllegalStateException("option " + opt);
        }
    }

    private void machine(String opt, String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse(opt, value, "type");
        for (Map.Entry<String, String> e : o.entrySet()) {
            switch (e.getKey()) {
                case "type" -> {
                    String t = e.getValue();
                    if (!t.equals("pc") && !t.startsWith("pc-i440fx")) {
                        throw new UsageException(opt + " " + value + ": unsupported machine type '" + t
                                + "' (expected: pc)");
                    }
                    machineType = "pc";
                }
                case "accel" -> setAccelerator(opt + " " + value, firstAvailable(opt + " " + value, e.getValue()));
                default -> throw new UsageException(opt + " " + value + ": Invalid parameter '" + e.getKey()
                        + "' (expected: type, accel)");
            }
        }
    }

    /**
     * QEMU's legacy {@code accel=A:B:C} list: the first accelerator that exists wins. Only qtest
     * exists, so a list without it keeps its first entry (reported as not available at start).
     */
    private static String firstAvailable(String where, String list) throws UsageException {
        String[] names = list.split(":", -1);
        for (String n : names) {
            if (!Set.of("qtest", "tcg", "kvm").contains(n)) {
                throw new UsageException(where + ": invalid accelerator '" + n + "' (expected: qtest, tcg, kvm)");
            }
        }
        for (String n : names) {
            if (n.equals("qtest")) {
                return n;
            }
        }
        return names[0];
    }

    private void setAccelerator(String where, String accel) throws UsageException {
        if (!Set.of("qtest", "tcg", "kvm").contains(accel)) {
            throw new UsageException(where + ": invalid accelerator '" + accel + "' (expected: qtest, tcg, kvm)");
        }
        if (accelerator != null && !accelerator.equals(accel)) {
            throw new UsageException(where + ": accelerator already chosen: " + accelerator);
        }
        accelerator = accel;
    }

    /** {@code -m 128}, {@code -m 128M}, {@code -m 1G}, {@code -m size=512M}; a bare number is MiB. */
    static long memorySize(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-m", value, "size");
        String text = o.get("size");
        for (String key : o.keySet()) {
            if (!key.equals("size") && !key.equals("slots") && !key.equals("maxmem")) {
                throw new UsageException("-m " + value + ": Invalid parameter '" + key + "'");
            }
        }
        if (text == null || text.isEmpty()) {
            throw new UsageException("-m " + value + ": missing size (expected: e.g. 128M)");
        }
        long unit = 1L << 20;
        char last = Character.toUpperCase(text.charAt(text.length() - 1));
        String digits = text;
        if ("BKMGT".indexOf(last) >= 0) {
            unit = switch (last) {
                case 'B' -> 1;
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                case 'G' -> 1L << 30;
                default -> 1L << 40;
            };
            digits = text.substring(0, text.length() - 1);
        }
        long size;
        try {
            size = Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("-m " + value + ": invalid RAM size '" + text + "' (expected: e.g. 128M or 1G)");
        }
        if (size < (2L << 20) || size % 4096 != 0 || size > (1L << 31) - 4096) {
            throw new UsageException("-m " + value + ": RAM size " + size
                    + " bytes (expected: a multiple of 4 KiB from 2 MiB to just under 2 GiB)");
        }
        return size;
    }

    private static void onlyNone(String opt, String value, String what) throws UsageException {
        String v = QemuOpts.parse(opt, value, "type").getOrDefault("type", "");
        if (!v.equals("none")) {
            throw new UsageException(opt + " " + value + ": " + what + " '" + v + "' not available (expected: none)");
        }
    }

    private void addDrive(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-drive", value, null);
        String source = "-drive " + value;
        String iface = o.getOrDefault("if", "ide");
        if (!iface.equals("ide") && !iface.equals("none")) {
            throw new UsageException(source + ": interface if=" + iface + " not supported (expected: ide, none)");
        }
        if (o.containsKey("index")) {
            int index = integer(source, "index", o.get("index"));
            if (index < 0 || index >= IDE_UNITS) {
                throw new UsageException(source + ": index=" + index + " (expected: 0 to 3; IDE has 2 buses x 2 units)");
            }
        }
        String media = o.getOrDefault("media", "disk");
        if (!media.equals("disk") && !media.equals("cdrom")) {
            throw new UsageException(source + ": media=" + media + " (expected: disk, cdrom)");
        }
        for (String policy : new String[] {"werror", "rerror"}) {
            String p = o.get(policy);
            if (p != null && !ERROR_POLICIES.contains(p)) {
                throw new UsageException(source + ": " + policy + "=" + p + " (expected: report, ignore, stop, enospc)");
            }
        }
        if (o.containsKey("cache")) {
            try {
                dev.ioemu.devices.block.CacheMode.parse(o.get("cache"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(source + ": " + e.getMessage());
            }
        }
        for (String b : new String[] {"readonly", "snapshot"}) {
            if (o.containsKey(b)) {
                onOff("-drive", value, b, o.get(b), false);
            }
        }
        if (!o.containsKey("file") && media.equals("disk") && !iface.equals("none")) {
            throw new UsageException(source + ": a disk drive needs file=IMAGE");
        }
        if (iface.equals("none") && !o.containsKey("id")) {
            throw new UsageException(source + ": if=none needs id=ID (for -device ...,drive=ID)");
        }
        String id = o.get("id");
        if (id != null && drives.stream().anyMatch(d -> id.equals(d.id()))) {
            throw new UsageException(source + ": duplicate drive id '" + id + "'");
        }
        drives.add(new DriveSpec(o, source));
    }

    private void addLegacyDrive(String opt, String file, int index, String media) throws UsageException {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("file", file);
        o.put("index", Integer.toString(index));
        o.put("media", media);
        o.put("if", "ide");
        if (media.equals("cdrom")) {
            o.put("readonly", "on");
        }
        for (DriveSpec d : drives) {
            if (d.iface() == DriveSpec.Interface.IDE && d.index() == index) {
                throw new UsageException(opt + " " + file + ": drive index " + index + " already used by " + d.source());
            }
        }
        drives.add(new DriveSpec(Map.copyOf(o), opt + " " + file));
    }

    private void global(String value) throws UsageException {
        int eq = value.indexOf('=');
        int dot = value.indexOf('.');
        if (dot <= 0 || eq < dot + 2) {
            throw new UsageException("-global " + value + ": invalid syntax (expected: DRIVER.PROPERTY=VALUE)");
        }
        String driver = value.substring(0, dot);
        String property = value.substring(dot + 1, eq);
        if (!driver.equals("ide-hd") && !driver.equals("ide-cd") && !driver.equals("ide-drive")) {
            throw new UsageException("-global " + value + ": driver '" + driver + "' not supported (expected: ide-hd, ide-cd)");
        }
        if (!Set.of("model", "serial", "ver").contains(property)) {
            throw new UsageException("-global " + value + ": property '" + property + "' not supported (expected: model, serial, ver)");
        }
        globals.computeIfAbsent(driver.equals("ide-drive") ? "ide-hd" : driver, k -> new HashMap<>())
                .put(property, value.substring(eq + 1));
    }

    private IdeDeviceSpec device(String value) throws UsageException {
        String source = "-device " + value;
        Map<String, String> o = QemuOpts.parse("-device", value, "driver");
        String driver = o.getOrDefault("driver", "");
        IdeDeviceSpec.Kind kind = switch (driver) {
            case "ide-hd" -> IdeDeviceSpec.Kind.HD;
            case "ide-cd" -> IdeDeviceSpec.Kind.CD;
            default -> throw new UsageException(source + ": '" + driver
                    + "' is not a valid device model name (expected: ide-hd, ide-cd)");
        };
        for (String key : o.keySet()) {
            if (!key.equals("driver") && !IDE_PROPERTIES.contains(key) && !key.equals("id")) {
                throw new UsageException(source + ": property '" + key
                        + "' not found (expected: drive, bus, unit, model, serial, ver)");
            }
        }
        String drive = o.get("drive");
        if (drive != null) {
            DriveSpec d = drives.stream().filter(x -> drive.equals(x.id())).findFirst().orElseThrow(
                    () -> new UsageException(source + ": Property '" + driver + ".drive' can't find value '" + drive + "'"));
            if (d.iface() != DriveSpec.Interface.NONE) {
                throw new UsageException(source + ": drive '" + drive + "' is already attached (expected: a drive with if=none)");
            }
            if (kind == IdeDeviceSpec.Kind.HD && d.file() == null) {
                throw new UsageException(source + ": Device needs media, but drive is empty (expected: file= on drive '"
                        + drive + "')");
            }
        } else if (kind == IdeDeviceSpec.Kind.HD) {
            throw new UsageException(source + ": drive property not set (ide-hd needs drive=ID)");
        }
        int bus = -1;
        if (o.containsKey("bus")) {
            String b = o.get("bus");
            if (!b.equals("ide.0") && !b.equals("ide.1")) {
                throw new UsageException(source + ": Bus '" + b + "' not found (expected: ide.0, ide.1)");
            }
            bus = b.charAt(4) - '0';
        }
        int unit = -1;
        if (o.containsKey("unit")) {
            unit = integer(source, "unit", o.get("unit"));
            if (unit != 0 && unit != 1) {
                throw new UsageException(source + ": unit=" + unit + " (expected: 0 or 1)");
            }
        }
        Map<String, String> g = globals.getOrDefault(driver, Map.of());
        return new IdeDeviceSpec(kind, drive, bus, unit, o.getOrDefault("model", g.get("model")),
                o.getOrDefault("serial", g.get("serial")), o.getOrDefault("ver", g.get("ver")), source);
    }

    /** Rejects two drives or devices claiming one IDE position and a drive used twice. */
    private void checkDrives(List<IdeDeviceSpec> devices) throws UsageException {
        Map<Integer, String> taken = new HashMap<>();
        for (DriveSpec d : drives) {
            if (d.iface() == DriveSpec.Interface.IDE && d.index() >= 0) {
                String prev = taken.put(d.index(), d.source());
                if (prev != null) {
                    throw new UsageException(d.source() + ": drive index " + d.index() + " already used by " + prev);
                }
            }
        }
        Set<String> usedDrives = new HashSet<>();
        for (IdeDeviceSpec dev : devices) {
            if (dev.drive() != null && !usedDrives.add(dev.drive())) {
                throw new UsageException(dev.source() + ": drive '" + dev.drive() + "' is already in use");
            }
            if (dev.bus() >= 0 && dev.unit() >= 0) {
                String prev = taken.put(dev.bus() * 2 + dev.unit(), dev.source());
                if (prev != null) {
                    throw new UsageException(dev.source() + ": ide." + dev.bus() + " unit " + dev.unit()
                            + " already used by " + prev);
                }
            }
        }
    }

    private void monitor(String value) throws UsageException {
        String source = "-mon " + value;
        Map<String, String> o = QemuOpts.parse("-mon", value, "chardev");
        for (String key : o.keySet()) {
            if (!Set.of("chardev", "mode", "pretty", "id").contains(key)) {
                throw new UsageException(source + ": Invalid parameter '" + key + "'");
            }
        }
        String mode = o.getOrDefault("mode", "readline");
        if (!mode.equals("control")) {
            throw new UsageException(source + ": monitor mode '" + mode + "' not supported (expected: mode=control)");
        }
        ChardevSpec c = chardevs.get(o.get("chardev"));
        if (c == null) {
            throw new UsageException(source + ": chardev '" + o.get("chardev") + "' not found (expected: an id from -chardev)");
        }
        monitors.add(c);
    }

    /** The QOM form of -qtest: {@code -object qtest,id=ID,chardev=CHR[,log=FILE]}. */
    private void qtestObject(String value) throws UsageException {
        String source = "-object " + value;
        Map<String, String> o = QemuOpts.parse("-object", value, "qom-type");
        if (!"qtest".equals(o.get("qom-type"))) {
            throw new UsageException(source + ": object type '" + o.get("qom-type") + "' not supported (expected: qtest)");
        }
        for (String key : o.keySet()) {
            if (!Set.of("qom-type", "id", "chardev", "log").contains(key)) {
                throw new UsageException(source + ": Invalid parameter '" + key + "' (expected: id, chardev, log)");
            }
        }
        ChardevSpec c = chardevs.get(o.get("chardev"));
        if (c == null) {
            throw new UsageException(source + ": chardev '" + o.get("chardev") + "' not found (expected: an id from -chardev)");
        }
        if (qtest != null) {
            throw new UsageException(source + ": only one qtest chardev is allowed");
        }
        qtest = c;
        if (o.containsKey("log")) {
            qtestLog = o.get("log");
        }
    }

    private void trace(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-trace", value, "enable");
        for (Map.Entry<String, String> e : o.entrySet()) {
            switch (e.getKey()) {
                case "enable" -> tracePatterns.add(e.getValue());
                case "events" -> {
                    try {
                        for (String line : Files.readAllLines(Path.of(e.getValue()))) {
                            String t = line.strip();
                            if (!t.isEmpty() && !t.startsWith("#")) {
                                tracePatterns.add(t);
                            }
                        }
                    } catch (IOException ex) {
                        throw new UsageException("-trace " + value + ": cannot read events file '" + e.getValue()
                                + "': " + ex.getMessage());
                    }
                }
                case "file" -> traceFile = Path.of(e.getValue());
                default -> throw new UsageException("-trace " + value + ": Invalid parameter '" + e.getKey()
                        + "' (expected: enable, events, file)");
            }
        }
    }

    private void runWith(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-run-with", value, null);
        for (Map.Entry<String, String> e : o.entrySet()) {
            if (!e.getKey().equals("exit-with-parent")) {
                throw new UsageException("-run-with " + value + ": Invalid parameter '" + e.getKey()
                        + "' (expected: exit-with-parent)");
            }
            exitWithParent = onOff("-run-with", value, "exit-with-parent", e.getValue(), false);
        }
    }

    static boolean onOff(String option, String text, String key, String value, boolean dflt) throws UsageException {
        if (value == null) {
            return dflt;
        }
        return switch (value) {
            case "on", "yes", "true" -> true;
            case "off", "no", "false" -> false;
            default -> throw new UsageException(option + " " + text + ": Parameter '" + key
                    + "' expects 'on' or 'off', got '" + value + "'");
        };
    }

    static int port(String option, String text, String value) throws UsageException {
        try {
            int p = Integer.parseInt(value);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the message below
        }
        throw new UsageException(option + " " + text + ": port '" + value + "' (expected: 0 to 65535)");
    }

    private static int integer(String source, String key, String value) throws UsageException {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException(source + ": " + key + "='" + value + "' (expected: a number)");
        }
    }
}
