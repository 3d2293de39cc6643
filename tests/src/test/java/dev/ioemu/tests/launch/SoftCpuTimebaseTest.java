package dev.ioemu.tests.launch;

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
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The software CPU's time-stamp counter and the platform timers keep one virtual time: a guest
 * that halts between BIOS timer ticks (PIT channel 0, 18.2 Hz) reads, across 18 ticks, the TSC
 * advance of 18 PIT periods at the CPU's 100 MHz, although it runs only a few hundred
 * instructions — the idle time the engine skips counts on the TSC too. A TSC that counted only
 * instructions would make a guest that calibrated against the PIT wait far too long after a HLT.
 */
class SoftCpuTimebaseTest {
    /** One BIOS tick: 65536 PIT input clocks at 1.193182 MHz. */
    private static final double TICK_SECONDS = 65536 / 1193182.0;
    private static final double TSC_HZ = 100e6;

    @TempDir
    Path dir;

    @BeforeAll
    static void built() throws Exception {
        assumeTrue(SoftCpuRunStateTest.onPath("nasm"), "skipped: nasm not installed (tests/setup.sh installs it)");
        Process p = new ProcessBuilder(SoftCpuRunStateTest.ioemu().toString(), "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assumeTrue(p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0, "skipped: emulator/bin/ioemu -version failed");
    }

    /** Prints the TSC advance across 18 timer ticks (16 hex digits) and exits through isa-debug-exit. */
    private static final String TSC_ACROSS_TICKS = """
            org 0x7c00
            bits 16
                xor ax, ax
                mov ds, ax
                mov ss, ax
                mov sp, 0x7c00
                sti
                mov bx, [0x46c]
            sync:                       ; start right after a tick
                hlt
                cmp bx, [0x46c]
                je sync
                rdtsc
                mov [t0], eax
                mov [t0 + 4], edx
                mov bx, [0x46c]
                add bx, 18
            wait_ticks:
                hlt
                cmp bx, [0x46c]
                jne wait_ticks
                rdtsc
                sub eax, [t0]
                sbb edx, [t0 + 4]
                mov ebx, eax
                mov eax, edx
                call hex32
                mov eax, ebx
                call hex32
                mov al, 10
                out 0xe9, al
                mov al, 0
                out 0xf4, al
                cli
                hlt
            hex32:
                mov cx, 8
            .digit:
                rol eax, 4
                push eax
                and al, 0x0f
                add al, '0'
                cmp al, '9'
                jbe .out
                add al, 'a' - '9' - 1
            .out:
                out 0xe9, al
                pop eax
                loop .digit
                ret
            t0: dd 0, 0
                times 510-($-$$) db 0
                dw 0xaa55
            """;

    @Test
    void tscAdvancesByThePitTimeAGuestSpendsHalted() throws Exception {
        Path src = dir.resolve("tsc.asm");
        Files.writeString(src, TSC_ACROSS_TICKS);
        Path bin = dir.resolve("tsc.bin");
        Process nasm = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), src.toString()).redirectErrorStream(true).start();
        String nasmOut = new String(nasm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(nasm.waitFor(60, TimeUnit.SECONDS) && nasm.exitValue() == 0, "nasm: " + nasmOut);
        byte[] image = new byte[1 << 20];
        byte[] code = Files.readAllBytes(bin);
        System.arraycopy(code, 0, image, 0, code.length);
        Path img = dir.resolve("tsc.img");
        Files.write(img, image);
        Path log = dir.resolve("debugcon.log");
        Process p = new ProcessBuilder(List.of(SoftCpuRunStateTest.ioemu().toString(), "-accel", "soft", "-nodefaults",
                "-display", "none", "-m", "16", "-drive", "file=" + img + ",if=ide,format=raw", "-debugcon", "file:" + log,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"))
                .redirectError(dir.resolve("stderr").toFile()).redirectOutput(dir.resolve("stdout").toFile()).start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the guest did not exit");
            assertEquals(1, p.exitValue(), Files.readString(dir.resolve("stderr")));
        } finally {
            p.destroyForcibly();
        }
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        assertEquals(1, lines.size(), lines.toString());
        long ticks = Long.parseUnsignedLong(lines.get(0), 16);
        double expected = 18 * TICK_SECONDS * TSC_HZ;
        assertTrue(Math.abs(ticks - expected) < expected * 0.001,
                "TSC advanced " + ticks + " across 18 timer ticks (expected about " + (long) expected + ")");
    }
}
