package dev.ioemu.emulator.cli;

import dev.ioemu.emulator.engine.kvm.KvmHost;
import dev.ioemu.emulator.debug.DebugLogOptions;

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
    private final List<String> deviceArgs = new ArrayList<>();   // resolved after every -global
    private final Map<String, Map<String, String>> globals = new HashMap<>();
    private ChardevSpec qtest;
    private String qtestLog;
    private final Map<String, ChardevSpec> chardevs = new LinkedHashMap<>();
    private final List<String> monitorArgs = new ArrayList<>();
    private final List<String> objectArgs = new ArrayList<>();
    private final List<ChardevSpec> monitors = new ArrayList<>();
    private DebugLogOptions debugLog = DebugLogOptions.NONE;
    private final TraceOptions.Builder trace = new TraceOptions.Builder();
    private String name;
    private boolean exitWithParent;
    private RtcOption rtc = RtcOption.DEFAULT;
    private final PlatformOptions.Builder platform = new PlatformOptions.Builder();

    private CommandLine() {
    }

    /** Parses {@code args}; never returns a partially valid config. */
    public static VmConfig parse(String[] args) throws UsageException {
        return new CommandLine().run(args);
    }

    /**
     * The option table: every option ioemu knows, once. Parsing, the "takes a value" rule and the
     * help text ({@link #usage}) all read this list, so adding an option is one row.
     */
    private static final List<CliOption> OPTIONS = List.of(
            CliOption.value("-machine", "pc[,accel=qtest|tcg|kvm]", CommandLine::machine),
            CliOption.value("-M", "TYPE (same as -machine)", CommandLine::machine),
            CliOption.value("-accel", "kvm (default where hardware-assisted) | soft|tcg (the software CPU, default otherwise) | qtest", CommandLine::accel),
            CliOption.flag("-enable-kvm", "(same as -accel kvm)", (cl, opt, v) -> cl.setAccelerator(opt, "kvm")),
            CliOption.value("-m", "SIZE[,slots=N,maxmem=SIZE]", (cl, opt, v) -> cl.ramSize = memorySize(v)),
            CliOption.flag("-S", "(start paused: QMP status prelaunch until cont)",
                    (cl, opt, v) -> cl.startPaused = true),
            CliOption.flag("-nodefaults", "(no default devices)", (cl, opt, v) -> cl.noDefaults = true),
            CliOption.value("-name", "NAME", CommandLine::name),
            CliOption.value("-drive", "file=IMG,if=ide|none[,index=0..3][,id=ID][,media=disk|cdrom][,format=raw]\n"
                    + "         [,cache=writeback|none|writethrough|directsync|unsafe|fadvise][,readonly=on|off]\n"
                    + "         [,werror=...][,rerror=...][,discard=ignore|unmap][,locking=auto|on|off][,aio=threads]",
                    (cl, opt, v) -> cl.addDrive(v)),
            CliOption.value("-blockdev", "driver=file|raw|blkdebug,node-name=NODE[,file.filename=IMG|file=NODE][,cache.*][,read-only=on]",
                    (cl, opt, v) -> cl.drives.add(BlockdevSpec.parse(v,
                            node -> cl.drives.stream().filter(d -> node.equals(d.id())).findFirst().orElse(null)))),
            CliOption.value("-hda", "IMG", (cl, opt, v) -> cl.addLegacyDrive(opt, v, 0, "disk")),
            CliOption.value("-hdb", "IMG", (cl, opt, v) -> cl.addLegacyDrive(opt, v, 1, "disk")),
            CliOption.value("-hdc", "IMG", (cl, opt, v) -> cl.addLegacyDrive(opt, v, 2, "disk")),
            CliOption.value("-hdd", "IMG", (cl, opt, v) -> cl.addLegacyDrive(opt, v, 3, "disk")),
            CliOption.value("-cdrom", "IMG", (cl, opt, v) -> cl.addLegacyDrive(opt, v, 2, "cdrom")),
            CliOption.value("-device", "ide-hd|ide-cd[,drive=ID][,bus=ide.N][,unit=U][,model=...][,serial=...][,ver=...]",
                    (cl, opt, v) -> cl.deviceArgs.add(v)),
            CliOption.value("-global", "ide-hd.serial=...|ide-hd.model=...|ide-hd.ver=...", (cl, opt, v) -> cl.global(v)),
            CliOption.value("-qtest", "stdio|unix:PATH[,server=on]|tcp:HOST:PORT", CommandLine::qtest),
            CliOption.value("-qtest-log", "FILE|none", (cl, opt, v) -> cl.qtestLog = v),
            CliOption.value("-chardev", "socket,id=ID,path=P|host=H,port=N[,server=on][,wait=off] | stdio,id=ID | null,id=ID",
                    (cl, opt, v) -> cl.chardev(v)),
            CliOption.value("-mon", "chardev=ID,mode=control", (cl, opt, v) -> cl.monitorArgs.add(v)),
            CliOption.value("-qmp", "unix:PATH[,server=on][,wait=off]|tcp:HOST:PORT[,...]|stdio",
                    (cl, opt, v) -> cl.monitors.add(ChardevSpec.parseLegacy(opt, v))),
            CliOption.value("-object", "qtest,id=ID,chardev=ID[,log=FILE]", (cl, opt, v) -> cl.objectArgs.add(v)),
            CliOption.value("-trace", "[[enable=]PATTERN][,events=FILE][,file=FILE]", (cl, opt, v) -> cl.trace.trace(v)),
            CliOption.value("-D", "FILE (log file: trace events and -d output)", (cl, opt, v) -> cl.trace.logFile(v)),
            CliOption.value("-d", "ITEM,... (QEMU's log items: in_asm,int,exec,cpu,cpu_reset,unimp,nochain,..;"
                    + " -d help lists them; output to -D FILE)", (cl, opt, v) -> cl.debugLog = cl.debugLog.withItems(v)),
            CliOption.value("-dfilter", "RANGE,... (START..END|START+LEN|START-LEN: -d in_asm/exec/cpu only there)",
                    (cl, opt, v) -> cl.debugLog = cl.debugLog.withFilter(v)),
            CliOption.flag("-singlestep", "(one instruction per block in -d logs)",
                    (cl, opt, v) -> cl.debugLog = cl.debugLog.withSinglestep()),
            CliOption.value("-run-with", "exit-with-parent=on", (cl, opt, v) -> cl.runWith(v)),
            CliOption.value("-rtc", "base=utc|localtime|DATETIME[,clock=host|rt|vm][,driftfix=none|slew]",
                    (cl, opt, v) -> cl.rtc = RtcOption.parse(v)),
            CliOption.value("-display", "none", (cl, opt, v) -> onlyNone(opt, v, "display")),
            CliOption.value("-audio", "none", (cl, opt, v) -> onlyNone(opt, v, "audio driver")),
            CliOption.value("-serial", "stdio|file:PATH|null|none (COM1)", (cl, opt, v) -> cl.platform.serial(opt, v)),
            CliOption.value("-debugcon", "stdio|file:PATH|null|none (isa-debugcon at 0xe9)",
                    (cl, opt, v) -> cl.platform.debugcon(opt, v)),
            CliOption.value("-bios", "FILE (firmware image instead of the built-in BIOS)", (cl, opt, v) -> cl.platform.bios(v)),
            CliOption.value("-boot", "[order=]DRIVES (c = first hard disk)", (cl, opt, v) -> cl.platform.boot(opt, v)),
            CliOption.value("-icount", "[shift=]N[,sleep=on|off] (software CPU: 2^N ns of virtual time per instruction; default 10 ns)",
                    (cl, opt, v) -> cl.platform.icount(opt, v)),
            CliOption.value("-parallel", "none", (cl, opt, v) -> onlyNone(opt, v, "parallel")),
            CliOption.value("-monitor", "none", (cl, opt, v) -> onlyNone(opt, v, "monitor")),
            CliOption.value("-vga", "none", (cl, opt, v) -> onlyNone(opt, v, "vga")),
            // Accepted for QEMU compatibility: no display, no guest reboot/shutdown and no firmware
            // exist yet, so there is nothing to switch.
            CliOption.flag("-nographic", "(serial console on stdio unless -serial says otherwise)",
                    (cl, opt, v) -> cl.platform.noGraphic()),
            CliOption.flag("-no-reboot", "(exit instead of rebooting when the guest resets)", (cl, opt, v) -> cl.platform.noReboot()),
            CliOption.flag("-no-shutdown", "", (cl, opt, v) -> { }),
            CliOption.value("-L", "", (cl, opt, v) -> { }));

    private static final Map<String, CliOption> BY_NAME = CliOption.index(OPTIONS);

    /** The option table, in help order (tests and tools read it). */
    public static List<CliOption> options() {
        return OPTIONS;
    }

    /** The help text, one line per documented option, generated from the table. */
    public static String usage() {
        StringBuilder sb = new StringBuilder("usage: ioemu [options]\n");
        for (CliOption o : OPTIONS) {
            if (!o.help().isEmpty()) {
                sb.append("  ").append(o.name()).append(' ').append(o.help().replace("\n", "\n  ")).append('\n');
            }
        }
        return sb.toString();
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
            CliOption option = BY_NAME.get(opt);
            if (option == null) {
                throw new UsageException(arg + ": invalid option");
            }
            String value = null;
            if (option.takesValue()) {
                if (i + 1 >= args.length) {
                    throw new UsageException(arg + ": requires an argument");
                }
                value = args[++i];
            }
            try {
                option.handler().apply(this, opt, value);
            } catch (java.nio.file.InvalidPathException e) {
                // A path no file system can hold (a NUL byte): the option's error, not a crash.
                throw new UsageException(arg + " " + value + ": invalid path (" + e.getReason() + ")");
            }
        }
        for (String mon : monitorArgs) {
            monitor(mon);
        }
        for (String obj : objectArgs) {
            qtestObject(obj);
        }
        List<IdeDeviceSpec> ideDevices = new ArrayList<>();
        for (String d : deviceArgs) {
            Map<String, String> o = QemuOpts.parse("-device", d, "driver");
            if (PlatformOptions.ISA_DRIVERS.contains(o.getOrDefault("driver", ""))) {
                platform.isaDevice(d, o);
            } else {
                ideDevices.add(device(d));
            }
        }
        checkDrives(ideDevices);
        if (accelerator == null) {
            // KVM where it is hardware-assisted, else the software CPU (kvm_pvm interprets guest
            // code slower than it); libqtest always names qtest, but a bare -qtest means a test
            // client drives the machine, so qtest it is.
            accelerator = qtest != null ? "qtest" : KvmHost.probe().defaultAccelerator();
        }
        return new VmConfig(machineType, accelerator, ramSize, noDefaults, startPaused, List.copyOf(drives),
                List.copyOf(ideDevices), qtest, qtestLog, List.copyOf(monitors), trace.build(),
                name, exitWithParent, copyGlobals(), rtc, platform.build(), debugLog);
    }

    private Map<String, Map<String, String>> copyGlobals() {
        Map<String, Map<String, String>> out = new HashMap<>();
        globals.forEach((driver, props) -> out.put(driver, Map.copyOf(props)));
        return Map.copyOf(out);
    }

    private void accel(String opt, String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse(opt, value, "accel");
        for (String key : o.keySet()) {
            if (!key.equals("accel")) {
                throw new UsageException(opt + " " + value + ": Invalid parameter '" + key + "'");
            }
        }
        setAccelerator(opt + " " + value, o.getOrDefault("accel", ""));
    }

    private void qtest(String opt, String value) throws UsageException {
        if (qtest != null) {
            throw new UsageException(opt + " " + value + ": only one qtest chardev is allowed");
        }
        qtest = ChardevSpec.parseLegacy(opt, value);
    }

    private void chardev(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-chardev", value, "backend");
        if ("file".equals(o.get("backend")) && o.get("id") != null && o.get("path") != null) {
            // A file chardev only ever receives guest output (isa-debugcon, a serial log).
            if (chardevs.containsKey(o.get("id"))) {
                throw new UsageException("-chardev " + value + ": duplicate chardev id '" + o.get("id") + "'");
            }
            platform.chardev(o.get("id"), new PlatformOptions.CharTarget(PlatformOptions.CharTarget.Kind.FILE,
                    Path.of(o.get("path"))));
            chardevs.put(o.get("id"), null);
            return;
        }
        ChardevSpec c = ChardevSpec.parseChardev(value);
        if (c.kind() == ChardevSpec.Kind.STDIO || c.kind() == ChardevSpec.Kind.NULL) {
            platform.chardev(c.id(), new PlatformOptions.CharTarget(c.kind() == ChardevSpec.Kind.STDIO
                    ? PlatformOptions.CharTarget.Kind.STDIO : PlatformOptions.CharTarget.Kind.NULL, null));
        }
        if (chardevs.putIfAbsent(c.id(), c) != null) {
            throw new UsageException("-chardev " + value + ": duplicate chardev id '" + c.id() + "'");
        }
    }

    /** {@code -name NAME} or {@code -name guest=NAME[,process=P][,debug-threads=on|off]}, as QEMU. */
    private void name(String opt, String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse(opt, value, "guest");
        for (Map.Entry<String, String> e : o.entrySet()) {
            switch (e.getKey()) {
                case "guest", "process" -> { }
                case "debug-threads" -> onOff(opt, value, e.getKey(), e.getValue(), false);
                default -> throw new UsageException(opt + " " + value + ": Invalid parameter '" + e.getKey() + "'");
            }
        }
        name = o.get("guest");
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
     * QEMU's legacy {@code accel=A:B:C} list: the first accelerator that exists wins. qtest and
     * the software CPU (tcg, alias soft) always exist; kvm where /dev/kvm does.
     */
    private static String firstAvailable(String where, String list) throws UsageException {
        String[] names = list.split(":", -1);
        for (String n : names) {
            if (!ACCELERATORS.contains(n)) {
                throw new UsageException(where + ": invalid accelerator '" + n + "' (expected: qtest, tcg, soft, kvm)");
            }
        }
        for (String n : names) {
            if (!n.equals("kvm") || KvmHost.probe().present()) {
                return canonicalAccelerator(n);
            }
        }
        return names[0];
    }

    private static final Set<String> ACCELERATORS = Set.of("qtest", "tcg", "soft", "kvm");

    /** {@code soft} is ioemu's name for its software CPU; QEMU command lines say {@code tcg}. */
    private static String canonicalAccelerator(String accel) {
        return accel.equals("soft") ? "tcg" : accel;
    }

    private void setAccelerator(String where, String requested) throws UsageException {
        if (!ACCELERATORS.contains(requested)) {
            throw new UsageException(where + ": invalid accelerator '" + requested + "' (expected: qtest, tcg, soft, kvm)");
        }
        String accel = canonicalAccelerator(requested);
        if (accelerator != null && !accelerator.equals(accel)) {
            throw new UsageException(where + ": accelerator already chosen: " + accelerator);
        }
        accelerator = accel;
    }

    /**
     * {@code -m 128}, {@code -m 128M}, {@code -m 1G}, {@code -m size=512M[,slots=N,maxmem=SIZE]}; a
     * bare number is MiB. slots and maxmem are checked as QEMU checks them (no memory hotplug exists).
     */
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
        long size = sizeWithSuffix(text, 1L << 20);
        if (size < 0) {
            throw new UsageException("-m " + value + ": invalid RAM size '" + text + "' (expected: e.g. 128M or 1G)");
        }
        if (o.containsKey("slots") && !o.get("slots").matches("[0-9]{1,18}")) {
            throw new UsageException("-m " + value + ": Parameter 'slots' expects a number");
        }
        if (o.containsKey("maxmem")) {
            long maxmem = sizeWithSuffix(o.get("maxmem"), 1);
            if (maxmem < 0) {
                throw new UsageException("-m " + value + ": Parameter 'maxmem' expects a non-negative number below"
                        + " 2^64 (optional suffix k, M, G, T, P or E)");
            }
            if (maxmem < size) {
                throw new UsageException("-m " + value + ": invalid value of maxmem: maximum memory size (0x"
                        + Long.toHexString(maxmem) + ") must be at least the initial memory size (0x"
                        + Long.toHexString(size) + ")");
            }
        } else if (o.containsKey("slots")) {
            throw new UsageException("-m " + value + ": slots specified but no max-size");
        }
        if (size < (2L << 20) || size % 4096 != 0 || size > (1L << 40)) {
            throw new UsageException("-m " + value + ": RAM size " + size
                    + " bytes (expected: a multiple of 4 KiB from 2 MiB to 1 TiB)");
        }
        return size;
    }

    /**
     * QEMU's size syntax: digits with an optional suffix B, K, M, G, T, P or E (either case);
     * without one, {@code defaultUnit}. Returns -1 for anything else or a size beyond 63 bits.
     */
    static long sizeWithSuffix(String text, long defaultUnit) {
        if (text.isEmpty()) {
            return -1;
        }
        int suffix = "BKMGTPE".indexOf(Character.toUpperCase(text.charAt(text.length() - 1)));
        String digits = suffix >= 0 ? text.substring(0, text.length() - 1) : text;
        long unit = suffix >= 0 ? 1L << (10 * suffix) : defaultUnit;
        if (!digits.matches("[0-9]{1,19}")) {
            return -1;
        }
        try {
            return Math.multiplyExact(Long.parseLong(digits), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;
        }
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
        if (iface.equals("ide") && media.equals("disk") && onOff("-drive", value, "readonly", o.get("readonly"), false)) {
            // QEMU's ide-hd refuses a read-only block node; only a CD-ROM may be read-only.
            throw new UsageException(source + ": Block node is read-only");
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
            if (kind == IdeDeviceSpec.Kind.HD && onOff("-drive", d.source(), "readonly", d.options().get("readonly"), false)) {
                throw new UsageException(source + ": Block node is read-only");
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
