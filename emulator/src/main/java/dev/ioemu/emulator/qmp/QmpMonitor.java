package dev.ioemu.emulator.qmp;

import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.emulator.machine.BlockInfo;
import dev.ioemu.emulator.machine.Machine;
import dev.ioemu.emulator.machine.RunState;
import dev.ioemu.emulator.machine.RunStateControl;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A QMP monitor (shared/spec/qtest.md §5.2, §5.3): greeting, capabilities negotiation, the
 * commands QEMU's qtest clients use, and events. Shapes, ordering and error texts follow QEMU
 * 7.2 as observed on the installed peer: an event a command causes (STOP, RESUME, RESET,
 * SHUTDOWN) is sent before the command's reply; events reach a client only after
 * {@code qmp_capabilities}; every line ends with CRLF.
 *
 * <p>Threads: one thread per monitor reads requests and executes them holding the machine's
 * monitor. Events may be emitted from any thread (a device stopping the VM from an I/O thread);
 * writes to the client are serialised on the session's output lock.
 */
public final class QmpMonitor {
    /** The version the greeting and query-version announce: the QEMU release ioemu tracks. */
    public static final int VERSION_MAJOR = 7;
    public static final int VERSION_MINOR = 2;
    public static final int VERSION_MICRO = 0;
    public static final String PACKAGE = "ioemu";
    /** query-block's key for a disk's {@code -drive firmware-writes=} (ioemu's, not QEMU's: "x-" marks it). */
    public static final String FIRMWARE_WRITES_KEY = "x-firmware-writes";

    /** What {@code quit} asks of the process: flush the drives and exit 0. */
    @FunctionalInterface
    public interface QuitHandler {
        void quit(String reason);
    }

    /** The commands {@code execute} knows, in query-commands order. */
    private static final List<String> KNOWN_COMMANDS = List.of("qmp_capabilities", "query-status", "query-version",
            "query-commands", "query-block", "query-blockstats", "cont", "stop", "system_reset", "quit",
            "human-monitor-command", "query-kvm", "trace-event-get-state", "trace-event-set-state");

    private final Machine machine;
    private final QuitHandler quitHandler;
    private final HumanMonitor humanMonitor;
    private volatile boolean kvmEnabled;
    private volatile boolean kvmPresent;

    public QmpMonitor(Machine machine, QuitHandler quitHandler) {
        this.machine = machine;
        this.quitHandler = quitHandler;
        this.humanMonitor = new HumanMonitor(machine);
    }

    /** What {@code query-kvm} answers, as QEMU: KVM runs the guest / KVM support is built in. */
    public void reportKvm(boolean enabled, boolean present) {
        this.kvmEnabled = enabled;
        this.kvmPresent = present;
        humanMonitor.reportKvm(enabled, present);
    }

    /** Serves one client until it disconnects. */
    public void serve(Connection connection) throws IOException {
        Session s = new Session(connection.out());
        RunStateControl.Listener listener = s::event;
        machine.runState().addListener(listener);
        try {
            s.send(Json.object("QMP", Json.object(
                    "version", Json.object("qemu", Json.object("micro", (long) VERSION_MICRO,
                            "minor", (long) VERSION_MINOR, "major", (long) VERSION_MAJOR), "package", PACKAGE),
                    "capabilities", List.of("oob"))));
            Json json = Json.over(new BufferedInputStream(connection.in()));
            while (true) {
                Object request;
                try {
                    request = json.read();
                } catch (Json.ParseException e) {
                    // A parse error never carries an id: the request could not be read.
                    s.send(error(false, null, QmpError.generic(e.getMessage())));
                    continue;
                }
                if (request == Json.END) {
                    return;
                }
                s.handle(request);
            }
        } catch (IOException e) {
            // The client went away.
        } finally {
            machine.runState().removeListener(listener);
        }
    }

    /** QEMU's error reply: {@code {"id": ID, "error": {...}}}, the id first when the request had one. */
    private static Map<String, Object> error(boolean hasId, Object id, QmpError e) {
        Map<String, Object> reply = hasId ? Json.object("id", id) : Json.object();
        reply.put("error", Json.object("class", e.errorClass, "desc", e.getMessage()));
        return reply;
    }

