package dev.ioemu.emulator.qmp;

import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Trace events switched at run time, as QEMU 7.2's trace/qmp.c and hmp-commands(-info).hx answer:
 * QMP {@code trace-event-get-state} and {@code trace-event-set-state}, HMP {@code trace-event
 * NAME on|off} and {@code info trace-events [NAME]}. A name with a {@code *} is a glob (no match
 * is an empty answer); a plain name must exist. ioemu's events are not vCPU-specific, so a
 * {@code vcpu} argument filters every event out, after QEMU's check that the vCPU exists (the pc
 * machine has vCPU 0).
 */
final class TraceCommands {
    private TraceCommands() {
    }

    /** {@code trace-event-get-state}: [{name, vcpu, state}] for the matching events. */
    static List<Object> getState(String name, Long vcpu) throws QmpError {
        List<Object> out = new ArrayList<>();
        for (TraceEvent e : select(name, vcpu)) {
            out.add(Json.object("name", e.eventName, "vcpu", false, "state", e.enabled ? "enabled" : "disabled"));
        }
        return out;
    }

    /** {@code trace-event-set-state}. */
    static void setState(String name, boolean enable, Long vcpu) throws QmpError {
        for (TraceEvent e : select(name, vcpu)) {
            e.enabled = enable;
        }
    }

    private static List<TraceEvent> select(String name, Long vcpu) throws QmpError {
        if (vcpu != null && vcpu != 0) {
            throw QmpError.generic("invalid vCPU index " + vcpu);
        }
        boolean glob = name.indexOf('*') >= 0;
        if (!glob) {
            if (TraceEvent.byName(name) == null) {
                throw QmpError.generic("unknown event \"" + name + "\"");
            }
            if (vcpu != null) {
                throw QmpError.generic("event \"" + name + "\" is not vCPU-specific");
            }
        }
        List<TraceEvent> matched = new ArrayList<>();
        if (vcpu != null) {
            return matched;
        }
        Pattern re = Pattern.compile(Trace.globToRegex(name));
        for (TraceEvent e : TraceEvent.values()) {
            if (re.matcher(e.eventName).matches()) {
                matched.add(e);
            }
        }
        return matched;
    }

    /** HMP {@code trace-event NAME on|off}. */
    static String hmpTraceEvent(List<String> args) {
        if (args.isEmpty()) {
            return "trace-event: string expected\r\n" + tryHelp("trace-event");
        }
        if (args.size() < 2 || !(args.get(1).equals("on") || args.get(1).equals("off"))) {
            return "Expected 'on' or 'off'\r\n" + tryHelp("trace-event");
        }
        try {
            setState(args.get(0), args.get(1).equals("on"), null);
            return "";
        } catch (QmpError e) {
            return e.getMessage() + "\r\n";
        }
    }

    /** HMP {@code info trace-events [NAME]}: {@code name : state 0|1} per event. */
    static String hmpInfoTraceEvents(List<String> args) {
        try {
            StringBuilder sb = new StringBuilder();
            for (Object o : getState(args.isEmpty() ? "*" : args.get(0), null)) {
                @SuppressWarnings("unchecked")
                Map<String, Object> info = (Map<String, Object>) o;
                sb.append(info.get("name")).append(" : state ").append("enabled".equals(info.get("state")) ? 1 : 0)
                        .append("\r\n");
            }
            return sb.toString();
        } catch (QmpError e) {
            return e.getMessage() + "\r\n";
        }
    }

    private static String tryHelp(String command) {
        return "Try \"help " + command + "\" for more information\r\n";
    }
}
