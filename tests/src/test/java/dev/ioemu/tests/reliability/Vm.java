package dev.ioemu.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
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

/**
 * An ioemu process for the reliability tests, started from this test's class path (always the
 * code under test), with its stderr in a file, and a QMP client for its {@code -qmp} socket.
 */
final class Vm implements AutoCloseable {
    final Process process;
    final Path stderr;

    private Vm(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
    }

    /** The command line of ioemu with {@code args}. */
    static List<String> ioemu(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main"));
        cmd.addAll(args);
        return cmd;
    }

    static Vm start(Path dir, String name, List<String> command) throws IOException {
        Path err = dir.resolve(name + ".stderr");
        Process p = new ProcessBuilder(command).redirectError(err.toFile())
                .redirectOutput(dir.resolve(name + ".stdout").toFile()).start();
        return new Vm(p, err);
    }

    String stderrText() {
        try {
            return Files.exists(stderr) ? Files.readString(stderr) : "";
        } catch (IOException e) {
            return "(stderr unreadable: " + e.getMessage() + ")";
        }
    }

    /** Waits for {@code socket} to exist and accept a connection (it exists from bind(), before listen()). */
    Qmp qmp(Path socket, long timeoutSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("ioemu exited with " + process.exitValue() + ": " + stderrText());
            }
            if (Files.exists(socket)) {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.connect(UnixDomainSocketAddress.of(socket));
                    return new Qmp(ch);
                } catch (IOException e) {
                    ch.close();
                }
            }
            assertTrue(System.nanoTime() < deadline, "QMP socket " + socket + " never answered: " + stderrText());
            Thread.sleep(50);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** A QMP session: greeting and capabilities negotiated; events are kept apart from replies. */
    static final class Qmp implements AutoCloseable {
        final SocketChannel channel;
        final BufferedReader in;
        final OutputStream out;
        final List<String> events = new ArrayList<>();

        Qmp(SocketChannel channel) throws IOException {
            this.channel = channel;
            this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            this.out = Channels.newOutputStream(channel);
            String greeting = in.readLine();
            assertTrue(greeting != null && greeting.contains("\"QMP\""), "greeting: " + greeting);
            String caps = execute("{\"execute\": \"qmp_capabilities\"}");
            assertTrue(caps.equals("{\"return\": {}}"), caps);
        }

        /** Sends one command line; returns its reply, collecting events that arrive first. */
        String execute(String json) throws IOException {
            out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return reply();
        }

        String reply() throws IOException {
            while (true) {
                String line = in.readLine();
                if (line == null) {
                    throw new IOException("QMP connection closed");
                }
                if (line.startsWith("{\"timestamp\"") || line.contains("\"event\"") && !line.contains("\"return\"")) {
                    events.add(line);
                    continue;
                }
                return line;
            }
        }

        /** Waits for an event whose line contains {@code name}. */
        String awaitEvent(String name) throws IOException {
            for (String e : events) {
                if (e.contains("\"" + name + "\"")) {
                    events.remove(e);
                    return e;
                }
            }
            while (true) {
                String line = in.readLine();
                if (line == null) {
                    throw new IOException("QMP connection closed while waiting for " + name);
                }
                if (line.contains("\"" + name + "\"")) {
                    return line;
                }
                events.add(line);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
