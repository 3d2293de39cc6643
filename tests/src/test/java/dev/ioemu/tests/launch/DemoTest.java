package dev.ioemu.tests.launch;

import dev.ioemu.tools.Demo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main job end to end: the demo drives {@code emulator/bin/ioemu} over qtest and must see the
 * guest-visible results it narrates — checked on the values it prints (IDENTIFY word 85 before and
 * after SET FEATURES 0x82, the status bytes), not on headings — the SIGTERM exit status 0, the data
 * in the image file and a trace log with flushes in it.
 */
class DemoTest {
    private static final Pattern WORD_85 = Pattern.compile("IDENTIFY word 85 = 0x([0-9a-f]{4})");
    /** IDENTIFY word 85 bit 5: volatile write cache enabled (shared/spec/ide.md §4.2). */
    private static final int WRITE_CACHE_ENABLED = 1 << 5;

    @TempDir
    Path dir;

    @Test
    void demoWritesFlushesAndReadsBackThroughTheEmulator() throws Exception {
        Path launcher = LibqtestLaunchTest.launcher();
        var bytes = new ByteArrayOutputStream();
        var errors = new ByteArrayOutputStream();
        int status = Demo.run(new String[] {launcher.toString(), dir.toString(), "fadvise"},
                new PrintStream(bytes, true, StandardCharsets.UTF_8), new PrintStream(errors, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(0, status, errors.toString(StandardCharsets.UTF_8));
        assertTrue(out.contains("IRQ14 raised; status 0x58"), "IDENTIFY raised IRQ 14 with DRQ");
        assertTrue(out.contains("flush acknowledged"), "FLUSH CACHE succeeded");
        assertTrue(out.contains("data read back equals data written"), "READ DMA returned the written data");

        List<Integer> word85 = new ArrayList<>();
        Matcher m = WORD_85.matcher(out);
        while (m.find()) {
            word85.add(Integer.parseInt(m.group(1), 16));
        }
        assertEquals(2, word85.size(), "IDENTIFY word 85 shown before and after SET FEATURES: " + word85);
        assertEquals(WRITE_CACHE_ENABLED, word85.get(0) & WRITE_CACHE_ENABLED, "write cache on at power-on");
        assertEquals(0, word85.get(1) & WRITE_CACHE_ENABLED, "SET FEATURES 0x82 cleared word 85 bit 5");
        assertEquals(word85.get(0) & ~WRITE_CACHE_ENABLED, word85.get(1), "nothing else in word 85 changed");

        assertTrue(out.contains("status 0x41 error 0x04"), "unknown opcode aborted");
        assertTrue(out.contains("exit status 0"), "SIGTERM ends the emulator with status 0");
        assertTrue(out.contains("\"Written by the ioemu demo"), "the image file holds the DMA data");
        String trace = Files.readString(dir.resolve("trace.log"));
        assertTrue(trace.contains(":blk_flush ") && trace.contains(":ide_exec_cmd "), "trace log has flush and command events");
    }
}