    private final class Session {
        private final OutputStream out;
        private volatile boolean negotiated;
        /** The client enabled the "oob" capability: {@code exec-oob} is then a request member. */
        private volatile boolean oobEnabled;

        Session(OutputStream out) {
            this.out = out;
        }

        void send(Map<String, Object> message) {
            byte[] line = (Json.write(message) + "\r\n").getBytes(StandardCharsets.UTF_8);
            synchronized (this) {
                try {
                    out.write(line);
                    out.flush();
                } catch (IOException e) {
                    // The reader sees the disconnect and ends the session.
                }
            }
        }

        void event(String name, Map<String, Object> data) {
            if (!negotiated) {
                return;   // QEMU sends events only in command mode
            }
            long micros = System.currentTimeMillis() * 1000;
            Map<String, Object> e = Json.object(
                    "timestamp", Json.object("seconds", micros / 1_000_000, "microseconds", micros % 1_000_000),
                    "event", name);
            if (!data.isEmpty()) {
                e.put("data", data);
            }
            send(e);
        }

        void handle(Object request) {
            // "id": null is echoed like any other id (QEMU 7.2).
            boolean hasId = request instanceof Map<?, ?> m && m.containsKey("id");
            Object id = hasId ? ((Map<?, ?>) request).get("id") : null;
            Map<String, Object> reply;
            try {
                Object result = dispatch(request);
                reply = Json.object("return", result);
                if (hasId) {
                    reply.put("id", id);
                }
            } catch (QmpError e) {
                reply = error(hasId, id, e);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(QmpMonitor.class).error("QMP request failed", e);
                reply = error(hasId, id, QmpError.generic("internal error while executing the command"));
            }
            send(reply);
            if (reply.containsKey("return") && request instanceof Map<?, ?> m && "quit".equals(m.get("execute"))) {
                quitHandler.quit("host-qmp-quit");
            }
        }

