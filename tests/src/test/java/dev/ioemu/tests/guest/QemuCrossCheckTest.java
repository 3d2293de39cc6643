package dev.ioemu.tests.guest;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ioemu's software CPU instruction-exact against QEMU 7.2 TCG on real workloads (issue 10's
 * cross-check), sized for CI: the first 30,000 guest instructions of GRUB after 0000:7C00
 * side by side ({@link QemuCrossCheck#trace}), and the demo disk's guest instruction count
 * ({@link QemuCrossCheck#count}). tools/bench/cpu-trace-compare.sh runs the full versions (1 M
 * instructions of GRUB, GRUB's count to its grub.cfg marker).
 */
class QemuCrossCheckTest {
    @TempDir
    static Path dir;
    private static Path workloads;

    @BeforeAll
    static void buildWorkloads() throws Exception {
        GuestKit.assumeCommands("qemu-system-x86_64", "nasm", "mcopy", "grub-mkimage", "mkfifo");
        GuestKit.assumeFiles("Debian packages seabios and grub-pc-bin", "/usr/share/seabios/bios-256k.bin",
                "/usr/lib/grub/i386-pc/boot.img");
        GuestKit.assumeIoemuSoftEngine(dir);
        workloads = dir.resolve("workloads");
        GuestKit.runScript("build-workloads.sh", workloads);
    }

    private static Path launcher() {
        return GuestKit.root().resolve("emulator/bin/ioemu");
    }

    @Test
    void grubsFirst30000GuestInstructionsAreTraceIdenticalToQemus() throws Exception {
        Path run = dir.resolve("trace");
        java.nio.file.Files.createDirectories(run);
        QemuCrossCheck.TraceResult r = QemuCrossCheck.trace(workloads.resolve("grub-marker.img"), launcher(), 30_000, run);
        System.out.println(r.summary());
        assertNull(r.controlFlowDivergence(), r.summary());
        assertEquals(30_000, r.compared(), r.summary());
        assertNull(r.firstDivergence(), r.summary());
        assertEquals(0, r.disassemblyDifferences(), r.summary());
        assertTrue(r.resyncs() > 1, "GRUB calls the BIOS in its first instructions: " + r.summary());
    }

    @Test
    void demoDiskRunsAsManyGuestInstructionsAsUnderQemu() throws Exception {
        Path run = dir.resolve("count");
        java.nio.file.Files.createDirectories(run);
        QemuCrossCheck.CountResult r = QemuCrossCheck.count(workloads.resolve("demo.img"), launcher(), run);
        System.out.println(r.summary());
        assertTrue(r.qemuFolded() > 1000, r.summary());
        assertTrue(Math.abs(r.ratio() - 1) <= 0.05, "within 5 %: " + r.summary());
    }
}
