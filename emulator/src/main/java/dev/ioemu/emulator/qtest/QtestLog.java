package dev.ioemu.emulator.qtest;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code -qtest-log} file in QEMU's format (shared/spec/qtest.md §2):
 * {@code [I 0.000001] OPENED}, {@code [R +0.006162] outb 0x80 0x1} per received line,
 * {@code [S +0.006165] OK} per sent line (IRQ lines included), {@code [I +0.006178] CLOSED};
 * times are seconds since the connection opened, with 6 decimals.
 */
public final class QtestLog {
    private final PrintStream out;   // null: logging disabled
    private long openedNanos = System.nanoTime();

    private QtestLog(PrintStream out) {
        this.out = out;
    }

    /** No log at all ({@code -qtest-log none}). */
    public static QtestLog disabled() {
        return new QtestLog(null);
    }

    public static QtestLog to(PrintStream out) {
        return new QtestLog(out);
    }

    /**
     * The log for a {@code -qtest-log} value: null means stderr (QEMU's default), {@code none}
     * and {@code /dev/null} disable it, anything else is a file created or truncated.
     */
    public static QtestLog forOption(String value) throws IOException {
        if (value == null) {
            return new QtestLog(System.err);
        }
        if (value.equals("none") || value.equals("/dev/null")) {
            return disabled();
        }
        OutputStream os = Files.newOutputStream(Path.of(value));
        return new QtestLog(new PrintStream(os, true, StandardCharsets.ISO_8859_1));
    }

    public boolean enabled() {
        return out != null;
    }

    public synchronized void opened() {
        openedNanos = System.nanoTime();
        if (out != null) {
            out.println("[I " + seconds() + "] OPENED");
        }
    }

    public synchronized void closed() {
        line('I', "CLOSED");
    }

    public synchronized void received(String request) {
        line('R', request);
    }

    public synchronized void sent(String reply) {
        line('S', reply);
    }

    private void line(char kind, String text) {
        if (out != null) {
            out.println("[" + kind + " +" + seconds() + "] " + text);
        }
    }

    private String seconds() {
        long us = Math.max(1, (System.nanoTime() - openedNanos) / 1000);
        // By hand: String.format's first use loads ~80 classes (locale data) on the way to the
        // first reply.
        String micros = Long.toString(us % 1_000_000);
        return us / 1_000_000 + "." + "000000".substring(micros.length()) + micros;
    }

    /** Closes a log file (not stderr). */
    public synchronized void close() {
        if (out != null && out != System.err) {
            out.close();
        }
    }
}