        private Object dispatch(Object request) throws QmpError {
            if (!(request instanceof Map<?, ?> req)) {
                throw QmpError.generic("QMP input must be a JSON object");
            }
            // QEMU's qmp_dispatch_check_obj: members in order; exec-oob only once oob is enabled.
            String execKey = null;
            for (Map.Entry<?, ?> member : req.entrySet()) {
                Object key = member.getKey();
                if (key.equals("execute") || (key.equals("exec-oob") && oobEnabled)) {
                    if (!(member.getValue() instanceof String)) {
                        throw QmpError.generic("QMP input member '" + key + "' must be a string");
                    }
                    if (execKey != null) {
                        throw QmpError.generic("QMP input member '" + key + "' clashes with '" + execKey + "'");
                    }
                    execKey = (String) key;
                } else if (key.equals("arguments")) {
                    if (!(member.getValue() instanceof Map)) {
                        throw QmpError.generic("QMP input member 'arguments' must be an object");
                    }
                } else if (!key.equals("id")) {
                    throw QmpError.generic("QMP input member '" + key + "' is unexpected");
                }
            }
            if (execKey == null) {
                throw QmpError.generic("QMP input lacks member 'execute'");
            }
            String command = (String) req.get(execKey);
            boolean outOfBand = execKey.equals("exec-oob");
            @SuppressWarnings("unchecked")
            Map<String, Object> args = req.containsKey("arguments") ? (Map<String, Object>) req.get("arguments") : Map.of();
            if (TraceEvent.QMP_COMMAND.enabled) {
                Trace.emit(TraceEvent.QMP_COMMAND, Json.write(req));
            }
            if (!negotiated) {
                if (!command.equals("qmp_capabilities")) {
                    throw new QmpError("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
                }
                if (outOfBand) {
                    throw QmpError.generic("The command " + command + " does not support OOB");
                }
                boolean oob = false;
                if (args.containsKey("enable")) {
                    if (!(args.get("enable") instanceof List<?> caps)) {
                        throw QmpError.generic("Invalid parameter type for 'enable', expected: array");
                    }
                    for (int i = 0; i < caps.size(); i++) {
                        if (!(caps.get(i) instanceof String cap)) {
                            throw QmpError.generic("Invalid parameter type for 'enable[" + i + "]', expected: string");
                        }
                        if (!cap.equals("oob")) {
                            // QEMU 7.2 names the list element 'null' here.
                            throw QmpError.generic("Parameter 'null' does not accept value '" + cap + "'");
                        }
                        oob = true;
                    }
                }
                allowOnly(args, "enable");
                oobEnabled = oob;
                negotiated = true;
                return Map.of();
            }
            if (outOfBand && KNOWN_COMMANDS.contains(command)) {
                // None of ioemu's commands is allowed out of band (QEMU allows only a few).
                throw QmpError.generic("The command " + command + " does not support OOB");
            }
            synchronized (machine) {
                return execute(command, args);
            }
        }

        private Object execute(String command, Map<String, Object> args) throws QmpError {
            switch (command) {
                case "qmp_capabilities":
                    throw new QmpError("CommandNotFound", "Capabilities negotiation is already complete, command ignored");
                case "query-status": {
                    allowOnly(args);
                    RunState st = machine.runState().state();
                    return Json.object("status", st.qmpName, "singlestep", false, "running", st.running);
                }
                case "query-version":
                    allowOnly(args);
                    return Json.object("qemu", Json.object("micro", (long) VERSION_MICRO, "minor", (long) VERSION_MINOR,
                            "major", (long) VERSION_MAJOR), "package", PACKAGE);
                case "query-commands": {
                    allowOnly(args);
                    List<Object> list = new ArrayList<>();
                    for (String c : KNOWN_COMMANDS) {
                        list.add(Json.object("name", c));
                    }
                    return list;
                }
                case "query-block":
                    allowOnly(args);
                    return queryBlock();
                case "query-blockstats":
                    optional(args, "query-nodes", Boolean.class, "boolean");
                    allowOnly(args, "query-nodes");
                    return queryBlockstats();
                case "cont":
                    allowOnly(args);
                    machine.runState().cont();
                    return Map.of();
                case "stop":
                    allowOnly(args);
                    machine.runState().stop();
                    return Map.of();
                case "system_reset":
                    allowOnly(args);
                    machine.systemReset("host-qmp-system-reset");
                    return Map.of();
                case "quit":
                    allowOnly(args);
                    machine.runState().shutdown("host-qmp-quit");
                    return Map.of();
                case "query-kvm":
                    allowOnly(args);
                    return Json.object("enabled", kvmEnabled, "present", kvmPresent);
                case "human-monitor-command":
                    required(args, "command-line", String.class, "string");
                    optional(args, "cpu-index", Long.class, "integer");
                    allowOnly(args, "command-line", "cpu-index");
                    return humanMonitorCommand(args);
                case "trace-event-get-state":
                    required(args, "name", String.class, "string");
                    optional(args, "vcpu", Long.class, "integer");
                    allowOnly(args, "name", "vcpu");
                    return TraceCommands.getState((String) args.get("name"), (Long) args.get("vcpu"));
                case "trace-event-set-state":
                    required(args, "name", String.class, "string");
                    required(args, "enable", Boolean.class, "boolean");
                    optional(args, "ignore-unavailable", Boolean.class, "boolean");
                    optional(args, "vcpu", Long.class, "integer");
                    allowOnly(args, "name", "enable", "ignore-unavailable", "vcpu");
                    TraceCommands.setState((String) args.get("name"), (Boolean) args.get("enable"),
                            (Long) args.get("vcpu"));
                    return Map.of();
                default:
                    throw new QmpError("CommandNotFound", "The command " + command + " has not been found");
            }
        }

        /** QAPI's type check of an optional member: "Invalid parameter type for 'x', expected: boolean". */
        private void optional(Map<String, Object> args, String name, Class<?> type, String typeName) throws QmpError {
            if (args.containsKey(name) && !type.isInstance(args.get(name))) {
                throw QmpError.generic("Invalid parameter type for '" + name + "', expected: " + typeName);
            }
        }

        private void required(Map<String, Object> args, String name, Class<?> type, String typeName) throws QmpError {
            if (!args.containsKey(name)) {
                throw QmpError.generic("Parameter '" + name + "' is missing");
            }
            optional(args, name, type, typeName);
        }

        private void allowOnly(Map<String, Object> args, String... names) throws QmpError {
            for (String k : args.keySet()) {
                if (!List.of(names).contains(k)) {
                    throw QmpError.generic("Parameter '" + k + "' is unexpected");
                }
            }
        }

        /** HMP through QMP: the command line runs in {@link HumanMonitor}. */
        private Object humanMonitorCommand(Map<String, Object> args) throws QmpError {
            Object line = args.get("command-line");
            if (line == null) {
                throw QmpError.generic("Parameter 'command-line' is missing");
            }
            if (!(line instanceof String text)) {
                throw QmpError.generic("Invalid parameter type for 'command-line', expected: string");
            }
            return humanMonitor.execute(text);
        }

        private Object queryBlock() {
            List<Object> out = new ArrayList<>();
            for (BlockInfo b : machine.blocks()) {
                Map<String, Object> entry = Json.object("io-status", machine.runState().ioStatus(b.device()), "device", b.device(), "locked", false,
                        "removable", b.removable());
                if (b.file() != null) {
                    Map<String, Object> inserted = Json.object(
                            "image", Json.object("virtual-size", b.virtualSize(), "filename", b.file(),
                                    "format", b.format(), "dirty-flag", false),
                            "ro", b.readOnly(), "drv", b.format(), "encrypted", false,
                            "cache", Json.object("no-flush", b.cache().noFlush, "direct", b.cache().direct,
                                    "writeback", b.cache().writeback),
                            "file", b.file());
                    if (b.firmwareWrites() != null) {
                        // ioemu's own key (issue 11), after QEMU's so theirs keep their order.
                        inserted.put(FIRMWARE_WRITES_KEY, b.firmwareWrites().name().toLowerCase(Locale.ROOT));
                    }
                    entry.put("inserted", inserted);
                }
                entry.put("qdev", b.qdev());
                entry.put("type", "unknown");
                out.add(entry);
            }
            return out;
        }

        private Object queryBlockstats() {
            List<Object> out = new ArrayList<>();
            for (BlockInfo b : machine.blocks()) {
                BlockStats s = b.stats();
                Map<String, Object> stats = Json.object(
                        "unmap_operations", count(s, BlockStats.Kind.DISCARD, false),
                        "flush_total_time_ns", time(s, BlockStats.Kind.FLUSH),
                        "wr_total_time_ns", time(s, BlockStats.Kind.WRITE),
                        "failed_wr_operations", count(s, BlockStats.Kind.WRITE, true),
                        "failed_rd_operations", count(s, BlockStats.Kind.READ, true),
                        "wr_bytes", bytes(s, BlockStats.Kind.WRITE),
                        "failed_unmap_operations", count(s, BlockStats.Kind.DISCARD, true),
                        "failed_flush_operations", count(s, BlockStats.Kind.FLUSH, true),
                        "rd_total_time_ns", time(s, BlockStats.Kind.READ),
                        "flush_operations", count(s, BlockStats.Kind.FLUSH, false),
                        "wr_operations", count(s, BlockStats.Kind.WRITE, false),
                        "unmap_bytes", bytes(s, BlockStats.Kind.DISCARD),
                        "rd_bytes", bytes(s, BlockStats.Kind.READ),
                        "unmap_total_time_ns", time(s, BlockStats.Kind.DISCARD),
                        "rd_operations", count(s, BlockStats.Kind.READ, false));
                out.add(Json.object("device", b.device(), "stats", stats, "qdev", b.qdev()));
            }
            return out;
        }

        private long count(BlockStats s, BlockStats.Kind k, boolean failed) {
            return s == null ? 0 : failed ? s.failed(k) : s.operations(k);
        }

        private long bytes(BlockStats s, BlockStats.Kind k) {
            return s == null ? 0 : s.bytes(k);
        }

        private long time(BlockStats s, BlockStats.Kind k) {
            return s == null ? 0 : s.totalTimeNanos(k);
        }
    }
}
