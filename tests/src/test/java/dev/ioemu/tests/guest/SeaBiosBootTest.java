package dev.ioemu.tests.guest;

import dev.ioemu.cpu.Cpu;
import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.IdeDrivePlacement;
import dev.ioemu.emulator.cli.VmConfig;
import dev.ioemu.emulator.engine.SoftCpuEngine;
import dev.ioemu.emulator.engine.SoftPc;
import dev.ioemu.emulator.machine.FirmwareImage;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PciIdeWiring;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's SeaBIOS as {@code -bios} on ioemu's software CPU (issue 10, shared/spec/seabios.md),
 * side by side with QEMU 7.2 + the same SeaBIOS on the same command line: its debugcon log shows
 * QEMU's milestones ({@link SeaBiosLogComparison}) up to "Booting from Hard Disk", and it boots
 * the guest workloads of tests/guest through its own ATA driver on ioemu's IDE model: the demo
 * disk (its INT 13h writes are in the image file afterwards), syslinux and GRUB. The dynamic
 * instruction count of its POST is compared with QEMU TCG's (counted by a plugin built here).
 */
class SeaBiosBootTest {
    static final String SEABIOS = "/usr/share/seabios/bios-256k.bin";
    /** shared/spec/cpu.md §2.1: SeaBIOS POST under QEMU TCG (machine pc, -vga std), BIOS code only. */
    static final long REFERENCE_POST_INSTRUCTIONS = 6_142_309;
    /** A boot sector that ends the run at once: xor al,al; out 0xf4,al; hlt (the count is then POST's). */
    private static final byte[] EXIT_AT_ONCE = {0x30, (byte) 0xc0, (byte) 0xe6, (byte) 0xf4, (byte) 0xf4};

    @TempDir
    static Path dir;
    private static Path workloads;
    /** The demo disk's boot per peer, shared by the log comparison and the image check. */
    private static final java.util.Map<Peer, Boot> DEMO = new java.util.EnumMap<>(Peer.class);

    /** Who runs SeaBIOS. */
    enum Peer {
        QEMU, IOEMU;

        List<String> command(Path image, Path run, String tag) {
            Path debugcon = run.resolve(tag + "-" + this + ".e9");
            Path serial = run.resolve(tag + "-" + this + ".serial");
            Path log = run.resolve(tag + "-" + this + ".seabios");
            List<String> c = new ArrayList<>();
            if (this == QEMU) {
                c.addAll(GuestKit.qemu(image, debugcon, log, "-bios", SEABIOS, "-m", "128", "-no-reboot",
                        "-serial", "file:" + serial));
            } else {
                c.addAll(GuestKit.ioemuSoft(image, debugcon, "-bios", SEABIOS, "-m", "128", "-no-reboot",
                        "-serial", "file:" + serial, "-chardev", "file,id=seabios,path=" + log,
                        "-device", "isa-debugcon,iobase=0x402,chardev=seabios"));
            }
            return c;
        }
    }

    /** What one boot left behind. */
    record Boot(GuestKit.Run run, String seabiosLog, String serial, Path image) {
    }

    @BeforeAll
    static void buildWorkloads() throws Exception {
        GuestKit.assumeFiles("Debian package seabios", SEABIOS);
        GuestKit.assumeCommands("nasm", "mcopy", "syslinux", "grub-mkimage");
        GuestKit.assumeFiles("Debian packages syslinux-common and grub-pc-bin",
                "/usr/lib/syslinux/mbr/mbr.bin", "/usr/lib/grub/i386-pc/boot.img");
        workloads = dir.resolve("workloads");
        GuestKit.runScript("build-workloads.sh", workloads);
    }

    private static void assumePeer(Peer peer) throws Exception {
        if (peer == Peer.QEMU) {
            GuestKit.assumeCommands("qemu-system-x86_64");
        } else {
            GuestKit.assumeIoemuSoftEngine(dir);
        }
    }

    /** Boots a fresh copy of workload {@code name} with SeaBIOS on {@code peer}. */
    private static Boot boot(Peer peer, String name, int expectedExit) throws Exception {
        return bootWithout(peer, name, expectedExit, null);
    }

