package dev.ioemu.tests.crash;

import dev.ioemu.devices.block.CacheMode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 14, "Crash-consistency simulator", with a real guest: {@code tests/guest/journal.asm}
 * boots on ioemu's software CPU and commits 28 journal transactions — a quarter through the BIOS
 * (INT 13h AH=43h; the firmware's own flush after each call, {@code firmware-writes=sync}), a
 * quarter through the IDE controller by PIO, half by bus-master DMA, each followed by FLUSH
 * CACHE — with {@code x-write-log} on
 * the drive. {@code ioemu-img crashcheck} then finds no crash state that loses a flushed write or
 * shows a committed transaction incomplete in the five modes that honour flushes (≥ 1000 states
 * each), and finds such states in {@code unsafe}.
 */
class CrashConsistencyGuestTest {
    static final int TRANSACTIONS = 28;
    static final long JOURNAL_START = 2048;
    static final int JOURNAL_SECTORS = TRANSACTIONS * 9;

    @TempDir
    static Path shared;
    static Path bootSector;

    @TempDir
    Path dir;

    @BeforeAll
    static void assemble() throws Exception {
        assumeTrue(onPath("nasm"), "skipped: nasm not installed (tests/setup.sh installs it)");
        bootSector = shared.resolve("journal.bin");
        Process p = new ProcessBuilder("nasm", "-f", "bin", "-o", bootSector.toString(),
                CrashConsistencyQtestTest.repo().resolve("tests/guest/journal.asm").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "nasm: " + out);
        assertEquals(1024, Files.size(bootSector), "the boot sector and its second sector");
    }

    @ParameterizedTest
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "NONE", "FADVISE", "WRITETHROUGH", "DIRECTSYNC"})
    void aBootedGuestsCommittedTransactionsSurviveEveryCrashState(CacheMode mode) throws Exception {
        Path base = image();
        Path log = boot(mode, base);
        CrashConsistencyQtestTest.Check c = crashcheck(log, base);
        System.out.println("crashcheck guest " + mode + ":\n" + c.out());
        assertEquals(0, c.exit(), c.out() + c.err());
        assertTrue(c.figure("states checked") >= 1000, c.out());
        assertEquals(0, c.figure("states failing"), c.out());
        assertTrue(c.out().contains("journal: up to " + TRANSACTIONS + " committed transactions in a state"), c.out());
    }

    @Test
    void unsafeLosesTheGuestsFlushedWritesAndTheToolFindsTheState() throws Exception {
        Path base = image();
        Path log = boot(CacheMode.UNSAFE, base);
        CrashConsistencyQtestTest.Check c = crashcheck(log, base, "--max-states", "1200");
        System.out.println("crashcheck guest unsafe:\n" + c.out());
        assertEquals(2, c.exit(), c.out() + c.err());
        assertTrue(c.figure("states failing") > 0, c.out());
        assertTrue(c.out().contains("lacks write id"), c.out());
    }

    private Path image() throws IOException {
        Path base = dir.resolve("base.img");
        try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
            f.setLength(4L << 20);
            f.write(Files.readAllBytes(bootSector));
        }
        return base;
    }

    /** Boots a copy of {@code base} on the software CPU in {@code mode}; returns the write log. */
    private Path boot(CacheMode mode, Path base) throws Exception {
        Path disk = dir.resolve("disk.img");
        Files.copy(base, disk);
        Path log = dir.resolve(mode.optionName() + ".log");
        Path console = dir.resolve("console.txt");
        Path err = dir.resolve("ioemu.err");
        Process p = new ProcessBuilder(CrashConsistencyQtestTest.repo().resolve("emulator/bin/ioemu").toString(),
                "-machine", "pc", "-accel", "soft", "-nodefaults", "-display", "none",
                "-drive", "file=" + disk + ",if=ide,format=raw,cache=" + mode.optionName() + ",x-write-log=" + log,
                "-debugcon", "file:" + console, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
                .redirectOutput(dir.resolve("ioemu.out").toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            throw new AssertionError("the journal guest did not end within 120 s; console: "
                    + (Files.exists(console) ? Files.readString(console) : ""));
        }
        String said = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
        // isa-debug-exit: status (10h << 1) | 1 when every transaction committed.
        assertEquals(0x21, p.exitValue(), "console: " + said + "; stderr: " + Files.readString(err));
        assertEquals("JOURNAL " + TRANSACTIONS, said.trim());
        return log;
    }

    private static CrashConsistencyQtestTest.Check crashcheck(Path log, Path image, String... options) {
        return CrashConsistencyQtestTest.crashcheckWith(log, image, JOURNAL_START + ":" + JOURNAL_SECTORS, options);
    }

    static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }
}
