package dev.ioemu.tests.trace;

import dev.ioemu.tests.peer.QtestPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code -trace}, {@code -D} and the run-time trace commands (QMP {@code trace-event-get-state} /
 * {@code trace-event-set-state}, HMP {@code trace-event} / {@code info trace-events}) as a user
 * meets them, judged against QEMU 7.2 where both have the event.
 */
class TraceCommandLineTest {
    @TempDir
    Path dir;

    /** Requests whose replies must be QEMU's byte for byte (events both catalogues have). */
    private static final String[] QMP_REQUESTS = {
            "{\"execute\": \"qmp_capabilities\"}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"ide_exec_cmd\"}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"ide_exec_cmd\", \"enable\": true}}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"ide_exec_cmd\"}}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"nosuch\"}}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"nosuch*\"}}",
            "{\"execute\": \"trace-event-get-state\"}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": 5}}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"ide_exec_cmd\", \"x\": 1}}",
            "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"ide_exec_cmd\", \"vcpu\": 3}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"nosuch\", \"enable\": true}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"nosuch*\", \"enable\": true}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"ide_dma_cb\"}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"ide_dma_cb\", \"enable\": \"yes\"}}",
            "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"ide_dma_cb\", \"enable\": true, "
                    + "\"ignore-unavailable\": true}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info trace-events ide_dma_cb\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"trace-event ide_dma_cb off\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info trace-events ide_dma_cb\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info trace-events nosuch\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info trace-events nosuch*\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"trace-event nosuch on\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"trace-event ide_dma_cb maybe\"}}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"trace-event\"}}",
            "{\"execute\": \"quit\"}",
    };

    private static List<String> ioemu(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main", "-machine", "pc", "-accel",
                "qtest"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static List<String> qemu(String... args) {
        List<String> cmd = new ArrayList<>(List.of(QtestPeer.QEMU_BINARY, "-machine", "pc", "-accel", "tcg"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Runs {@code command} with {@code input} on stdin; returns stdout lines, then "stderr: …" lines, then the exit status. */
    private List<String> run(List<String> command, String... input) throws Exception {
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(err.toFile()).start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream in = p.getOutputStream();
            for (String line : input) {
                in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
            in.close();
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.contains("\"event\"") && !line.startsWith("{\"QMP\"")) {
                    out.add(line);
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ended: " + command);
        for (String e : Files.readAllLines(err)) {
            out.add("stderr: " + e.replace("qemu-system-x86_64:", "PROG:").replace("ioemu:", "PROG:"));
        }
        out.add("exit " + p.exitValue());
        return out;
    }

    @Test
    void qmpAndHmpTraceCommandsAnswerAsQemu() throws Exception {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        List<String> q = run(qemu("-S", "-nodefaults", "-display", "none", "-qmp", "stdio"), QMP_REQUESTS);
        List<String> i = run(ioemu("-S", "-nodefaults", "-display", "none", "-qmp", "stdio"), QMP_REQUESTS);
        assertEquals(String.join("\n", q), String.join("\n", i));
    }

    @Test
    void badTraceOptionsAreRefusedOrWarnedAsQemuDoes() throws Exception {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        Path events = dir.resolve("events");
        Files.writeString(events, "# ide\nide_exec_cmd\n\nnosuch_event\n-ide_reset\nnosuch_*\n");
        String[][] cases = {
                {"-trace", "nosuch_event"},
                {"-trace", "nosuch_*"},
                {"-trace", "enable=ide_exec_cmd"},
                {"-trace", "events=" + events},
                {"-trace", "-ide_exec_cmd"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("-S", "-nodefaults", "-display", "none", "-qmp", "stdio"));
            args.addAll(List.of(c));
            String[] quit = {"{\"execute\": \"qmp_capabilities\"}", "{\"execute\": \"quit\"}"};
            assertEquals(run(qemu(args.toArray(String[]::new)), quit), run(ioemu(args.toArray(String[]::new)), quit),
                    String.join(" ", c));
        }
        // Refusals: both exit 1; ioemu names the option and uses QEMU's words.
        String[][] refused = {
                {"-trace foo=bar", "-trace foo=bar: Invalid parameter 'foo'"},
                {"-D " + dir.resolve("no/such/log"), "Error opening logfile " + dir.resolve("no/such/log")
                        + ": No such file or directory"},
                {"-trace ide_exec_cmd,file=" + dir.resolve("no/such/t"), "Error opening logfile "
                        + dir.resolve("no/such/t") + ": No such file or directory"},
                {"-trace events=" + dir.resolve("missing"), dir.resolve("missing") + ": No such file or directory"},
        };
        for (String[] r : refused) {
            List<String> args = new ArrayList<>(List.of("-S", "-nodefaults", "-display", "none", "-qmp", "stdio"));
            args.addAll(List.of(r[0].split(" ")));
            List<String> q = run(qemu(args.toArray(String[]::new)));
            List<String> i = run(ioemu(args.toArray(String[]::new)));
            assertEquals("exit 1", q.get(q.size() - 1), r[0]);
            assertEquals(List.of("stderr: PROG: " + i.get(0).substring("stderr: PROG: ".length()), "exit 1"), i, r[0]);
            assertTrue(i.get(0).contains(r[1]), i.toString());
            assertTrue(i.get(0).startsWith("stderr: PROG: " + r[0].split("[ ,]")[0]), i.toString());
        }
    }

    @Test
    void eventsSwitchedAtRunTimeReachTheLogFileOnlyWhileOn() throws Exception {
        Path img = dir.resolve("d.img");
        Files.write(img, new byte[1 << 20]);
        Path log = dir.resolve("trace.log");
        Files.writeString(log, "left over from an earlier run\n");
        String read = "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                + "\"qemu-io ide0-hd0 \\\"read %d 512\\\"\"}}";
        List<String> out = run(ioemu("-S", "-nodefaults", "-display", "none", "-qmp", "stdio", "-D", log.toString(),
                        "-drive", "file=" + img + ",if=ide,format=raw"),
                "{\"execute\": \"qmp_capabilities\"}",
                String.format(read, 0),
                "{\"execute\": \"trace-event-set-state\", \"arguments\": {\"name\": \"blk_r*\", \"enable\": true}}",
                String.format(read, 4096),
                "{\"execute\": \"trace-event-get-state\", \"arguments\": {\"name\": \"blk_read\"}}",
                "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"trace-event blk_read off\"}}",
                String.format(read, 8192),
                "{\"execute\": \"quit\"}");
        assertTrue(out.contains("{\"return\": [{\"name\": \"blk_read\", \"vcpu\": false, \"state\": \"enabled\"}]}"),
                out.toString());
        List<String> lines = Files.readAllLines(log);
        List<String> reads = lines.stream().filter(l -> l.contains(":blk_read ")).toList();
        assertEquals(1, reads.size(), lines.toString());
        assertTrue(reads.get(0).matches("\\d+@\\d+\\.\\d{6}:blk_read image \\S+d\\.img mode \\S+ offset 4096 bytes 512 ret 512 lat_ns \\d+"),
                reads.get(0));
        assertTrue(lines.stream().noneMatch(l -> l.contains("left over")), "-D truncates, as QEMU's log file");
    }
}
