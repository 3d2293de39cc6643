package dev.ioemu.tests.peer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The QMP monitor against QEMU 7.2's, line by line: the same requests on {@code -qmp stdio} to a
 * machine started with {@code -S} and no drives; replies and events must be equal once
 * timestamps and the version/package of the greeting are masked.
 */
class QmpDifferentialTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    private static final String[] REQUESTS = {
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"qmp_capabilities\"}",
            "{\"execute\": \"qmp_capabilities\"}",
            "{\"execute\": \"query-status\", \"id\": \"a1\"}",
            "{\"execute\": \"stop\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"cont\"}",
            "{\"execute\": \"cont\"}",
            "{\"execute\": \"query-status\", \"id\": 7}",
            "{\"execute\": \"stop\"}",
            "{\"execute\": \"query-status\"}",
            "{\"execute\": \"system_reset\"}",
            "{\"execute\": \"foo\"}",
            "foo",
            "[1]",
            "{\"x\": 1}",
            "{\"execute\": 1}",
            "{\"execute\": \"stop\", \"arguments\": 3}",
            "{\"execute\": \"stop\", \"arguments\": {\"a\": 1}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"bogus\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"\"}}",
            "{\"execute\": \"human-monitor-command\"}",
            "{\"execute\": \"query-block\"}",
            "{\"execute\": \"query-blockstats\"}",
            "{\"execute\": \"quit\"}",
    };

    private List<String> transcript(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectError(dir.resolve("stderr-" + command.size()).toFile()).start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream in = p.getOutputStream();
            for (String req : REQUESTS) {
                in.write((req + "\n").getBytes(StandardCharsets.UTF_8));
            }
            in.flush();
            String line;
            while ((line = r.readLine()) != null) {
                out.add(line.replaceAll("\"timestamp\": \\{\"seconds\": \\d+, \"microseconds\": \\d+\\}", "\"timestamp\": T")
                        .replaceAll("\"version\": \\{.*\\}, \"capabilities\"", "\"version\": V, \"capabilities\""));
            }
        }
        p.waitFor(30, TimeUnit.SECONDS);
        out.add("exit " + p.exitValue());
        return out;
    }

    @Test
    void sameRepliesAndEventsAsQemu() throws Exception {
        List<String> qemu = transcript(List.of(QtestPeer.QEMU_BINARY, "-machine", "pc", "-accel", "tcg", "-S",
                "-nodefaults", "-display", "none", "-qmp", "stdio"));
        List<String> ioemu = transcript(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main", "-machine", "pc", "-accel",
                "qtest", "-S", "-nodefaults", "-display", "none", "-qmp", "stdio"));
        assertEquals(String.join("\n", qemu), String.join("\n", ioemu));
    }
}
