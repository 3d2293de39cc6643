package dev.ioemu.emulator.machine;

import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.IdeDrivePlacement;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;
import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.ide.ErrorPolicy;
import dev.ioemu.devices.ide.IdeDriveKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drive placement and PCI wiring of the pc machine.
 */
class PciIdeWiringTest {
    @TempDir
    Path dir;

    private String image(String name) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        return p.toString();
    }

    private PcMachine machine(String commandLine) throws Exception {
        VmConfig config = CommandLine.parse(commandLine.split(" "));
        PcMachine m = new PcMachine(config.ramSize(), config.startPaused());
        IdeDrivePlacement.attach(m, config);
        return m;
    }

    private static List<String> devices(PcMachine m) {
        return m.blocks().stream().map(BlockInfo::device).toList();
    }

    @Test
    void pciFunctionsAnswerOnTheConfigPorts() throws Exception {
        PcMachine m = machine("-machine pc");
        m.ioBus().write(0xcf8, 4, 0x80000900);
        assertEquals(0x70108086, m.ioBus().read(0xcfc, 4), "PIIX3 IDE at 00:01.1");
        m.ioBus().write(0xcf8, 4, 0x80000000);
        assertEquals(0x12378086, m.ioBus().read(0xcfc, 4), "i440FX at 00:00.0");
        m.ioBus().write(0xcf8, 4, 0x80000800);
        assertEquals(0x70008086, m.ioBus().read(0xcfc, 4), "PIIX3 ISA bridge at 00:01.0");
        m.ioBus().write(0xcf8, 4, 0x80001000);
        assertEquals(0xffffffff, m.ioBus().read(0xcfc, 4), "no function at 00:02.0");
        m.shutdown();
    }

    @Test
    void legacyDrivesTakeQemuPositionsAndNames() throws Exception {
        PcMachine m = machine("-hda " + image("a") + " -drive file=" + image("b") + ",if=ide -cdrom " + image("c"));
        assertEquals(List.of("ide0-hd0", "ide0-hd1", "ide1-cd0"), devices(m));
        BlockInfo cd = m.blocks().get(2);
        assertTrue(cd.readOnly(), "a CD-ROM image opens read-only");
        assertTrue(cd.removable());
        m.shutdown();
    }

    @Test
    void splitDriveAndDeviceUseTheDriveId() throws Exception {
        PcMachine m = machine("-drive if=none,id=disk0,file=" + image("a") + " -device ide-hd,drive=disk0,bus=ide.1,unit=1");
        assertEquals(List.of("disk0"), devices(m));
        assertEquals(1 << 20, m.blocks().get(0).virtualSize());
        m.shutdown();
    }

    @Test
    void emptyCdromHasNoBlockInfo() throws Exception {
        PcMachine m = machine("-device ide-cd,bus=ide.0");
        assertEquals(List.of(), devices(m));
        m.shutdown();
    }

    @Test
    void aFifthDriveHasNoPlace() throws Exception {
        String line = "-drive file=" + image("a") + ",if=ide -drive file=" + image("b") + ",if=ide -drive file="
                + image("c") + ",if=ide -drive file=" + image("d") + ",if=ide -drive file=" + image("e") + ",if=ide";
        UsageException e = assertThrows(UsageException.class, () -> machine(line));
        assertTrue(e.getMessage().endsWith("no free IDE unit (expected: at most 4 drives, 2 per bus)"), e.getMessage());
    }

    @Test
    void missingImageIsAUsageErrorNamingTheDrive() {
        UsageException e = assertThrows(UsageException.class,
                () -> machine("-drive file=" + dir.resolve("missing.img") + ",if=ide"));
        assertTrue(e.getMessage().startsWith("-drive file=" + dir.resolve("missing.img") + ",if=ide: "), e.getMessage());
    }

    /** Issue 11: firmware-writes is a -drive option per IDE position, sync unless said otherwise. */
    @Test
    void firmwareWritesIsPerDriveAndCheckedAtStart() throws Exception {
        VmConfig config = CommandLine.parse(("-drive file=" + image("c") + ",if=ide,index=0 -drive file=" + image("d")
                + ",if=ide,index=2,firmware-writes=cache").split(" "));
        PcMachine m2 = new PcMachine(config.ramSize(), false);
        PciIdeWiring w2 = IdeDrivePlacement.attach(m2, config);
        assertEquals(dev.ioemu.bios.Int13Disk.FirmwareWrites.SYNC, w2.firmwareWrites(0));
        assertEquals(dev.ioemu.bios.Int13Disk.FirmwareWrites.CACHE, w2.firmwareWrites(2));
        m2.shutdown();
        UsageException e = assertThrows(UsageException.class,
                () -> machine("-drive file=" + image("e") + ",if=ide,firmware-writes=later"));
        assertTrue(e.getMessage().endsWith("firmware-writes=later (expected: sync or cache)"), e.getMessage());
    }

    /** The machine takes its own config values: an image that cannot be opened is named by its source. */
    @Test
    void anUnopenableImageIsRefusedNamingItsSource() throws Exception {
        PcMachine m = new PcMachine(16L << 20, false);
        IdeDriveSetup missing = new IdeDriveSetup(0, IdeDriveKind.DISK, Map.of("file", dir.resolve("absent").toString()),
                null, null, null, ErrorPolicy.REPORT, ErrorPolicy.ENOSPC, Int13Disk.FirmwareWrites.SYNC, "ide0-hd0",
                "-hda absent");
        MachineSetupException e = assertThrows(MachineSetupException.class, () -> PciIdeWiring.attach(m, List.of(missing)));
        assertTrue(e.getMessage().startsWith("-hda absent: "), e.getMessage());
        m.shutdown();
    }

    /** Machine wiring reads its own config values, never the command line's types. */
    @Test
    void machineSourcesNeverImportTheCommandLine() throws Exception {
        Path sources = Path.of("src/main/java/dev/ioemu/emulator/machine");
        Assumptions.assumeTrue(Files.isDirectory(sources), "skipped: machine sources not found from " + Path.of("").toAbsolutePath());
        try (Stream<Path> files = Files.list(sources)) {
            List<String> offenders = files.filter(f -> {
                try {
                    return Files.readString(f).contains("dev.ioemu.emulator.cli");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).map(f -> f.getFileName().toString()).sorted().toList();
            assertEquals(List.of(), offenders);
        }
    }
}
