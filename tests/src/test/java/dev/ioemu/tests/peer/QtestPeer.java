package dev.ioemu.tests.peer;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One qtest peer process driven over stdio: real QEMU or ioemu, launched with the same machine
 * arguments (drives, globals). QEMU from Debian has no qtest accelerator, so it runs with
 * {@code -accel tcg -S}: vCPUs stopped, firmware never runs, devices in their power-on state
 * (shared/spec/qtest.md §1); ioemu runs with {@code -accel qtest}.
 *
 * <p>IRQ lines are attached to the reply that follows them, so a line that arrives between
 * requests is reported with the next one and never lost.
 */
public final class QtestPeer implements AutoCloseable {
    public enum Kind { QEMU, IOEMU }

    public static final String QEMU_BINARY = "qemu-system-x86_64";
    private static final long REPLY_TIMEOUT_SECONDS = 60;

    private final Kind kind;
    private final Process process;
    private final OutputStream in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path stderr;
    private String lastRequest = "";

    private QtestPeer(Kind kind, Process process, Path stderr) {
        this.kind = kind;
        this.process = process;
        this.in = process.getOutputStream();
        this.stderr = stderr;
        Thread reader = new Thread(this::readLines, kind + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** True if QEMU can be run here; tests that need it skip with "skipped: qemu-system-x86_64 not installed". */
    public static boolean qemuInstalled() {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, QEMU_BINARY))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts a peer.
     *
     * @param machineArgs arguments after the common ones, e.g. {@code -drive file=…,if=ide,format=raw}
     * @param workDir     where the peer's stderr goes ({@code KIND.stderr})
     */
    public static QtestPeer launch(Kind kind, List<String> machineArgs, Path workDir) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.QEMU) {
            cmd.addAll(List.of(QEMU_BINARY, "-machine", "pc", "-accel", "tcg", "-S"));
        } else {
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main",
                    "-machine", "pc", "-accel", "qtest"));
        }
        cmd.addAll(List.of("-qtest", "stdio", "-qtest-log", "/dev/null", "-nodefaults", "-display", "none"));
        cmd.addAll(machineArgs);
        Path err = workDir.resolve(kind.name().toLowerCase() + ".stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        return new QtestPeer(kind, p, err);
    }

    public Kind kind() {
        return kind;
    }

    private void readLines() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.ISO_8859_1))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            // The process ended; send() reports the missing reply.
        }
    }

    /** Sends one request and waits for its reply; IRQ lines before it are returned with it. */
    public Exchange send(Step step, String request) throws IOException {
        lastRequest = request;
        in.write((request + "\n").getBytes(StandardCharsets.ISO_8859_1));
        in.flush();
        List<String> irqs = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(REPLY_TIMEOUT_SECONDS);
        while (true) {
            String line;
            try {
                line = lines.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + kind + " to answer '" + request + "'");
            }
            if (line == null) {
                boolean dead = !process.isAlive() && lines.isEmpty();
                if (dead || System.nanoTime() > deadline) {
                    // 128+N is death by signal N (136: SIGFPE, 134: SIGABRT from an assertion).
                    throw new IOException(kind + (dead ? " exited with status " + process.exitValue() : " is alive")
                            + " without answering '" + request + "'; stderr: " + stderrText());
                }
                continue;
            }
            if (line.startsWith("IRQ ")) {
                irqs.add(line);
            } else {
                return new Exchange(step, irqs, line, 1);
            }
        }
    }

    public String stderrText() {
        try {
            return Files.exists(stderr) ? Files.readString(stderr) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    /**
     * Ends the peer the way libqtest does (SIGTERM), which makes both QEMU and ioemu flush their
     * drives, and returns the exit status (0 expected).
     */
    @Override
    public void close() throws IOException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The exit status after {@link #close}. */
    public int exitStatus() {
        return process.exitValue();
    }

    @Override
    public String toString() {
        return kind + " (last request '" + lastRequest + "')";
    }
}