    /** As {@link #boot}, with the option {@code dropped} (e.g. -no-reboot) left out of the command line. */
    private static Boot bootWithout(Peer peer, String name, int expectedExit, String dropped) throws Exception {
        assumePeer(peer);
        Path run = Files.createTempDirectory(dir, name + "-" + peer + "-");
        Path image = run.resolve(name + ".img");
        Files.copy(workloads.resolve(name + ".img"), image);
        List<String> command = new ArrayList<>(peer.command(image, run, name));
        command.remove(dropped);
        GuestKit.Run r = GuestKit.run(command, run, name + "-" + peer, 120);
        String log = read(run.resolve(name + "-" + peer + ".seabios"));
        String serial = read(run.resolve(name + "-" + peer + ".serial"));
        System.out.printf("SeaBIOS on %s, %s: exit %d after %.2f s%n", peer, name, r.exitStatus(), r.seconds());
        assertFalse(r.timedOut(), name + " on " + peer + " did not finish in 120 s; SeaBIOS log:\n" + log);
        assertEquals(expectedExit, r.exitStatus(), name + " on " + peer + " exit status; stderr: " + r.stderr()
                + "\nSeaBIOS log:\n" + log + "\nCOM1:\n" + serial);
        return new Boot(r, log, serial, image);
    }

    private static synchronized Boot demo(Peer peer) throws Exception {
        Boot b = DEMO.get(peer);
        if (b == null) {
            b = boot(peer, "demo", 1);
            DEMO.put(peer, b);
        }
        return b;
    }

