package dev.ioemu.tests.guest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code -icount shift=N} sets the software CPU's virtual time per instruction to 2^N ns, as
 * QEMU's icount does (default without it: 10 ns). A guest (tests/guest/icount-pit.asm) polls
 * port 61h while PIT channel 2 counts 10 ms and prints how often it polled: that count scales
 * with instructions per virtual millisecond, so it must be 10/2^N times the default's.
 */
class IcountTest {
    @TempDir
    static Path dir;
    private static Path image;

    @BeforeAll
    static void assemble() throws Exception {
        GuestKit.assumeCommands("nasm");
        GuestKit.assumeIoemuSoftEngine(dir);
        image = GuestKit.bootSectorDisk(dir, "icount-pit");
    }

    /** The guest's poll count, booted with {@code extra} options. */
    private static long polls(String tag, String... extra) throws Exception {
        Path console = dir.resolve(tag + ".debugcon");
        Process p = new ProcessBuilder(GuestKit.ioemuSoft(image, console, extra)).directory(dir.toFile())
                .redirectOutput(dir.resolve(tag + ".stdout").toFile())
                .redirectError(dir.resolve(tag + ".stderr").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), tag + ": did not exit within 120 s");
        assertEquals(1, p.exitValue(), tag + ": " + Files.readString(dir.resolve(tag + ".stderr")));
        String line = Files.readString(console, StandardCharsets.ISO_8859_1).strip();
        assertTrue(line.matches("[0-9a-f]{8}"), tag + ": " + line);
        return Long.parseLong(line, 16);
    }

    @Test
    void shiftSetsTheVirtualTimePerInstruction() throws Exception {
        long tenNs = polls("default");
        long oneNs = polls("shift0", "-icount", "0");
        long thirtyTwoNs = polls("shift5", "-icount", "shift=5,sleep=off");
        System.out.println("polls in 10 ms of virtual time: 10 ns/instr " + tenNs + ", 1 ns " + oneNs + ", 32 ns " + thirtyTwoNs);
        // Each poll is four instructions and an I/O read; 1 % covers the loop's entry and the
        // PIT's tick granularity.
        assertClose(10.0, (double) oneNs / tenNs, "1 ns vs 10 ns");
        assertClose(3.2, (double) tenNs / thirtyTwoNs, "10 ns vs 32 ns");
        assertEquals(tenNs, polls("default-again"), "the same disk, the same count");
    }

    @Test
    void unsupportedSettingsAreOneLineErrors() throws Exception {
        for (String[] c : new String[][] {
                {"shift=auto", "-icount shift=auto: not supported"},
                {"shift=11", "-icount shift=11: expected a number from 0 to 10"},
                {"align=on", "'align' is not supported"}}) {
            List<String> cmd = new ArrayList<>(GuestKit.ioemuSoft(image, dir.resolve("err.debugcon"), "-icount", c[0]));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, p.exitValue(), out);
            assertTrue(out.startsWith("ioemu: ") && out.contains(c[1]) && out.strip().lines().count() == 1, out);
        }
    }

    private static void assertClose(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= expected * 0.01, what + ": ratio " + actual + ", expected " + expected);
    }
}
