package dev.ioemu.tests.crash;

import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.ImgTool;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, "Crash-consistency simulator": the journal workload ({@link JournalWorkload}) runs on
 * ioemu's IDE controller driven over qtest as a guest driver drives it (PIO and DMA transactions
 * alternate), with {@code x-write-log=LOG} on the drive; {@code ioemu-img crashcheck} then replays
 * the log over the image as it was before and checks every crash state it enumerates with the
 * built-in checker and the journal checker. In every mode that honours flushes no state loses a
 * flushed write or shows a committed transaction incomplete, over ≥ 1000 states; in
 * {@code unsafe}, whose flushes never reach the disk, the tool finds such a state.
 */
class CrashConsistencyQtestTest {
    static final long JOURNAL_START = 2048;
    static final int BLOCKS = 8;
    static final int TRANSACTIONS = 20;
    /** Random subsets per crash point: 20 transactions then give well over 1000 distinct states. */
    static final String SAMPLES = "48";
    static final long IMAGE_BYTES = 4L << 20;

    @TempDir
    Path dir;

    /** What crashcheck printed and returned. */
    record Check(int exit, String out, String err) {
        long figure(String label) {
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": (\\d+)").matcher(out);
            assertTrue(m.find(), label + " in:\n" + out + err);
            return Long.parseLong(m.group(1));
        }
    }

    @ParameterizedTest
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "NONE", "FADVISE", "WRITETHROUGH", "DIRECTSYNC"})
    void noFlushedWriteIsLostInAnyCrashState(CacheMode mode) throws Exception {
        Path base = image();
        long t0 = System.nanoTime();
        Path log = runWorkload(mode, base);
        long t1 = System.nanoTime();
        Check c = crashcheck(log, base);
        System.out.printf("crashcheck %s (workload %.1f s, check %.1f s):%n%s%n", mode, (t1 - t0) / 1e9,
                (System.nanoTime() - t1) / 1e9, c.out());
        assertEquals(0, c.exit(), c.out() + c.err());
        assertTrue(c.figure("states checked") >= 1000, c.out());
        assertEquals(0, c.figure("states failing"), c.out());
        assertTrue(c.out().contains("journal: up to " + TRANSACTIONS + " committed transactions in a state"),
                "the last state holds every transaction, so the journal checker saw them:\n" + c.out());
        assertTrue(c.figure("promised sectors") >= (long) TRANSACTIONS * (BLOCKS + 1), c.out());
        int durableAtOnce = mode.writeback ? 0 : 2 * TRANSACTIONS;
        assertTrue(c.out().contains(2 * TRANSACTIONS + " writes, " + durableAtOnce + " acknowledged durable"),
                "with the write cache off every write is a promise by itself:\n" + c.out());
    }

    @Test
    void unsafeLosesFlushedWritesAndTheToolFindsTheState() throws Exception {
        Path base = image();
        Path log = runWorkload(CacheMode.UNSAFE, base);
        Check c = crashcheck(log, base, "--max-states", "1200");
        System.out.println("crashcheck unsafe:\n" + c.out());
        assertEquals(2, c.exit(), c.out() + c.err());
        assertEquals(1200, c.figure("states checked"), c.out());
        assertTrue(c.figure("states failing") > 0, c.out());
        Matcher first = Pattern.compile("first failing state: (\\d+) .*lacks write id \\d+").matcher(c.out());
        assertTrue(first.find(), c.out());
        assertTrue(c.out().contains("incomplete committed transactions: ") && !c.out().contains(
                "incomplete committed transactions: 0)"), "some state has a commit without its data:\n" + c.out());
        // The reported state, replayed: its image lacks the flushed data the report names.
        Path state = dir.resolve("state.img");
        Check replay = crashcheck(log, base, "--dump-state", first.group(1) + ":" + state);
        assertEquals(2, replay.exit(), replay.out());
        assertTrue(replay.out().contains("state " + first.group(1) + " "), replay.out());
        assertTrue(Files.size(state) == IMAGE_BYTES);
        // Same log, same seed: the same output.
        assertEquals(c.out(), crashcheck(log, base, "--max-states", "1200").out());
    }

    private Path image() throws IOException {
        Path base = dir.resolve("base.img");
        try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
            f.setLength(IMAGE_BYTES);
        }
        return base;
    }

    /** Runs the workload on a copy of {@code base} in {@code mode}; returns the log. */
    private Path runWorkload(CacheMode mode, Path base) throws Exception {
        Path disk = dir.resolve("disk-" + mode.optionName() + ".img");
        Files.copy(base, disk);
        Path log = dir.resolve(mode.optionName() + ".log");
        Path ioemu = repo().resolve("emulator/bin/ioemu");
        try (QtestClient qts = QtestClient.start("ioemu", List.of(ioemu.toString(), "-machine", "pc", "-display",
                "none", "-drive", "file=" + disk + ",format=raw,if=ide,cache=" + mode.optionName() + ",x-write-log="
                        + log, "-qtest", "stdio"), dir.resolve("ioemu-" + mode.optionName() + ".err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            PciConfigAccess pci = new PciConfigAccess(transport);
            AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
            pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                    | PciConfigSpace.COMMAND_MASTER);
            AtaDriver ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
            JournalWorkload w = new JournalWorkload(ata, JOURNAL_START, BLOCKS);
            w.setUp();
            for (int t = 0; t < TRANSACTIONS; t++) {
                w.transaction(t);
            }
        }
        assertTrue(Files.readString(log).contains("\nclose "), "the log was completed when ioemu ended");
        return log;
    }

    static Check crashcheck(Path log, Path image, String... options) {
        return crashcheckWith(log, image, JOURNAL_START + ":" + TRANSACTIONS
                * JournalWorkload.sectorsPerTransaction(BLOCKS), options);
    }

    /** ioemu-img crashcheck in-process, with {@code --samples} {@value #SAMPLES} and {@code --journal journal}. */
    static Check crashcheckWith(Path log, Path image, String journal, String... options) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of("crashcheck", "--samples", SAMPLES, "--journal",
                journal));
        args.addAll(List.of(options));
        args.add(log.toString());
        args.add(image.toString());
        int exit = ImgTool.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Check(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("emulator/bin/ioemu"))) {
            p = p.getParent();
        }
        return p;
    }
}
