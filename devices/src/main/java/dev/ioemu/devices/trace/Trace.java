package dev.ioemu.devices.trace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The trace switch and sink. Events are enabled at run time by glob patterns ({@code -trace
 * ide_*}), and written one per line in QEMU's "log" backend shape so the same tools read both:
 * <pre>PID@SECONDS.MICROS:event_name formatted fields</pre>
 * Lines go to the {@link LogFile} sink: stderr, or the {@code -D FILE} / {@code -trace file=FILE}.
 */
public final class Trace {
    private static final long PID = ProcessHandle.current().pid();

    private Trace() {
    }

    /**
     * Enables every event whose name matches {@code pattern} ({@code *} and {@code ?} globs; a
     * leading {@code -} disables instead).
     *
     * @return the events whose state changed or matched
     */
    public static List<TraceEvent> enable(String pattern) {
        boolean on = !pattern.startsWith("-");
        String glob = on ? pattern : pattern.substring(1);
        Pattern re = Pattern.compile(globToRegex(glob));
        List<TraceEvent> matched = new ArrayList<>();
        for (TraceEvent e : TraceEvent.values()) {
            if (re.matcher(e.eventName).matches()) {
                e.enabled = on;
                matched.add(e);
            }
        }
        return matched;
    }

    /** Disables every event. */
    public static void disableAll() {
        for (TraceEvent e : TraceEvent.values()) {
            e.enabled = false;
        }
    }

    /** True if any event is on (used to decide whether to open a trace file at all). */
    public static boolean anyEnabled() {
        for (TraceEvent e : TraceEvent.values()) {
            if (e.enabled) {
                return true;
            }
        }
        return false;
    }

    /** Sends trace lines to {@code file} (appending); see {@link LogFile} for the sink itself. */
    public static void setOutput(Path file) throws IOException {
        LogFile.open(file, true);
    }

    /** Sends trace lines to {@code stream} (tests). */
    public static void setOutput(PrintStream stream) {
        LogFile.use(stream);
    }

    /** Flushes buffered trace lines (at exit and on stop). */
    public static void flush() {
        LogFile.flush();
    }

    /**
     * Writes one event to the {@link LogFile}. Callers check {@code event.enabled} first so
     * nothing is formatted or boxed when tracing is off.
     */
    public static void emit(TraceEvent event, Object... args) {
        java.time.Instant now = java.time.Instant.now();
        StringBuilder line = new StringBuilder(96).append(PID).append('@').append(now.getEpochSecond()).append('.');
        String micros = Integer.toString(now.getNano() / 1000);
        line.append("000000", micros.length(), 6).append(micros).append(':').append(event.eventName).append(' ')
                .append(String.format(event.format, args));
        LogFile.println(line.toString());
    }

    /** True if {@code pattern} is a glob rather than one event's name (QEMU: it holds a {@code *}). */
    public static boolean isPattern(String pattern) {
        return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
    }

    /** A QEMU trace glob ({@code *}, {@code ?}) as a regular expression for whole names. */
    public static String globToRegex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> sb.append(".*");
                case '?' -> sb.append('.');
                default -> sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return sb.toString();
    }
}
