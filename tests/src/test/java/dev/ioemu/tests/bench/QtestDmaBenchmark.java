package dev.ioemu.tests.bench;

import dev.ioemu.emulator.machine.PciIdeWiring;
import dev.ioemu.tests.peer.AtaScript;
import dev.ioemu.tests.peer.IdeDifferentialTest;
import dev.ioemu.tests.peer.QtestPeer;
import dev.ioemu.tests.peer.Script;
import dev.ioemu.tests.peer.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 4's side-by-side benchmark: the same qtest DMA workload — 128 KiB WRITE DMA EXT and READ
 * DMA EXT with the PRD table in guest memory, data moved with b64write/b64read — against QEMU
 * and against ioemu in one run; prints MB/s per peer and the ratio (goal: ioemu ≥ 1.2× QEMU).
 * Run with {@code tests/bench/qtest-dma}; skipped in normal test runs.
 */
class QtestDmaBenchmark {
    private static final int SECTORS = 256;            // 128 KiB per request
    private static final int BYTES = SECTORS * 512;

    @TempDir
    Path dir;

    /** The workload: {@code rounds} × (write 128 KiB, read 128 KiB) at rotating LBAs. */
    static Script workload(int rounds) {
        Script s = new Script("QtestDmaBenchmark " + rounds + " rounds");
        AtaScript ata = new AtaScript(s);
        ata.setUpPci();
        byte[] data = new byte[BYTES];
        new SplittableRandom(1).nextBytes(data);
        String b64 = Base64.getEncoder().encodeToString(data);
        for (int r = 0; r < rounds; r++) {
            long lba = (long) r * SECTORS % (IdeDifferentialTest.IMAGE_SECTORS - SECTORS);
            ata.send("b64write " + AtaScript.hex(AtaScript.BUF) + " " + AtaScript.hex(BYTES) + " " + b64);
            ata.dmaRequest(0x35, true, lba, SECTORS, new long[][] {{AtaScript.BUF, 0, 0}, {AtaScript.BUF + 0x10000, 0, 1}},
                    false, false);
            ata.dmaRequest(0x25, true, lba, SECTORS, new long[][] {{AtaScript.BUF, 0, 0}, {AtaScript.BUF + 0x10000, 0, 1}},
                    true, false);
            ata.b64read(AtaScript.BUF, BYTES);
        }
        return s;
    }

    /** Seconds to run {@code script} on a fresh peer with a disk (launch and set-up excluded). */
    private double time(QtestPeer.Kind kind, Script script, Path image) throws Exception {
        return time(kind, script, IdeDifferentialTest.driveArgs(image), dir);
    }

    private double time(QtestPeer.Kind kind, Script script, List<String> args, Path base) throws Exception {
        Path workDir = base.resolve(kind.name() + "-" + System.nanoTime());
        java.nio.file.Files.createDirectories(workDir);
        try (QtestPeer peer = QtestPeer.launch(kind, args, workDir)) {
            Script setUpOnly = new Script("set-up");
            new AtaScript(setUpOnly).setUpPci();
            long start = System.nanoTime();
            for (int i = 0; i < script.steps().size(); i++) {
                Step step = script.steps().get(i);
                if (i == setUpOnly.size()) {   // the clock starts after the PCI set-up
                    start = System.nanoTime();
                }
                dev.ioemu.tests.peer.DifferentialRun.execute(peer, step);
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /**
     * The transport part alone (no IDE): the same b64write/b64read of 128 KiB through guest
     * memory, so the front end's share of the DMA benchmark can be measured before IDE exists.
     */
    @Test
    void qtestTransportThroughputAgainstQemu() throws Exception {
        assumeTrue(Boolean.getBoolean("ioemu.bench"), "skipped: benchmark (run tests/bench/qtest-dma)");
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        int rounds = Integer.getInteger("ioemu.bench.rounds", 200);
        Script s = new Script("b64 transport");
        AtaScript ata = new AtaScript(s);
        ata.setUpPci();
        byte[] data = new byte[BYTES];
        new SplittableRandom(2).nextBytes(data);
        String b64 = Base64.getEncoder().encodeToString(data);
        for (int r = 0; r < rounds; r++) {
            ata.send("b64write " + AtaScript.hex(AtaScript.BUF) + " " + AtaScript.hex(BYTES) + " " + b64);
            ata.b64read(AtaScript.BUF, BYTES);
        }
        Path image = IdeDifferentialTest.image(dir, 1);
        double mb = 2.0 * rounds * BYTES / 1e6;
        double qemu = time(QtestPeer.Kind.QEMU, s, image);
        double ioemu = time(QtestPeer.Kind.IOEMU, s, List.of(), dir);
        System.out.printf("qtest transport, %d x (128 KiB b64write + 128 KiB b64read), %.1f MB moved%n", rounds, mb);
        System.out.printf("  QEMU  %8.1f MB/s (%.2f s)%n", mb / qemu, qemu);
        System.out.printf("  ioemu %8.1f MB/s (%.2f s)%n", mb / ioemu, ioemu);
        System.out.printf("  ratio ioemu/QEMU: %.2f%n", qemu / ioemu);
    }

    @Test
    void dmaThroughputAgainstQemu() throws Exception {
        assumeTrue(Boolean.getBoolean("ioemu.bench"), "skipped: benchmark (run tests/bench/qtest-dma)");
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        int rounds = Integer.getInteger("ioemu.bench.rounds", 200);
        Script script = workload(rounds);
        Path image = IdeDifferentialTest.image(dir, 1);
        double mb = 2.0 * rounds * BYTES / 1e6;
        double qemu = time(QtestPeer.Kind.QEMU, script, image);
        System.out.printf("qtest DMA workload, %d x (128 KiB WRITE DMA EXT + 128 KiB READ DMA EXT), %.1f MB moved%n",
                rounds, mb);
        System.out.printf("  QEMU  %8.1f MB/s (%.2f s)%n", mb / qemu, qemu);
        if (!PciIdeWiring.AVAILABLE) {
            System.out.println("  ioemu skipped: built without the PIIX IDE controller (PciIdeWiring pending merge)");
            return;
        }
        double ioemu = time(QtestPeer.Kind.IOEMU, script, image);
        System.out.printf("  ioemu %8.1f MB/s (%.2f s)%n", mb / ioemu, ioemu);
        System.out.printf("  ratio ioemu/QEMU: %.2f (goal >= 1.20)%n", qemu / ioemu);
    }
}
