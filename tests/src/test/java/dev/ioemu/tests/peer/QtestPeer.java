package dev.ioemu.tests.peer;

import dev.ioemu.tools.qtest.QtestClient;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One qtest peer process driven over stdio: real QEMU or ioemu, launched with the same machine
 * arguments (drives, globals), through the one qtest client ({@link QtestClient}). QEMU from
 * Debian has no qtest accelerator, so it runs with {@code -accel tcg -S}: vCPUs stopped, firmware
 * never runs, devices in their power-on state (shared/spec/qtest.md §1); ioemu runs with
 * {@code -accel qtest}.
 *
 * <p>IRQ lines are attached to the reply that follows them, so a line that arrives between
 * requests is reported with the next one and never lost. A peer that dies or stays silent for 60 s
 * fails the request with its exit status and stderr.
 */
public final class QtestPeer implements AutoCloseable {
    public enum Kind { QEMU, IOEMU }

    public static final String QEMU_BINARY = "qemu-system-x86_64";

    private final Kind kind;
    private final QtestClient client;

    private QtestPeer(Kind kind, QtestClient client) {
        this.kind = kind;
        this.client = client;
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

    /** The peer's command line: the emulator, its accelerator, qtest on stdio, then {@code machineArgs}. */
    public static List<String> command(Kind kind, List<String> machineArgs) {
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
        return cmd;
    }

    /**
     * Starts a peer.
     *
     * @param machineArgs arguments after the common ones, e.g. {@code -drive file=…,if=ide,format=raw}
     * @param workDir     where the peer's stderr goes ({@code KIND.stderr})
     */
    public static QtestPeer launch(Kind kind, List<String> machineArgs, Path workDir) throws IOException {
        return new QtestPeer(kind, client(kind, machineArgs, workDir));
    }

    /** Starts a peer and returns its libqtest-style client (for tests written like QEMU's qtests). */
    public static QtestClient client(Kind kind, List<String> machineArgs, Path workDir) throws IOException {
        Path err = workDir.resolve(kind.name().toLowerCase() + ".stderr");
        return QtestClient.start(kind.name(), command(kind, machineArgs), err);
    }

    public Kind kind() {
        return kind;
    }

    /** The client, for libqtest-style calls between script steps. */
    public QtestClient client() {
        return client;
    }

    /** Sends one request and waits for its reply; IRQ lines before it are returned with it. */
    public Exchange send(Step step, String request) throws IOException {
        QtestClient.Reply r = client.exchange(request);
        return new Exchange(step, r.irqLines(), r.line(), 1);
    }

    public String stderrText() {
        return client.stderrText();
    }

    /**
     * Ends the peer the way libqtest does (SIGTERM), which makes both QEMU and ioemu flush their
     * drives; {@link #exitStatus} then gives the status (0 expected).
     */
    @Override
    public void close() throws IOException {
        client.close();
    }

    /** The exit status after {@link #close}. */
    public int exitStatus() {
        return client.exitStatus();
    }

    @Override
    public String toString() {
        return client.toString();
    }
}