    private static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.ISO_8859_1) : "";
    }

    @Test
    void postLogShowsQemusMilestonesInOrderUpToTheBoot() throws Exception {
        Boot qemu = demo(Peer.QEMU);
        Boot ioemu = demo(Peer.IOEMU);
        List<String> expected = SeaBiosLogComparison.prepare(qemu.seabiosLog(), false);
        List<String> actual = SeaBiosLogComparison.prepare(ioemu.seabiosLog(), true);
        assertTrue(expected.contains("Booting from Hard Disk..."), "QEMU's log reaches the boot:\n" + qemu.seabiosLog());
        assertEquals(String.join("\n", SeaBiosLogComparison.ordered(expected)),
                String.join("\n", SeaBiosLogComparison.ordered(actual)),
                "SeaBIOS's log on ioemu, QEMU's allowed differences applied (SeaBiosLogComparison.ALLOWED)");
        assertEquals(SeaBiosLogComparison.threaded(expected), SeaBiosLogComparison.threaded(actual),
                "lines of SeaBIOS's init threads (keyboard, ATA detection, port probes)");
        assertTrue(ioemu.seabiosLog().contains("ATA controller 1 at 1f0/3f4/0 (irq 14 dev 9)"),
                "SeaBIOS's own ATA driver found the PIIX3 IDE function");
    }

    @Test
    void demoDiskWritesThroughSeaBiosAtaDriverLandInTheImage() throws Exception {
        for (Peer peer : Peer.values()) {
            Boot b = demo(peer);
            assertTrue(b.seabiosLog().contains("Booting from Hard Disk..."), peer + " SeaBIOS booted the disk");
            for (String line : new String[] {"demo: AH=03h wrote LBA 16", "demo: AH=43h wrote LBA 17-19",
                    "demo: AH=42h read back equal", "IOEMU-DEMO-DONE"}) {
                assertTrue(b.serial().contains(line), peer + ": COM1 shows '" + line + "'; COM1:\n" + b.serial());
            }
            assertArrayEquals(WorkloadBootTest.demoSector("CHS", 16), GuestKit.readSector(b.image(), 16),
                    peer + ": AH=03h sector in the image");
            for (int lba = 17; lba <= 19; lba++) {
                assertArrayEquals(WorkloadBootTest.demoSector("EDD", lba), GuestKit.readSector(b.image(), lba),
                        peer + ": AH=43h sector " + lba + " in the image");
            }
            assertArrayEquals(new byte[512], GuestKit.readSector(b.image(), 20), peer + ": LBA 20 untouched");
        }
    }

    @Test
    void syslinuxBootsThroughSeaBiosToOurBootSector() throws Exception {
        for (Peer peer : Peer.values()) {
            Boot b = boot(peer, "syslinux", 0x43);   // exit.bs: (21h << 1) | 1
            assertTrue(b.serial().contains("SYSLINUX 6."), peer + ": ldlinux's banner on COM1");
            assertTrue(b.serial().contains("IOEMU-EXIT-BS reached"), peer + ": syslinux.cfg's kernel ran");
        }
    }

    @Test
    void grubReadsItsConfigThroughSeaBios() throws Exception {
        for (Peer peer : Peer.values()) {
            Boot b = boot(peer, "grub-marker", 1);
            assertTrue(b.serial().contains("IOEMU-GRUB-MARKER"), peer + ": grub.cfg's marker on COM1; COM1:\n" + b.serial());
        }
    }

    /**
     * A guest reboot (JMP FFFF:0000 after an INT 13h write): SeaBIOS takes its resume path, finds
     * the pristine image at 4 GiB, asks for a hard reset and runs a clean second POST, which boots
     * the disk again and finds the first boot's write (shared/spec/seabios.md §10).
     */
    @Test
    void aGuestRebootRunsASecondCleanPostThatSeesTheFirstBootsWrite() throws Exception {
        GuestKit.assumeCommands("nasm");
        Path src = dir.resolve("SeaBiosReboot.asm");
        try (InputStream in = SeaBiosBootTest.class.getResourceAsStream("/seabios/SeaBiosReboot.asm")) {
            Files.copy(in, src, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Path bin = dir.resolve("reboot.bin");
        GuestKit.Run nasm = GuestKit.run(List.of("nasm", "-f", "bin", "-o", bin.toString(), src.toString()), dir, "nasm-reboot", 60);
        assertEquals(0, nasm.exitStatus(), nasm.stderr());
        byte[] disk = new byte[1 << 20];
        byte[] mbr = Files.readAllBytes(bin);
        System.arraycopy(mbr, 0, disk, 0, mbr.length);
        Files.write(workloads.resolve("reboot.img"), disk);
        java.util.Map<Peer, Boot> boots = new java.util.EnumMap<>(Peer.class);
        for (Peer peer : Peer.values()) {
            Boot b = bootWithout(peer, "reboot", 0x21, "-no-reboot");
            assertEquals("RB", read(b.image().resolveSibling("reboot-" + peer + ".e9")), peer + ": one reboot, then the exit");
            assertTrue(b.seabiosLog().contains("Attempting a hard reboot"), peer + ": SeaBIOS's reboot path");
            assertEquals(1, GuestKit.readSector(b.image(), 1)[0], peer + ": the first boot's INT 13h write is in the image");
            boots.put(peer, b);
        }
        List<String> expected = SeaBiosLogComparison.withoutRestartsAfterRebootRequest(
                SeaBiosLogComparison.prepare(boots.get(Peer.QEMU).seabiosLog(), false));
        List<String> actual = SeaBiosLogComparison.withoutRestartsAfterRebootRequest(
                SeaBiosLogComparison.prepare(boots.get(Peer.IOEMU).seabiosLog(), true));
        assertEquals(1, java.util.Collections.frequency(actual, "Attempting a hard reboot"),
                "ioemu: one reboot request, then a cold POST at once");
        assertEquals(String.join("\n", SeaBiosLogComparison.ordered(expected)),
                String.join("\n", SeaBiosLogComparison.ordered(actual)), "both POSTs and the reboot path, as on QEMU");
    }

    /**
     * SeaBIOS's POST (reset to the boot sector, which exits at once) counted as QEMU's TCG
     * counts: every REP iteration is one instruction. ioemu's count comes from its CPU (run in
     * this JVM), QEMU's from a plugin compiled here (shared/spec/cpu.md §1).
     */
    @Test
    void postInstructionCountIsWithinFivePercentOfQemuTcgsReference() throws Exception {
        Path run = Files.createDirectories(dir.resolve("post-count"));
        Path image = run.resolve("exit.img");
        byte[] mbr = new byte[1 << 20];
        System.arraycopy(EXIT_AT_ONCE, 0, mbr, 0, EXIT_AT_ONCE.length);
        mbr[510] = 0x55;
        mbr[511] = (byte) 0xaa;
        Files.write(image, mbr);

        long start = System.nanoTime();
        long[] ioemu = countOnIoemu(image, run);
        double seconds = (System.nanoTime() - start) / 1e9;
        long ioemuCount = ioemu[0] + ioemu[1];
        long qemuCount = countOnQemu(image, run);
        System.out.printf("SeaBIOS POST instructions: ioemu %,d (%,d retired + %,d REP iterations, %.2f s in this JVM)"
                        + ", QEMU TCG same command line %s, QEMU TCG reference (cpu.md, -vga std) %,d: %+.1f %%%n",
                ioemuCount, ioemu[0], ioemu[1], seconds, qemuCount < 0 ? "not measured" : String.format("%,d (%+.1f %%)",
                        qemuCount, 100.0 * (ioemuCount - qemuCount) / qemuCount),
                REFERENCE_POST_INSTRUCTIONS, 100.0 * (ioemuCount - REFERENCE_POST_INSTRUCTIONS) / REFERENCE_POST_INSTRUCTIONS);
        assertTrue(Math.abs(ioemuCount - REFERENCE_POST_INSTRUCTIONS) <= REFERENCE_POST_INSTRUCTIONS / 20,
                "ioemu's SeaBIOS POST count " + ioemuCount + " within ±5 % of " + REFERENCE_POST_INSTRUCTIONS);
    }

    /** Retired instructions and extra REP iterations of a SeaBIOS boot of {@code image} on ioemu. */
    private static long[] countOnIoemu(Path image, Path run) throws Exception {
        VmConfig config = CommandLine.parse(new String[] {"-nodefaults", "-display", "none", "-m", "128",
                "-bios", SEABIOS, "-drive", "file=" + image + ",if=ide,format=raw", "-no-reboot",
                "-chardev", "file,id=seabios,path=" + run.resolve("post-ioemu.seabios"),
                "-device", "isa-debugcon,iobase=0x402,chardev=seabios",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
        PcMachine machine = new PcMachine(config.ramSize(), false, FirmwareImage.load(config.platform().bios()));
        try {
            PciIdeWiring ide = IdeDrivePlacement.attach(machine, config);
            SoftPc pc = SoftPc.build(machine, ide, config.platform(), 0, System.err);
            SoftCpuEngine.Exit exit = pc.engine().run();
            pc.closeOutputs();
            assertEquals(new SoftCpuEngine.Exit.Status(1), exit, "the boot sector's exit; SeaBIOS log:\n"
                    + read(run.resolve("post-ioemu.seabios")));
            Cpu cpu = pc.engine().cpu();
            return new long[] {cpu.instructionCount(), cpu.repeatedIterations()};
        } finally {
            machine.shutdown();
        }
    }

    /** QEMU TCG's count for the same boot, or -1 (with the reason printed) when it cannot be measured. */
    private static long countOnQemu(Path image, Path run) throws Exception {
        if (!GuestKit.onPath("qemu-system-x86_64") || !GuestKit.onPath("gcc")) {
            System.out.println("QEMU count skipped: qemu-system-x86_64 or gcc not installed");
            return -1;
        }
        Path source = run.resolve("SeaBiosInsnCount.c");
        try (InputStream in = SeaBiosBootTest.class.getResourceAsStream("/seabios/SeaBiosInsnCount.c")) {
            Files.copy(in, source);
        }
        Path plugin = run.resolve("insn-count.so");
        GuestKit.Run cc = GuestKit.run(List.of("gcc", "-shared", "-fPIC", "-O2", "-o", plugin.toString(), source.toString()),
                run, "gcc", 60);
        if (cc.exitStatus() != 0) {
            System.out.println("QEMU count skipped: the plugin did not compile: " + cc.stderr());
            return -1;
        }
        Path out = run.resolve("qemu-count.txt");
        List<String> cmd = new ArrayList<>(GuestKit.qemu(image, run.resolve("post-qemu.e9"), run.resolve("post-qemu.seabios"),
                "-bios", SEABIOS, "-m", "128", "-no-reboot", "-plugin", plugin + ",out=" + out));
        GuestKit.Run r = GuestKit.run(cmd, run, "post-qemu", 60);
        if (r.exitStatus() != 1 || !Files.exists(out)) {
            System.out.println("QEMU count skipped: QEMU with the plugin exited " + r.exitStatus() + ": " + r.stderr());
            return -1;
        }
        return Long.parseLong(Files.readString(out).trim());
    }
}
