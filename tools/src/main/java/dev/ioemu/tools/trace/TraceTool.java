package dev.ioemu.tools.trace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code ioemu-trace summary|latency|sizes|timeline|diff|plot [OPTIONS] LOG…}: reads ioemu's trace
 * logs and QEMU's own {@code -trace} log-backend output. Exit status 0, 1 when a log cannot be
 * read (or, for diff, when the traces diverge), 2 for bad arguments.
 */
public final class TraceTool {
    static final String USAGE = """
            usage: ioemu-trace summary LOG...
                   ioemu-trace latency [--drive GLOB] LOG...
                   ioemu-trace sizes [--drive GLOB] LOG...
                   ioemu-trace timeline [--drive GLOB] [--event GLOB]... [--from TIME] [--to TIME] LOG...
                   ioemu-trace diff [--context N] [--ignore GLOB]... A B
                   ioemu-trace plot [-o FILE] LOG...
            TIME is relative to the first event: 1.5 (seconds), 250ms, 40us.""";

    private TraceTool() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Parsed options shared by the subcommands. */
    static final class Options {
        final List<Path> logs = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        final List<String> ignore = new ArrayList<>();
        String drive;
        long fromMicros = Long.MIN_VALUE;
        long toMicros = Long.MAX_VALUE;
        int context = 5;
        Path output;
    }

    /** Runs one command line; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String cmd = args[0];
        if (!List.of("summary", "latency", "sizes", "timeline", "diff", "plot").contains(cmd)) {
            err.println("ioemu-trace: unknown command '" + cmd + "' (expected: summary, latency, sizes, timeline, diff, plot)");
            return 2;
        }
        Options o;
        try {
            o = parse(cmd, args);
        } catch (IllegalArgumentException e) {
            err.println("ioemu-trace " + cmd + ": " + e.getMessage());
            return 2;
        }
        for (Path p : o.logs) {
            if (!Files.isRegularFile(p)) {
                err.println("ioemu-trace: " + p + ": " + (Files.exists(p) ? "Is not a regular file" : "No such file or directory"));
                return 1;
            }
        }
        TraceReader reader = new TraceReader(TraceReader.Progress.forTerminal(err));
        try {
            switch (cmd) {
                case "summary" -> {
                    TraceSummary s = TraceSummary.create();
                    s.report(reader.read(o.logs, s), out);
                }
                case "latency" -> {
                    TraceLatency l = new TraceLatency(o.drive);
                    reader.read(o.logs, l);
                    l.report(out);
                }
                case "sizes" -> {
                    TraceSizes s = new TraceSizes(o.drive);
                    reader.read(o.logs, s);
                    s.report(out);
                }
                case "timeline" -> {
                    TraceTimeline t = new TraceTimeline(o, out);
                    reader.read(o.logs, t);
                }
                case "diff" -> {
                    return TraceDiff.diff(o.logs.get(0), o.logs.get(1), o.context, o.ignore, out);
                }
                case "plot" -> {
                    TracePlot p = new TracePlot();
                    TraceReader.Counts c = reader.read(o.logs, p);
                    Path file = o.output != null ? o.output : Path.of("trace.html");
                    Files.writeString(file, p.html(o.logs, c));
                    out.println("wrote " + file);
                }
                default -> throw new IllegalStateException("command " + cmd + " listed but not dispatched");
            }
        } catch (NoSuchFileException e) {
            err.println("ioemu-trace: " + e.getFile() + ": No such file or directory");
            return 1;
        } catch (IOException e) {
            err.println("ioemu-trace: " + (e.getMessage() == null ? "read error" : e.getMessage()));
            return 1;
        }
        out.flush();
        return 0;
    }

    private static Options parse(String cmd, String[] args) {
        Options o = new Options();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-") && a.length() > 1) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                boolean takesValue = switch (cmd + " " + a) {
                    case "latency --drive", "sizes --drive", "timeline --drive" -> {
                        o.drive = need(a, value);
                        yield true;
                    }
                    case "timeline --event" -> {
                        o.events.add(need(a, value));
                        yield true;
                    }
                    case "timeline --from" -> {
                        o.fromMicros = micros(a, need(a, value));
                        yield true;
                    }
                    case "timeline --to" -> {
                        o.toMicros = micros(a, need(a, value));
                        yield true;
                    }
                    case "diff --context" -> {
                        try {
                            o.context = Integer.parseInt(need(a, value));
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("--context " + value + ": not a number (expected: lines, e.g. 5)");
                        }
                        if (o.context < 0 || o.context > 1000) {
                            throw new IllegalArgumentException("--context " + value + " (expected: 0 to 1000)");
                        }
                        yield true;
                    }
                    case "diff --ignore" -> {
                        o.ignore.add(need(a, value));
                        yield true;
                    }
                    case "plot -o" -> {
                        o.output = Path.of(need(a, value));
                        yield true;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
                };
                if (takesValue) {
                    i++;
                }
            } else {
                o.logs.add(Path.of(a));
            }
        }
        if (o.logs.isEmpty()) {
            throw new IllegalArgumentException("no trace log given\n" + USAGE);
        }
        if (cmd.equals("diff") && o.logs.size() != 2) {
            throw new IllegalArgumentException("needs two logs, A and B (got " + o.logs.size() + ")");
        }
        return o;
    }

    private static String need(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    /** "1.5" (seconds), "250ms", "40us", "2s" → microseconds. */
    static long micros(String option, String text) {
        String t = text.strip();
        double scale = 1_000_000;
        if (t.endsWith("ms")) {
            scale = 1_000;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("us")) {
            scale = 1;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t);
            if (!Double.isFinite(v) || v < 0) {
                throw new NumberFormatException();
            }
            return (long) (v * scale);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " " + text + ": not a time (expected: 1.5, 250ms or 40us after the first event)");
        }
    }

    /** Glob ({@code *}, {@code ?}) match of a whole name. */
    static boolean glob(String pattern, String name) {
        return name != null && name.matches(dev.ioemu.devices.trace.Trace.globToRegex(pattern));
    }

    /** A consumer that ignores records (a pass that only counts). */
    static final Consumer<TraceRecord> NOTHING = r -> { };
}
