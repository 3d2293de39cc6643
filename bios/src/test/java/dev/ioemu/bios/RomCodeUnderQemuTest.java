package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ROM's INT 08h guest code executed by a real CPU model before our own software CPU exists:
 * {@code timer-probe.asm} loads the bytes {@link BiosRom} generates into RAM under QEMU 7.2 +
 * SeaBIOS, points IVT 08h at them and lets three timer ticks run (int13.md §8.6: the tick count,
 * the midnight wrap at 1800B0h with the rollover byte, a real INT 1Ch, EOI).
 */
class RomCodeUnderQemuTest {
    @TempDir
    Path dir;

    @Test
    void int08TicksWrapsAtMidnightAndRunsInt1ch() throws Exception {
        assumeTrue(SeaBiosComparisonTest.onPath("qemu-system-x86_64"),
                "skipped: qemu-system-x86_64 not installed (tests/setup.sh)");
        assumeTrue(SeaBiosComparisonTest.onPath("nasm"), "skipped: nasm not installed (tests/setup.sh)");
        Path asm = dir.resolve("timer-probe.asm");
        try (InputStream in = getClass().getResourceAsStream("timer-probe.asm")) {
            Files.write(asm, in.readAllBytes());
        }
        Path bin = dir.resolve("timer-probe.bin");
        Process nasm = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), asm.toString())
                .redirectErrorStream(true).start();
        assertTrue(nasm.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, nasm.exitValue(), new String(nasm.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

        Path image = GuestKit.sparseImage(dir, "timer.img", 1 << 20);
        GuestKit.writeSectors(image, 0, Files.readAllBytes(bin));
        byte[] timer = BiosRom.bytesOf(BiosRom.Entry.INT08_TIMER, LocalDate.of(2026, 1, 1));
        GuestKit.writeSectors(image, 1, timer);

        Path out = dir.resolve("timer.e9");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-nodefaults",
                "-display", "none", "-drive", "file=" + image + ",format=raw,if=ide",
                "-debugcon", "file:" + out, "-device", "isa-debug-exit,iobase=0xf4", "-no-reboot")
                .redirectErrorStream(true).start();
        if (!qemu.waitFor(120, TimeUnit.SECONDS)) {
            qemu.destroyForcibly();
            throw new AssertionError("QEMU did not finish the timer probe");
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.US_ASCII);
        // 1800AFh + 3 ticks: 1800B0h wraps to 0 (rollover 01), then 1, 2; INT 1Ch ran three times.
        assertEquals(List.of("00000002 01 0003"), lines);
    }
}
