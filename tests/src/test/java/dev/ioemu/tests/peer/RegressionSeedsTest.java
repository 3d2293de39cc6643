package dev.ioemu.tests.peer;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Seeds of the random differential suite that once found a divergence, each kept as a named test,
 * and the two QEMU 7.2 crashes the IDE generator found (and now avoids), which ioemu must survive.
 * A seed test replays its seed's script on the current generator up to 300 requests past the
 * request that exposed the bug, against QEMU and ioemu; if the generator has changed so that the
 * seed no longer reaches that request, the test is skipped with that reason (the named case in
 * {@link IdeScenarios} still covers the behaviour).
 */
class RegressionSeedsTest {
    private static final int MARGIN = 300;

    @TempDir
    Path dir;

    /** The first step of {@code seed}'s default-length script that satisfies {@code trigger}, or -1. */
    private static int firstStep(long seed, IdeSequenceGenerator.Topology topology, Predicate<Step> trigger) {
        List<Step> steps = IdeSequenceGenerator.generate(seed, IdeDifferentialTest.OPERATIONS, topology).steps();
        for (int i = 0; i < steps.size(); i++) {
            if (trigger.test(steps.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private Comparison replayThrough(long seed, String what, Predicate<Step> trigger) throws Exception {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        IdeSequenceGenerator.Topology topology = IdeSequenceGenerator.Topology.SINGLE_DISK;
        int at = firstStep(seed, topology, trigger);
        if (at < 0) {
            abort("skipped: seed " + seed + " no longer reaches " + what + " (the generator changed); IdeScenarios"
                    + " covers the case");
        }
        Script s = IdeSequenceGenerator.generate(seed, at + MARGIN, topology);
        assertTrue(trigger.test(s.steps().get(at)), "the shorter script is a prefix of the default one");
        Comparison c = DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.IOEMU, s,
                IdeDifferentialTest.image(dir, seed), IdeDifferentialTest::driveArgs, dir);
        assertTrue(c.divergences().isEmpty(), s.origin() + " (" + what + " at step " + at + ")\n" + c.report(10));
        return c;
    }

    /** READ NATIVE MAX (0xF8/0x27) written while the Device register selects CHS mode. */
    private static Predicate<Step> readNativeMaxInChsMode() {
        int[] device = {0xa0};
        return step -> {
            String[] w = step.request().split(" ");
            if (w.length == 3 && w[0].equals("outb") && w[1].equals("0x1f6")) {
                device[0] = Integer.decode(w[2]);
            }
            return w.length == 3 && w[0].equals("outb") && w[1].equals("0x1f7")
                    && (w[2].equals("0xf8") || w[2].equals("0x27")) && (device[0] & Ata.DEVICE_LBA) == 0;
        };
    }

    @Test
    void seed5296787620651ReadNativeMaxInChsModeUsesTheCurrentGeometry() throws Exception {
        replayThrough(5296787620651L, "READ NATIVE MAX in CHS mode", readNativeMaxInChsMode());
    }

    @Test
    void seed8025553525014Piix4PmFunctionDiffersOnlyInAllOnesBytes() throws Exception {
        Comparison c = replayThrough(8025553525014L, "a read of PCI 00:01.3",
                step -> step.tag().equals("pci:piix4-pm"));
        assertTrue(c.allowed().getOrDefault("piix4-pm", 0) >= 1, "the PIIX4 PM read was compared: " + c.allowed());
    }

    /** The seed of the recorded 100,000-request full-topology run (README), at the suite's default length. */
    @Test
    void seed4966414523287FullTopology() throws Exception {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
        long seed = 4966414523287L;
        Script s = IdeSequenceGenerator.generate(seed, IdeDifferentialTest.OPERATIONS / 2,
                IdeSequenceGenerator.Topology.FULL);
        IdeDifferentialTest.fullTemplates(dir, seed);
        Comparison c = DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.IOEMU, s,
                IdeDifferentialTest.image(dir, seed), IdeDifferentialTest::fullArgs, dir);
        assertTrue(c.divergences().isEmpty(), s.origin() + "\n" + c.report(10));
    }

    private QtestClient ioemu() throws Exception {
        Path image = IdeDifferentialTest.image(dir, 1);
        QtestClient qts = QtestPeer.client(QtestPeer.Kind.IOEMU, IdeDifferentialTest.driveArgs(image), dir);
        qts.irqInterceptIn("ioapic");
        return qts;
    }

    /**
     * INITIALIZE DEVICE PARAMETERS with Sector Count 0, then a CHS-mode READ SECTORS: QEMU 7.2 dies
     * of SIGFPE (exit status 136) dividing by 0 sectors per track. ioemu must answer and exit 0.
     */
    @Test
    void ioemuSurvivesChsReadAfterZeroSectorsPerTrack() throws Exception {
        try (QtestClient qts = ioemu()) {
            AtaDriver ata = new AtaDriver(new QtestTransport(qts), AtaDriver.Channel.PRIMARY,
                    PciConfigAccess.IO_WINDOW_BASE);
            ata.writeRegister(Ata.REG_NSECTOR, 0);
            ata.writeRegister(Ata.REG_DEVICE, Ata.DEVICE_ALWAYS_ON);
            ata.nonDataCommand(Ata.CMD_INITIALIZE_DEVICE_PARAMETERS);
            ata.writeRegister(Ata.REG_NSECTOR, 1);
            ata.writeRegister(Ata.REG_LBA_LOW, 1);   // sector 1, cylinder 0, head 0
            ata.writeRegister(Ata.REG_LBA_MID, 0);
            ata.writeRegister(Ata.REG_LBA_HIGH, 0);
            ata.writeRegister(Ata.REG_DEVICE, Ata.DEVICE_ALWAYS_ON);
            ata.command(Ata.CMD_READ_SECTORS);
            int st = ata.awaitNotBusy();
            assertEquals(0, st & Ata.STATUS_BSY, "the command completed or aborted");
            qts.close();
            assertEquals(0, qts.exitStatus(), "ioemu exits 0 on SIGTERM: " + qts.stderrText());
        }
    }

    /**
     * READ DMA started and stopped at once with PCI bus mastering off: QEMU 7.2 aborts
     * ({@code ide_cancel_dma_sync} assertion, exit status 134). ioemu must answer and exit 0.
     */
    @Test
    void ioemuSurvivesDmaStoppedAtOnceWithoutBusMastering() throws Exception {
        try (QtestClient qts = ioemu()) {
            QtestTransport transport = new QtestTransport(qts);
            PciConfigAccess pci = new PciConfigAccess(transport);
            AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
            pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY);
            AtaDriver ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
            long table = 0x100000;
            ata.writePrdTable(table, List.of(new PrdDescriptor(0x110000, 512, true)));
            DmaCompletion c = ata.dma(DmaRequest.of(Ata.CMD_READ_DMA, 0, 1, table).stoppedAtOnce(true));
            assertEquals(0, c.ataStatus() & Ata.STATUS_BSY, "the command is over: " + c);
            qts.close();
            assertEquals(0, qts.exitStatus(), "ioemu exits 0 on SIGTERM: " + qts.stderrText());
        }
    }
}
