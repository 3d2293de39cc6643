package dev.ioemu.devices.trace;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The log file sink: QEMU's one log file ({@code -D FILE}, util/log.c), where trace events of the
 * "log" backend and the {@code -d} debug items both go, stderr until a file is opened. Anything
 * that logs for a person writes whole lines here, so the lines of the two interleave cleanly in
 * time order.
 *
 * <p>Threads: any thread may write; each line is written under the stream's lock. Opening a file
 * replaces the sink for lines written afterwards.
 */
public final class LogFile {
    private static volatile PrintStream out = System.err;

    private LogFile() {
    }

    /**
     * Opens {@code file} as the sink: truncated, as QEMU's {@code -D FILE} at start-up, or
     * appended to ({@code -trace file=FILE}, which QEMU opens for appending).
     *
     * @throws IOException if the file cannot be opened; the previous sink stays
     */
    public static synchronized void open(Path file, boolean append) throws IOException {
        OutputStream os = append
                ? Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
                : Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
        replace(new PrintStream(new BufferedOutputStream(os, 1 << 16), false));
    }

    /** Makes {@code stream} the sink (tests; {@code System.err} restores the default). */
    public static synchronized void use(PrintStream stream) {
        replace(stream);
    }

    private static void replace(PrintStream next) {
        PrintStream old = out;
        out = next;
        if (old != System.err && old != next) {
            old.close();
        }
    }

    /** Writes one line (without its newline) to the sink. */
    public static void println(String line) {
        PrintStream o = out;
        synchronized (o) {
            o.println(line);
        }
    }

    /** Pushes buffered lines to the file (at exit, on stop, before a reader looks). */
    public static void flush() {
        out.flush();
    }

    /** True if the last write or flush to the sink failed (disk full, closed descriptor). */
    public static boolean checkError() {
        return out.checkError();
    }
}
