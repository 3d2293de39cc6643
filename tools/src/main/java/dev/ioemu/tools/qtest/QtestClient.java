package dev.ioemu.tools.qtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * libqtest in Java (shared/spec/qtest.md §2-§6): starts an emulator — QEMU or ioemu — with
 * {@code -qtest stdio}, sends one request line at a time and reads its reply line. Asynchronous
 * {@code IRQ raise/lower N} lines are returned with the reply they precede (so a differential run
 * can compare them) and kept in a level table ({@link #getIrq}, with libqtest's {@code inb 0x0}
 * flush). The accessors fail with an {@link IOException} on anything but an OK reply.
 *
 * <p>A reply that does not come within the timeout (60 s unless set) ends the emulator and fails
 * the request; so does an emulator that dies, with its exit status and stderr in the message
 * ({@code 128+N} is death by signal N: 136 SIGFPE, 134 SIGABRT). One thread uses a client.
 */
public final class QtestClient implements AutoCloseable {
    /** A reply line and the IRQ lines that arrived before it. */
    public record Reply(List<String> irqLines, String line) {
    }

    private static final long DEFAULT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);
    private static final long WATCHDOG_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long TERMINATE_SECONDS = 30;

    private final String name;
    private final Process process;
    private final BufferedReader in;
    private final OutputStream out;
    private final Path stderrFile;
    private final boolean[] irqLevels = new boolean[256];
    private long irqChanges;
    private long replyTimeoutNanos = DEFAULT_TIMEOUT_NANOS;
    /** System.nanoTime when the current wait for a reply began; 0 while no request is pending. */
    private volatile long waitingSince;
    private volatile boolean timedOut;
    private String lastRequest = "";

    private QtestClient(String name, Process process, Path stderrFile) {
        this.name = name;
        this.process = process;
        this.in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
        this.out = process.getOutputStream();
        this.stderrFile = stderrFile;
        Thread watchdog = new Thread(this::watch, name + "-qtest-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /**
     * Starts {@code command} (which must include {@code -qtest stdio}).
     *
     * @param name   how messages name the emulator ("QEMU", "ioemu")
     * @param stderr where the emulator's stderr goes
     */
    public static QtestClient start(String name, List<String> command, ProcessBuilder.Redirect stderr)
            throws IOException {
        return new QtestClient(name, new ProcessBuilder(command).redirectError(stderr).start(), null);
    }

    /** As {@link #start(String, List, ProcessBuilder.Redirect)}, stderr into {@code stderrFile} (quoted in failures). */
    public static QtestClient start(String name, List<String> command, Path stderrFile) throws IOException {
        Process p = new ProcessBuilder(command).redirectError(stderrFile.toFile()).start();
        return new QtestClient(name, p, stderrFile);
    }

    /** How long a reply may take before the emulator counts as hung (default 60 s). */
    public void setReplyTimeout(long seconds) {
        this.replyTimeoutNanos = TimeUnit.SECONDS.toNanos(seconds);
    }

    /** Ends a hung emulator: a blocked read then sees the end of the stream. */
    private void watch() {
        while (process.isAlive()) {
            LockSupport.parkNanos(WATCHDOG_PERIOD_NANOS);
            long since = waitingSince;
            if (since != 0 && System.nanoTime() - since > replyTimeoutNanos) {
                timedOut = true;
                process.destroyForcibly();
            }
        }
    }

    /** Sends one request line and returns its reply with the IRQ lines received before it. */
    public Reply exchange(String request) throws IOException {
        lastRequest = request;
        List<String> irqs = new ArrayList<>();
        waitingSince = System.nanoTime();
        try {
            out.write((request + "\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            while (true) {
                String line = in.readLine();
                if (line == null) {
                    throw noReply(request);
                }
                if (line.startsWith("IRQ raise ") || line.startsWith("IRQ lower ")) {
                    irqLevels[Integer.parseInt(line.substring(10).trim()) & 0xFF] = line.startsWith("IRQ raise");
                    irqChanges++;
                    irqs.add(line);
                    continue;
                }
                return new Reply(irqs, line);
            }
        } catch (NoReplyException e) {
            throw e;
        } catch (IOException e) {
            // A broken pipe or a stream closed under us: the emulator is gone.
            throw noReply(request);
        } finally {
            waitingSince = 0;
        }
    }

    /** The emulator died or hung: no reply will come. */
    private static final class NoReplyException extends IOException {
        NoReplyException(String message) {
            super(message);
        }
    }

    private NoReplyException noReply(String request) {
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String state = timedOut ? " did not answer within " + TimeUnit.NANOSECONDS.toSeconds(replyTimeoutNanos)
                + " s (ended)" : process.isAlive() ? " closed its output" : " exited with status " + process.exitValue();
        return new NoReplyException(name + state + " without answering '" + request + "'; stderr: " + stderrText());
    }

    /** Sends one request line and returns the reply line, whatever it is ("OK …", "FAIL …", "ERR …"). */
    public String command(String request) throws IOException {
        return exchange(request).line();
    }

    /** Sends one request; anything but an OK reply fails. Returns the reply line. */
    public String request(String request) throws IOException {
        String reply = command(request);
        if (!reply.equals("OK") && !reply.startsWith("OK ")) {
            throw new IOException(name + ": '" + request + "' answered '" + reply + "'");
        }
        return reply;
    }

    private long value(String request) throws IOException {
        String reply = request(request);
        if (!reply.startsWith("OK 0x")) {
            throw new IOException(name + ": '" + request + "' answered '" + reply + "' (expected: OK 0x…)");
        }
        return Long.parseUnsignedLong(reply.substring(5), 16);
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    public int inb(int port) throws IOException { return (int) value("inb " + hex(port)); }
    public int inw(int port) throws IOException { return (int) value("inw " + hex(port)); }
    public int inl(int port) throws IOException { return (int) value("inl " + hex(port)); }
    public void outb(int port, int v) throws IOException { request("outb " + hex(port) + " " + hex(v & 0xFF)); }
    public void outw(int port, int v) throws IOException { request("outw " + hex(port) + " " + hex(v & 0xFFFF)); }
    public void outl(int port, int v) throws IOException { request("outl " + hex(port) + " " + hex(v & 0xFFFF_FFFFL)); }
    public int readl(long addr) throws IOException { return (int) value("readl " + hex(addr)); }
    public void writel(long addr, int v) throws IOException { request("writel " + hex(addr) + " " + hex(v & 0xFFFF_FFFFL)); }

    /** {@code qtest_memwrite}: the {@code write} command, data in hex. */
    public void memwrite(long addr, byte[] data) throws IOException {
        request("write " + hex(addr) + " " + hex(data.length) + " 0x" + HexFormat.of().formatHex(data));
    }

    /** {@code qtest_memread}: the {@code read} command. */
    public byte[] memread(long addr, int size) throws IOException {
        String reply = request("read " + hex(addr) + " " + hex(size));
        return HexFormat.of().parseHex(reply.substring(5));
    }

    /** {@code qtest_bufwrite}: the {@code b64write} command. */
    public void bufwrite(long addr, byte[] data) throws IOException {
        request("b64write " + hex(addr) + " " + hex(data.length) + " " + Base64.getEncoder().encodeToString(data));
    }

    /** {@code qtest_bufread}: the {@code b64read} command. */
    public byte[] bufread(long addr, int size) throws IOException {
        String reply = request("b64read " + hex(addr) + " " + hex(size));
        return Base64.getDecoder().decode(reply.substring(3).trim());
    }

    public void memset(long addr, int size, int value) throws IOException {
        request("memset " + hex(addr) + " " + hex(size) + " " + hex(value & 0xFF));
    }

    public void irqInterceptIn(String path) throws IOException {
        request("irq_intercept_in " + path);
    }

    /** {@code qtest_get_irq}: flushes pending IRQ lines with a dummy {@code inb 0x0}, then the level table. */
    public boolean getIrq(int n) throws IOException {
        inb(0x0);
        return irqLevels[n & 0xFF];
    }

    /** IRQ lines (raise or lower) received so far. */
    public long irqChanges() {
        return irqChanges;
    }

    public String name() {
        return name;
    }

    /** The emulator's stderr so far, if it goes to a file. */
    public String stderrText() {
        try {
            return stderrFile != null && Files.exists(stderrFile) ? Files.readString(stderrFile) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /** Ends the emulator as libqtest does (SIGTERM, which flushes its drives) and returns its exit status. */
    public int terminate() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(TERMINATE_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + name + " to exit", e);
        }
        return process.exitValue();
    }

    /** The exit status once the emulator has ended. */
    public int exitStatus() {
        return process.exitValue();
    }

    /** Ends the emulator with SIGTERM if it still runs (see {@link #terminate}). */
    @Override
    public void close() throws IOException {
        if (process.isAlive()) {
            terminate();
        }
    }

    @Override
    public String toString() {
        return name + " (last request '" + lastRequest + "')";
    }
}
