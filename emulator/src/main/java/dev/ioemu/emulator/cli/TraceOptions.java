package dev.ioemu.emulator.cli;

import dev.ioemu.devices.trace.LogFile;
import dev.ioemu.devices.trace.Trace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code -trace} and {@code -D} as QEMU 7.2 reads them (qemu-options.hx, trace/control.c,
 * util/log.c): event patterns from {@code -trace PATTERN}, {@code -trace enable=PATTERN} and
 * the lines of {@code -trace events=FILE} (blank lines and {@code #} comments skipped, a leading
 * {@code -} disables), in command-line order; the log file {@code -D FILE}; and
 * {@code -trace file=FILE}, which takes the trace lines (and the log) away from the -D file.
 *
 * @param patterns  the patterns in order, each with where it was written (for warnings)
 * @param logFile   {@code -D FILE}, or null
 * @param traceFile {@code -trace file=FILE}, or null
 */
public record TraceOptions(List<Pattern> patterns, Path logFile, Path traceFile) {
    /** One pattern and the place a warning about it names: {@code "-trace X"} or {@code "FILE:LINE"}. */
    public record Pattern(String pattern, String where) { }

    /** Collects the options while the command line is read. */
    static final class Builder {
        private final List<Pattern> patterns = new ArrayList<>();
        private Path logFile;
        private Path traceFile;

        void logFile(String value) {
            logFile = Path.of(value);
        }

        void trace(String value) throws UsageException {
            String where = "-trace " + value;
            for (var e : QemuOpts.parse("-trace", value, "enable").entrySet()) {
                switch (e.getKey()) {
                    case "enable" -> patterns.add(new Pattern(e.getValue(), where));
                    case "events" -> readEventsFile(where, e.getValue());
                    case "file" -> traceFile = Path.of(e.getValue());
                    default -> throw new UsageException(where + ": Invalid parameter '" + e.getKey()
                            + "' (expected: enable, events, file)");
                }
            }
        }

        private void readEventsFile(String where, String file) throws UsageException {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file));
            } catch (IOException ex) {
                throw new UsageException(where + ": " + file + ": " + HostErrorText.reason(ex));
            } catch (java.io.UncheckedIOException | SecurityException ex) {
                throw new UsageException(where + ": " + file + ": cannot be read");
            }
            for (int i = 0; i < lines.size(); i++) {
                String t = lines.get(i).strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    patterns.add(new Pattern(t, file + ":" + (i + 1)));
                }
            }
        }

        TraceOptions build() {
            return new TraceOptions(List.copyOf(patterns), logFile, traceFile);
        }
    }

    /** No -trace, no -D. */
    public static TraceOptions none() {
        return new TraceOptions(List.of(), null, null);
    }

    /** The patterns alone, in order. */
    public List<String> patternTexts() {
        return patterns.stream().map(Pattern::pattern).toList();
    }

    /**
     * Turns the events on and opens the log: the -D file is created (truncated) even if nothing
     * is traced, as QEMU does; {@code file=} then takes the lines. A name that matches no event
     * gets QEMU's warning; a glob that matches nothing is silent, as in QEMU.
     *
     * @throws UsageException naming the file that cannot be opened
     */
    public void apply(PrintStream err) throws UsageException {
        for (Pattern p : patterns) {
            String name = p.pattern().startsWith("-") ? p.pattern().substring(1) : p.pattern();
            if (Trace.enable(p.pattern()).isEmpty() && !Trace.isPattern(name)) {
                String at = p.where().startsWith("-") ? " " + p.where() : p.where();
                err.println("ioemu:" + at + ": warning: trace event '" + name + "' does not exist");
            }
        }
        open(logFile, false, "-D " + logFile);
        open(traceFile, true, "-trace file=" + traceFile);
    }

    private static void open(Path file, boolean append, String option) throws UsageException {
        if (file == null) {
            return;
        }
        try {
            LogFile.open(file, append);
        } catch (IOException e) {
            throw new UsageException(option + ": Error opening logfile " + file + ": " + HostErrorText.reason(e), e);
        }
    }
}
