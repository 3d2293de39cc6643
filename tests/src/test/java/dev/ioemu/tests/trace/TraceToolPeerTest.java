package dev.ioemu.tests.trace;

import dev.ioemu.tests.peer.QtestPeer;
import dev.ioemu.tools.trace.TraceTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ioemu-trace on real logs: QEMU 7.2's own {@code -trace 'ide_*'} output and ioemu's, of the same
 * qtest script (a PIO write, FLUSH CACHE, a PIO read); and the HTML plot opened in headless
 * Chromium.
 */
class TraceToolPeerTest {
    @TempDir
    Path dir;

    /** WRITE SECTORS at LBA 16 by PIO, FLUSH CACHE, READ SECTORS back: what a guest driver does. */
    private static String script() {
        List<String> s = new ArrayList<>(List.of("outb 0x1f6 0xe0", "outb 0x1f2 0x01", "outb 0x1f3 0x10",
                "outb 0x1f4 0x00", "outb 0x1f5 0x00", "outb 0x1f7 0x30", "inb 0x1f7"));
        for (int i = 0; i < 256; i++) {
            s.add(String.format("outw 0x1f0 0x%04x", i * 257));
        }
        s.addAll(List.of("inb 0x1f7", "outb 0x1f6 0xe0", "outb 0x1f7 0xe7", "inb 0x1f7", "outb 0x1f6 0xe0",
                "outb 0x1f2 0x01", "outb 0x1f3 0x10", "outb 0x1f7 0x20", "inb 0x1f7"));
        for (int i = 0; i < 256; i++) {
            s.add("inw 0x1f0");
        }
        s.add("inb 0x1f7");
        return String.join("\n", s) + "\n";
    }

    private Path traceOf(List<String> command, String name) throws Exception {
        Path log = dir.resolve(name);
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of("-qtest", "stdio", "-display", "none", "-nodefaults", "-drive",
                "file=" + dir.resolve("d.img") + ",if=ide,format=raw", "-trace", "ide_*", "-D", log.toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile()).start();
        String script = script();
        OutputStream in = p.getOutputStream();
        in.write(script.getBytes(StandardCharsets.US_ASCII));
        in.flush();
        // One reply per command; then end the machine as a user would (QEMU ends at EOF, ioemu on SIGTERM).
        long commands = script.lines().count();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path out = dir.resolve(name + ".out");
        while (Files.readAllLines(out).stream().filter(l -> l.startsWith("OK") || l.startsWith("FAIL")).count() < commands
                && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(50);
        }
        in.close();
        if (!p.waitFor(2, TimeUnit.SECONDS)) {
            p.destroy();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), name + " ended");
        return log;
    }

    private static String tool(int expectedStatus, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = TraceTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectedStatus, status, text + err.toString(StandardCharsets.UTF_8));
        return text;
    }

    private Path ioemuTrace() throws Exception {
        Files.write(dir.resolve("d.img"), new byte[4 << 20]);
        return traceOf(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.ioemu.emulator.Main", "-machine", "pc", "-accel", "qtest"),
                "ioemu.log");
    }

    @Test
    void qemusOwnTraceReadsCleanlyAndAgreesWithIoemusOnTheSameScript() throws Exception {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        Path ioemu = ioemuTrace();
        Path qemu = traceOf(List.of(QtestPeer.QEMU_BINARY, "-machine", "pc", "-accel", "tcg", "-S"), "qemu.log");
        String q = tool(0, "summary", qemu.toString());
        Matcher m = Pattern.compile("trace: (\\d+) lines, (\\d+) events\n").matcher(q);
        assertTrue(m.find(), q);
        assertEquals(m.group(1), m.group(2), "every line of QEMU's log reads as an event");
        assertTrue(q.matches("(?s).*IDE PIO +ide +LBA 16 +flushed by guest FLUSH CACHE\n.*"), q);
        assertTrue(q.contains("E7h FLUSH_CACHE                      1"), q);
        String i = tool(0, "summary", ioemu.toString());
        assertTrue(i.matches("(?s).*IDE PIO +ide0\\.0 +LBA 16 +flushed by guest FLUSH CACHE after [0-9.]+ ms\n.*"), i);
        // Status polling depends on QEMU's asynchronous completions; everything else must agree.
        String d = tool(0, "diff", "--ignore", "ide_ioport_read", "--ignore", "ide_data_*", qemu.toString(), ioemu.toString());
        assertTrue(d.contains("comparing 3 event types both traces have: ide_exec_cmd ide_ioport_write ide_sector_write"), d);
        Matcher agree = Pattern.compile("no divergence: (\\d+) events agree").matcher(d);
        assertTrue(agree.find(), d);
        assertTrue(Integer.parseInt(agree.group(1)) >= 13, d);
    }

    @Test
    void plotRendersInHeadlessChromiumWithoutScriptErrors() throws Exception {
        Path chromium = Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        assumeTrue(chromium != null, "skipped: chromium not installed (tests/setup.sh installs Debian's chromium)");
        Path log = ioemuTrace();
        Path html = dir.resolve("plot.html");
        tool(0, "plot", "-o", html.toString(), log.toString());
        Path profile = Files.createDirectory(dir.resolve("chromium-profile"));
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + profile, "--dump-dom", html.toUri().toString())
                .redirectError(dir.resolve("chromium.err").toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium ended");
        assertFalse(dom.contains("data-error=\""), dom);
        Matcher m = Pattern.compile("<html data-rendered=\"(\\d+)\"").matcher(dom);
        assertTrue(m.find(), "the page's script ran to its end: " + dom.substring(0, Math.min(400, dom.length())));
        assertTrue(Integer.parseInt(m.group(1)) >= 1, dom);
        assertTrue(dom.contains("IDE PIO ide0.0: "), dom);
    }
}
