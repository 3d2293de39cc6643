package dev.ioemu.tests.crash;

import dev.ioemu.devices.block.CacheMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 14, "Crash-consistency simulator", on GRUB 2's {@code save_env}: the GRUB disk of
 * {@code tests/guest/build-workloads.sh} ({@code grub-saveenv.img}) boots on the software CPU with
 * {@code x-write-log}; GRUB writes its 1 KiB environment block through INT 13h, made durable by
 * the firmware's own flush ({@code firmware-writes=sync}). {@code ioemu-img crashcheck} checks
 * every crash state with the built-in checker and, through {@code --check}, with grub-editenv
 * reading the block out of the state's FAT file system: in {@code writeback} nothing flushed is
 * lost and every state's environment block is valid; in {@code unsafe} the tool finds the state
 * that lost GRUB's write.
 */
class CrashConsistencyGrubTest {
    /** The FAT partition of the workload disks starts at LBA 2048. */
    static final String GRUBENV_CHECK = "mtype -i {}@@1048576 ::/boot/grub/grubenv > {}.env"
            + " && grub-editenv {}.env list; status=$?; rm -f {}.env; exit $status";

    @TempDir
    Path dir;

    @Test
    void grubSaveEnvSurvivesEveryCrashStateExceptInUnsafe() throws Exception {
        for (String tool : new String[] {"nasm", "mcopy", "mtype", "syslinux", "grub-mkimage", "grub-editenv"}) {
            assumeTrue(CrashConsistencyGuestTest.onPath(tool), "skipped: " + tool
                    + " not installed (tests/setup.sh installs it)");
        }
        assumeTrue(Files.exists(Path.of("/usr/lib/grub/i386-pc/boot.img"))
                && Files.exists(Path.of("/usr/lib/syslinux/mbr/mbr.bin")),
                "skipped: Debian packages grub-pc-bin and syslinux-common missing (tests/setup.sh installs them)");
        Path workloads = dir.resolve("wl");
        Process build = new ProcessBuilder("bash", CrashConsistencyQtestTest.repo()
                .resolve("tests/guest/build-workloads.sh").toString(), workloads.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("build.log").toFile()).start();
        assertTrue(build.waitFor(300, TimeUnit.SECONDS) && build.exitValue() == 0,
                "build-workloads.sh: " + Files.readString(dir.resolve("build.log")));
        Path base = workloads.resolve("grub-saveenv.img");

        CrashConsistencyQtestTest.Check wb = check(boot(CacheMode.WRITEBACK, base), base);
        System.out.println("crashcheck GRUB save_env writeback:\n" + wb.out());
        assertEquals(0, wb.exit(), wb.out() + wb.err());
        assertTrue(wb.figure("promised sectors") >= 2, "save_env's 1 KiB block was flushed:\n" + wb.out());
        assertTrue(wb.out().contains("check command failed: 0"), wb.out());

        CrashConsistencyQtestTest.Check unsafe = check(boot(CacheMode.UNSAFE, base), base);
        System.out.println("crashcheck GRUB save_env unsafe:\n" + unsafe.out());
        assertEquals(2, unsafe.exit(), unsafe.out() + unsafe.err());
        assertTrue(unsafe.out().contains("lacks write id"), unsafe.out());
    }

    private Path boot(CacheMode mode, Path base) throws Exception {
        Path disk = dir.resolve(mode.optionName() + ".img");
        Files.copy(base, disk);
        Path log = dir.resolve(mode.optionName() + ".log");
        Path serial = dir.resolve(mode.optionName() + ".serial");
        Path err = dir.resolve(mode.optionName() + ".err");
        Process p = new ProcessBuilder(CrashConsistencyQtestTest.repo().resolve("emulator/bin/ioemu").toString(),
                "-machine", "pc", "-accel", "soft", "-nodefaults", "-display", "none",
                "-drive", "file=" + disk + ",if=ide,format=raw,cache=" + mode.optionName() + ",x-write-log=" + log,
                "-serial", "file:" + serial, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
                .redirectOutput(dir.resolve(mode.optionName() + ".out").toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            throw new AssertionError("GRUB did not end within 120 s");
        }
        String console = Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
        assertEquals(1, p.exitValue(), "grub.cfg's outb 0xf4 0; COM1: " + console + "; stderr: "
                + Files.readString(err));
        assertTrue(console.contains("IOEMU-GRUB-SAVED"), console);
        return log;
    }

    private static CrashConsistencyQtestTest.Check check(Path log, Path base) throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int exit = dev.ioemu.tools.ImgTool.run(new String[] {"crashcheck", "--check", GRUBENV_CHECK, log.toString(),
                base.toString()}, new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
                new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        return new CrashConsistencyQtestTest.Check(exit, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }
}
