package dev.ioemu.devices.block.writelog;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a write log ({@link WriteLogFormat}) one record at a time, so a long log needs no more
 * memory than its longest line; the data side file is read on demand by position.
 * A malformed line is an {@link IOException} naming the line number and what was expected.
 */
public final class WriteLogReader implements AutoCloseable {
    /** One line: its tag, its SEQ, its key=value fields. */
    public record Record(String tag, long seq, Map<String, String> fields, int line) {
        public String get(String key) throws IOException {
            String v = fields.get(key);
            if (v == null) {
                throw new IOException("write log line " + line + ": " + tag + " without " + key + "= (expected: "
                        + "the fields WriteLogFormat lists)");
            }
            return v;
        }

        public long number(String key) throws IOException {
            String v = get(key);
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IOException("write log line " + line + ": " + key + "=" + v + " (expected: a number)");
            }
        }

        public boolean isHost() {
            return tag.startsWith("h-");
        }
    }

    private final Path path;
    private final BufferedReader in;
    private final FileChannel data;
    private int lineNumber;
    private long lastSeq;

    private WriteLogReader(Path path, BufferedReader in, FileChannel data) {
        this.path = path;
        this.in = in;
        this.data = data;
    }

    /** Opens {@code log} and its side file and checks the header line. */
    public static WriteLogReader open(Path log) throws IOException {
        BufferedReader in;
        try {
            in = Files.newBufferedReader(log, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException("write log '" + log + "': no such file");
        }
        String header = in.readLine();
        String expected = WriteLogFormat.MAGIC + " " + WriteLogFormat.VERSION;
        if (header == null || !header.equals(expected)) {
            in.close();
            throw new IOException("write log '" + log + "': first line '" + (header == null ? "" : header)
                    + "' (expected: '" + expected + "')");
        }
        Path side = Path.of(log + WriteLogFormat.DATA_SUFFIX);
        FileChannel data;
        try {
            data = FileChannel.open(side, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            in.close();
            throw new IOException("write log data '" + side + "': no such file (expected: next to the log)");
        }
        WriteLogReader r = new WriteLogReader(log, in, data);
        r.lineNumber = 1;
        return r;
    }

    public Path path() {
        return path;
    }

    /** The next record, or null at the end. */
    public Record next() throws IOException {
        String line = in.readLine();
        if (line == null) {
            return null;
        }
        lineNumber++;
        String[] tokens = line.split(" ");
        if (tokens.length < 2) {
            throw new IOException("write log line " + lineNumber + ": '" + abbreviate(line)
                    + "' (expected: TAG SEQ key=value…)");
        }
        long seq;
        try {
            seq = Long.parseLong(tokens[1]);
        } catch (NumberFormatException e) {
            throw new IOException("write log line " + lineNumber + ": SEQ '" + abbreviate(tokens[1])
                    + "' (expected: a number)");
        }
        if (seq != lastSeq + 1) {
            throw new IOException("write log line " + lineNumber + ": SEQ " + seq + " after " + lastSeq
                    + " (expected: " + (lastSeq + 1) + "; the log is damaged or spliced)");
        }
        lastSeq = seq;
        Map<String, String> fields = new HashMap<>();
        for (int i = 2; i < tokens.length; i++) {
            int eq = tokens[i].indexOf('=');
            if (eq <= 0) {
                throw new IOException("write log line " + lineNumber + ": '" + abbreviate(tokens[i])
                        + "' (expected: key=value)");
            }
            fields.put(tokens[i].substring(0, eq), tokens[i].substring(eq + 1));
        }
        return new Record(tokens[0], seq, fields, lineNumber);
    }

    /** Reads {@code dst.remaining()} bytes of the side file from {@code position}. */
    public void readData(long position, ByteBuffer dst) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = data.read(dst, pos);
            if (n < 0) {
                throw new IOException("write log data '" + path + WriteLogFormat.DATA_SUFFIX + "': ends at " + pos
                        + " (expected: the bytes a record points at)");
            }
            pos += n;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }

    @Override
    public void close() throws IOException {
        try {
            in.close();
        } finally {
            data.close();
        }
    }
}
