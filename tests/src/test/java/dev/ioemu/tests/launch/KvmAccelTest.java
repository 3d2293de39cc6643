package dev.ioemu.tests.launch;

import dev.ioemu.emulator.engine.kvm.KvmHost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The engine choice as a user meets it (issue 13): {@code -accel kvm}, {@code -enable-kvm} and
 * {@code -machine accel=kvm} without /dev/kvm end with one line naming {@code -accel soft}; on
 * kvm_pvm they warn once about the speed; QMP {@code query-kvm} tells which engine runs.
 */
class KvmAccelTest {
    private static final KvmHost HOST = KvmHost.probe();

    @TempDir
    Path dir;

    /** The launcher builds the jar when it is older than the sources: once, outside the timed runs. */
    @org.junit.jupiter.api.BeforeAll
    static void built() throws Exception {
        Process p = new ProcessBuilder(ioemu().toString(), "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assumeTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, "skipped: emulator/bin/ioemu -version failed");
    }

    private static Path ioemu() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("emulator/bin/ioemu"))) {
            p = p.getParent();
        }
        assumeTrue(p != null, "skipped: emulator/bin/ioemu not found above the working directory");
        return p.resolve("emulator/bin/ioemu");
    }

    /** A boot sector that halts with interrupts on forever: the VM stays up until the host ends it. */
    private Path idleDisk() throws Exception {
        byte[] sector = new byte[512];
        sector[0] = (byte) 0xfb;   // sti
        sector[1] = (byte) 0xf4;   // hlt
        sector[2] = (byte) 0xeb;   // jmp short -4 (back to sti)
        sector[3] = (byte) 0xfc;
        sector[510] = 0x55;
        sector[511] = (byte) 0xaa;
        Path img = dir.resolve("idle.img");
        Files.write(img, sector);
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), (1 << 20) - 1);
        }
        return img;
    }

    private record Result(int status, String stderr) {
    }

    private Result run(List<String> args, long timeoutSeconds) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ioemu().toString()));
        cmd.addAll(args);
        Path err = dir.resolve("stderr-" + System.nanoTime());
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(dir.resolve("stdout").toFile()).start();
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "ioemu did not exit");
        return new Result(p.exitValue(), Files.readString(err));
    }

    @Test
    void everySpellingOfKvmWithoutDevKvmEndsWithOneLineNamingAccelSoft() throws Exception {
        assumeFalse(HOST.present(), "skipped: this host has /dev/kvm");
        Path img = idleDisk();
        for (List<String> spelling : List.of(List.of("-accel", "kvm"), List.of("-enable-kvm"), List.of("-machine", "pc,accel=kvm"))) {
            List<String> args = new ArrayList<>(spelling);
            args.addAll(List.of("-nodefaults", "-display", "none", "-drive", "file=" + img + ",if=ide,format=raw"));
            Result r = run(args, 120);
            assertEquals(1, r.status(), spelling + ": " + r.stderr());
            assertEquals(1, r.stderr().lines().count(), r.stderr());
            assertTrue(r.stderr().startsWith("ioemu: -accel kvm: no /dev/kvm"), r.stderr());
            assertTrue(r.stderr().contains("use -accel soft"), r.stderr());
        }
    }

    @Test
    void queryKvmTellsWhichEngineRunsTheGuestAndQuitFlushesAndExitsZero() throws Exception {
        Path img = idleDisk();
        Path sock = dir.resolve("qmp.sock");
        List<String> cmd = new ArrayList<>(List.of(ioemu().toString(), "-accel", "soft", "-nodefaults", "-display", "none",
                "-drive", "file=" + img + ",if=ide,format=raw", "-qmp", "unix:" + sock + ",server=on,wait=off"));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("qmp.stderr").toFile())
                .redirectOutput(dir.resolve("qmp.stdout").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.exists(sock) && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(sock), "QMP socket never appeared; stderr: " + Files.readString(dir.resolve("qmp.stderr")));
            try (SocketChannel ch = connectWhenListening(sock, deadline)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(ch);
                in.readLine();   // greeting
                out.write("{\"execute\": \"qmp_capabilities\"}\n".getBytes(StandardCharsets.UTF_8));
                assertEquals("{\"return\": {}}", in.readLine());
                out.write("{\"execute\": \"query-kvm\"}\n".getBytes(StandardCharsets.UTF_8));
                // As QEMU: "present" is KVM support built in, whatever /dev/kvm is; "enabled" is the engine.
                assertEquals("{\"return\": {\"enabled\": false, \"present\": true}}", in.readLine());
                out.write("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info kvm\"}}\n"
                        .getBytes(StandardCharsets.UTF_8));
                assertEquals("{\"return\": \"kvm support: disabled\\r\\n\"}",
                        in.readLine());
                out.write("{\"execute\": \"quit\"}\n".getBytes(StandardCharsets.UTF_8));
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "ioemu did not exit after quit");
            assertEquals(0, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void theEngineChoiceIsATraceEvent() throws Exception {
        byte[] sector = new byte[512];
        byte[] exit = {(byte) 0xb0, 0x00, (byte) 0xe6, (byte) 0xf4, (byte) 0xeb, (byte) 0xfe};   // mov al,0; out 0xf4,al; jmp $
        System.arraycopy(exit, 0, sector, 0, exit.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xaa;
        Path img = dir.resolve("exit.img");
        Files.write(img, sector);
        Path trace = dir.resolve("trace.log");
        Result r = run(List.of("-nodefaults", "-display", "none", "-drive", "file=" + img + ",if=ide,format=raw",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-trace", "kvm_accel_selected", "-D", trace.toString()), 120);
        assertEquals(1, r.status(), r.stderr());
        String log = Files.readString(trace);
        assertTrue(log.contains("kvm_accel_selected accel " + HOST.defaultAccelerator() + " kvm " + HOST.kind()), log);
    }

    /**
     * Connects once the server listens: a Unix socket's file appears at bind(), a moment before
     * listen(), so a connect in between is refused (QEMU's sockets behave the same; libqtest retries).
     */
    private static SocketChannel connectWhenListening(Path sock, long deadline) throws Exception {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(sock));
                return ch;
            } catch (java.net.ConnectException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
