package dev.ioemu.devices.trace;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The trace switch and sink. Events are enabled at run time by glob patterns ({@code -trace
 * ide_*}), and written one per line in QEMU's "log" backend shape so the same tools read both:
 * <pre>PID@SECONDS.MICROS:event_name formatted fields</pre>
 * Output goes to stderr unless {@link #setOutput} names a file ({@code -D FILE}).
 */
public final class Trace {
    private static final long PID = ProcessHandle.current().pid();
    private static volatile PrintStream out = System.err;

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

    /** Sends trace lines to {@code file} (appending), as QEMU's {@code -D FILE}. */
    public static synchronized void setOutput(Path file) throws IOException {
        OutputStream os = Files.newOutputStream(file, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
        PrintStream old = out;
        out = new PrintStream(new java.io.BufferedOutputStream(os, 1 << 16), false);
        if (old != System.err) {
            old.close();
        }
    }

    /** Sends trace lines to {@code stream} (tests). */
    public static synchronized void setOutput(PrintStream stream) {
        out = stream;
    }

    /** Flushes buffered trace lines (at exit and on stop). */
    public static void flush() {
        out.flush();
    }

    /**
     * Writes one event. Callers check {@code event.enabled} first so nothing is formatted or
     * boxed when tracing is off.
     */
    public static void emit(TraceEvent event, Object... args) {
        java.time.Instant now = java.time.Instant.now();
        String line = PID + "@" + now.getEpochSecond() + "." + String.format("%06d", now.getNano() / 1000)
                + ":" + event.eventName + " " + String.format(event.format, args);
        PrintStream o = out;
        synchronized (o) {
            o.println(line);
        }
    }

    static String globToRegex(String glob) {
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
