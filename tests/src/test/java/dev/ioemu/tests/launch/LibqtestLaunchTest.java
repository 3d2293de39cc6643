package dev.ioemu.tests.launch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code emulator/bin/ioemu} used as libqtest's {@code QTEST_QEMU_BINARY}: started through
 * {@code sh -c "exec BINARY ARGS"} with the exact argument lists of QEMU 7.2's and master's
 * libqtest (shared/spec/qtest.md §5.2), it must connect to both sockets, answer the handshakes,
 * and exit with status 0 on SIGTERM — which only works if the launcher script {@code exec}s the JVM.
 */
class LibqtestLaunchTest {
    @TempDir
    Path dir;

    static Path launcher() {
        Path root = Path.of(System.getProperty("ioemu.root", "."));
        Path jar = root.resolve("emulator/target/ioemu-emulator-0.1.0-SNAPSHOT.jar");
        boolean built = Files.exists(jar) && Files.isDirectory(root.resolve("emulator/target/lib"));
        if (built) {
            long jarTime = jar.toFile().lastModified();
            // The launcher rebuilds when a source of the emulator or a module below it is newer.
            for (String module : new String[] {"devices", "bios", "emulator"}) {
                Path main = root.resolve(module).resolve("src/main");
                if (!Files.isDirectory(main)) {
                    continue;
                }
                try (Stream<Path> sources = Files.walk(main)) {
                    built &= sources.filter(Files::isRegularFile).allMatch(p -> p.toFile().lastModified() <= jarTime);
                } catch (java.io.IOException e) {
                    built = false;
                }
            }
        }
        // The launcher would run Maven itself to build a missing or stale jar: not inside a test.
        assumeTrue(built, "skipped: emulator jar missing or older than the sources (run mvn verify)");
        return root.resolve("emulator/bin/ioemu");
    }

    private static ServerSocketChannel listen(Path p) throws Exception {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(p), 1);
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"7.2", "master"})
    void launchedLikeLibqtestThenSigtermExitsZero(String libqtest) throws Exception {
        Path binary = launcher();
        Path sock = dir.resolve("qtest-4242.sock");
        Path qmp = dir.resolve("qtest-4242.qmp");
        String common = "-qtest unix:" + sock + " -qtest-log /dev/null -chardev socket,path=" + qmp
                + ",id=char0 -mon chardev=char0,mode=control -display none ";
        String args = libqtest.equals("7.2")
                ? common + "-machine pc -accel qtest"
                : common + "-audio none -run-with exit-with-parent=on -machine pc -accel qtest";
        try (ServerSocketChannel qtestListener = listen(sock); ServerSocketChannel qmpListener = listen(qmp)) {
            Process p = new ProcessBuilder("sh", "-c", "exec " + binary + " " + args)
                    .redirectError(dir.resolve("stderr").toFile()).start();
            try (SocketChannel q = qtestListener.accept(); SocketChannel m = qmpListener.accept()) {
                BufferedReader qin = new BufferedReader(new InputStreamReader(Channels.newInputStream(q), StandardCharsets.ISO_8859_1));
                OutputStream qout = Channels.newOutputStream(q);
                qout.write("endianness\n".getBytes(StandardCharsets.ISO_8859_1));
                assertEquals("OK little", qin.readLine());
                BufferedReader min = new BufferedReader(new InputStreamReader(Channels.newInputStream(m), StandardCharsets.UTF_8));
                assertTrue(min.readLine().startsWith("{\"QMP\": "));
                Channels.newOutputStream(m).write("{\"execute\": \"qmp_capabilities\"}\n".getBytes(StandardCharsets.UTF_8));
                assertEquals("{\"return\": {}}", min.readLine());
                p.destroy();   // SIGTERM, as qtest_quit
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits within libqtest's 30 s");
                assertEquals(0, p.exitValue(), Files.readString(dir.resolve("stderr")));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void launcherReportsABadOptionWithStatusOne() throws Exception {
        Path binary = launcher();
        Process p = new ProcessBuilder(binary.toString(), "-nonsense").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        assertEquals("ioemu: -nonsense: invalid option\n", out);
    }
}
