package dev.ioemu.tools.trace;

import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.devices.trace.TraceFormat;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Streams trace logs line by line into {@link TraceRecord}s, in bounded memory whatever the log's
 * size: ioemu's lines and QEMU's "log" backend lines alike, with the {@code PID@SEC.USEC:} prefix
 * or without it (QEMU without {@code -msg timestamp=on}). A line that is not a trace line — not in
 * the shape, an event whose fields do not read in its format (a line cut short), a line longer than
 * {@link #MAX_LINE} — is skipped and counted, never fatal. {@code .gz} logs are read through gzip.
 */
final class TraceReader {
    /** Longer lines are not trace lines (the longest event is a QMP command echo). */
    static final int MAX_LINE = 64 * 1024;
    private static final Pattern LINE = Pattern.compile("^(?:(\\d+)@(\\d+)\\.(\\d{6}):)?([a-z][a-z0-9_]*)(?: (.*))?$");

    /** What a pass over the logs saw. */
    static final class Counts {
        long lines;
        long events;
        long malformed;
        long unknownEvents;
        long bytes;

        /** "N lines, M events (K lines not in the trace format)". */
        String describe() {
            return lines + " lines, " + events + " events"
                    + (malformed > 0 ? " (" + malformed + " lines not in the trace format)" : "")
                    + (unknownEvents > 0 ? " (" + unknownEvents + " events of no known catalogue)" : "");
        }
    }

    private final Progress progress;

    TraceReader(Progress progress) {
        this.progress = progress;
    }

    /** A reader that shows no progress. */
    static TraceReader quiet() {
        return new TraceReader(Progress.NONE);
    }

    /** Reads every file in turn, passing each event to {@code sink}. */
    Counts read(Iterable<Path> files, Consumer<TraceRecord> sink) throws IOException {
        Counts counts = new Counts();
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        progress.start(total);
        long before = 0;
        for (Path f : files) {
            try (Source src = new Source(f, counts)) {
                TraceRecord r;
                while ((r = src.next()) != null) {
                    sink.accept(r);
                    if ((counts.lines & 0x3FFF) == 0) {
                        progress.at(before + src.counted.count);
                    }
                }
                before += src.counted.count;
            }
        }
        progress.done();
        return counts;
    }

    /** Pulls events from one log, one at a time (diff walks two logs side by side). */
    static final class Source implements AutoCloseable {
        private final InputStream in;
        private final CountingStream counted;
        private final Counts counts;
        private byte[] buf = new byte[1024];
        private final byte[] chunk = new byte[1 << 16];
        private int pos;
        private int limit;
        private long lineNo;
        private boolean eof;

        Source(Path file, Counts counts) throws IOException {
            InputStream raw = Files.newInputStream(file);
            this.counted = new CountingStream(raw);
            try {
                this.in = new BufferedInputStream(file.toString().endsWith(".gz")
                        ? new GZIPInputStream(counted, 1 << 16) : counted, 1 << 16);
            } catch (IOException e) {
                raw.close();
                throw e;
            }
            this.counts = counts;
        }

        /** The next event, or null at the end of the log; lines that are not events are counted and skipped. */
        TraceRecord next() throws IOException {
            while (!eof) {
                String line = nextLine();
                if (line == null) {
                    continue;   // too long, or the end
                }
                TraceRecord r = parse(line, lineNo);
                if (r == null) {
                    if (!line.isBlank()) {
                        counts.malformed++;
                    }
                    continue;
                }
                counts.events++;
                if (r.format() == null) {
                    counts.unknownEvents++;
                }
                return r;
            }
            return null;
        }

        /** The next line, or null for a line too long to be a trace line or at the end. */
        private String nextLine() throws IOException {
            int len = 0;
            boolean tooLong = false;
            while (true) {
                if (pos == limit) {
                    limit = in.read(chunk, 0, chunk.length);
                    pos = 0;
                    if (limit <= 0) {
                        limit = 0;
                        eof = true;
                        if (len == 0 && !tooLong) {
                            return null;
                        }
                        return endLine(len, tooLong);
                    }
                }
                // Scan the chunk for the end of the line; copy what belongs to it.
                int start = pos;
                while (pos < limit && chunk[pos] != '\n') {
                    pos++;
                }
                int n = pos - start;
                if (!tooLong) {
                    if (len + n > MAX_LINE) {
                        tooLong = true;
                    } else {
                        if (len + n > buf.length) {
                            buf = java.util.Arrays.copyOf(buf, Math.min(MAX_LINE, Math.max(len + n, buf.length * 2)));
                        }
                        System.arraycopy(chunk, start, buf, len, n);
                        len += n;
                    }
                }
                if (pos < limit) {
                    pos++;   // the newline
                    return endLine(len, tooLong);
                }
            }
        }

        private String endLine(int len, boolean tooLong) {
            lineNo++;
            counts.lines++;
            if (tooLong) {
                counts.malformed++;
                return null;
            }
            int end = len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
            return new String(buf, 0, end, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            counts.bytes += counted.count;
            in.close();
        }
    }

    /** Reads lines from memory (tests, and the summary of a list of lines). */
    static Counts readLines(Iterable<String> lines, Consumer<TraceRecord> sink) {
        Counts counts = new Counts();
        for (String l : lines) {
            counts.lines++;
            accept(l, counts.lines, counts, sink);
        }
        return counts;
    }

    private static void accept(String text, long lineNo, Counts counts, Consumer<TraceRecord> sink) {
        TraceRecord r = parse(text, lineNo);
        if (r == null) {
            if (!text.isBlank()) {
                counts.malformed++;
            }
            return;
        }
        counts.events++;
        if (r.format() == null) {
            counts.unknownEvents++;
        }
        sink.accept(r);
    }

    /** One line as a record, or null if it is not a trace line. */
    static TraceRecord parse(String text, long lineNo) {
        Matcher m = LINE.matcher(text);
        if (!m.matches()) {
            return null;
        }
        boolean timed = m.group(1) != null;
        long micros = timed ? Long.parseLong(m.group(2)) * 1_000_000 + Long.parseLong(m.group(3)) : TraceRecord.NO_TIME;
        String event = m.group(4);
        String fields = m.group(5) == null ? "" : m.group(5);
        TraceEvent ours = TraceEvent.byName(event);
        if (ours != null) {
            Object[] v = ours.layout().read(fields);
            if (v != null) {
                return new TraceRecord(micros, event, fields, ours.layout(), v, false, lineNo);
            }
        }
        TraceFormat qemu = QemuTraceEvents.format(event);
        if (qemu != null) {
            Object[] v = qemu.read(fields);
            if (v != null) {
                return new TraceRecord(micros, event, fields, qemu, v, true, lineNo);
            }
        }
        if (ours != null || qemu != null || !timed) {
            // A known event whose fields do not read (cut short), or an untimed line of no known event.
            return null;
        }
        return new TraceRecord(micros, event, fields, null, null, false, lineNo);
    }

    private static final class CountingStream extends java.io.FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (c >= 0) {
                count++;
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    /** A progress bar on a terminal's stderr; silent when output is not a terminal. */
    static class Progress {
        static final Progress NONE = new Progress(null);
        private final PrintStream err;
        private long total;
        private long lastDraw;

        Progress(PrintStream err) {
            this.err = err;
        }

        /** The bar, if the process runs on a terminal ({@code System.console()}), else silence. */
        static Progress forTerminal(PrintStream err) {
            return System.console() != null ? new Progress(err) : NONE;
        }

        void start(long totalBytes) {
            total = totalBytes;
        }

        void at(long bytes) {
            if (err == null || total <= 0) {
                return;
            }
            long now = System.nanoTime();
            if (now - lastDraw < 200_000_000L) {
                return;
            }
            lastDraw = now;
            int pct = (int) Math.min(100, bytes * 100 / total);
            err.print("\r[" + "#".repeat(pct / 4) + " ".repeat(25 - pct / 4) + "] " + pct + "% of "
                    + (total >> 20) + " MiB");
            err.flush();
        }

        void done() {
            if (err != null && lastDraw != 0) {
                err.print("\r" + " ".repeat(50) + "\r");
                err.flush();
            }
        }
    }
}
