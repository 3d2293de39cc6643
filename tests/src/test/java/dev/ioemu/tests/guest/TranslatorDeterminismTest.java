package dev.ioemu.tests.guest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The software CPU's compiled traces change nothing a guest can see (issue 10): a boot sector
 * (tests/guest/translate-determinism.asm) runs hot loops — GRUB's byte memmove, arithmetic — and
 * prints a checksum and RDTSC, which counts retired instructions (virtual time). Booted by
 * {@code ioemu -accel soft} with traces on (twice: same disk, same output) and off, every run
 * must print the same line.
 */
class TranslatorDeterminismTest {
    @TempDir
    static Path dir;
    private static Path image;

    @BeforeAll
    static void assemble() throws Exception {
        GuestKit.assumeCommands("nasm");
        GuestKit.assumeIoemuSoftEngine(dir);
        image = GuestKit.bootSectorDisk(dir, "translate-determinism");
    }

    /** One boot with {@code -Dioemu.cpu.translate=on|off}; the guest's debug-console line. */
    private static String boot(String translate, String tag) throws Exception {
        Path console = dir.resolve(tag + ".debugcon");
        ProcessBuilder pb = new ProcessBuilder(GuestKit.ioemuSoft(image, console))
                .directory(dir.toFile())
                .redirectOutput(dir.resolve(tag + ".stdout").toFile())
                .redirectError(dir.resolve(tag + ".stderr").toFile());
        pb.environment().put("IOEMU_JAVA_OPTS", "-Dioemu.cpu.translate=" + translate);
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), tag + ": did not exit within 120 s");
        // isa-debug-exit with 0: status (0 << 1) | 1.
        assertEquals(1, p.exitValue(), tag + ": " + Files.readString(dir.resolve(tag + ".stderr")));
        return Files.readString(console, StandardCharsets.ISO_8859_1).strip();
    }

    @Test
    void tracesOnAndOffGiveTheSameOutputAndVirtualTime() throws Exception {
        String on = boot("on", "on");
        String again = boot("on", "on-again");
        String off = boot("off", "off");
        System.out.println("translate on: " + on + " | on again: " + again + " | off: " + off);
        assertTrue(on.matches("[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}"), "checksum, TSC high, TSC low: " + on);
        long tsc = Long.parseLong(on.substring(9).replace(" ", ""), 16);
        // 40 passes of a 61,440-iteration copy (4 instructions) and a 100,000-iteration loop (5).
        assertTrue(tsc > 40L * (61_440 * 4 + 100_000 * 5), "the loops ran: TSC " + tsc);
        assertEquals(off, on, "traces on vs off");
        assertEquals(on, again, "the same disk twice");
    }
}
