package dev.ioemu.tools;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code ioemu-x86-vectors}: one line per form, {@code passed N of M} last, exit status by result. */
class X86VectorsTest {
    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = X86Vectors.run(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static Path shared(String file) {
        Path p = Path.of(System.getProperty("ioemu.root", ".")).resolve("../shared/testdata/x86").resolve(file).normalize();
        assumeTrue(Files.isRegularFile(p), "skipped: no test vectors at " + p);
        return p;
    }

    @Test
    void runsFormsOfBothSetsAndEndsWithTheTotal() {
        Run r = run("--cpu", "80286", shared("80286-real/00.json.gz").toString(), shared("80286-real/F7.7.json.gz").toString());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[0].startsWith("00 "), r.out());
        assertTrue(lines[0].contains("passed 200 of 200"), r.out());
        assertTrue(lines[lines.length - 1].matches("passed \\d+ of \\d+"), r.out());
        assertEquals(0, r.status(), r.out());
    }

    @Test
    void aWrongExpectationIsReportedAndExitsOne(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        // MOV AL,0x12 (B0 12) claimed to leave AL=0x34: the runner must say so.
        String json = "[{\"idx\":0,\"name\":\"mov al,12h\",\"bytes\":[176,18],"
                + "\"initial\":{\"regs\":{\"ax\":0,\"bx\":0,\"cx\":0,\"dx\":0,\"cs\":0,\"ss\":0,\"ds\":0,\"es\":0,"
                + "\"sp\":256,\"bp\":0,\"si\":0,\"di\":0,\"ip\":4096,\"flags\":61442},"
                + "\"ram\":[[4096,176],[4097,18]],\"queue\":[]},"
                + "\"final\":{\"regs\":{\"ax\":52,\"ip\":4098},\"ram\":[[4096,176],[4097,18]],\"queue\":[]}}]";
        Path f = dir.resolve("B0.json.gz");
        try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(f))) {
            gz.write(json.getBytes(StandardCharsets.UTF_8));
        }
        Run r = run("--cpu", "8086", f.toString());
        assertTrue(r.out().contains("ax=0012 (expected 0034)"), r.out());
        assertTrue(r.out().strip().endsWith("passed 0 of 1"), r.out());
        assertEquals(1, r.status());
    }

    @Test
    void badArgumentsExitTwoWithAMessage(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        assertEquals(2, run().status());
        Run cpu = run("--cpu", "z80", "x");
        assertEquals(2, cpu.status());
        assertTrue(cpu.err().contains("expected: 8086, 80286 or 386"), cpu.err());
        assertEquals(2, run(dir.resolve("missing.json.gz").toString()).status());
        Path junk = dir.resolve("junk.json.gz");
        Files.writeString(junk, "not gzip");
        Run bad = run(junk.toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("not a SingleStepTests file"), bad.err());
    }
}
