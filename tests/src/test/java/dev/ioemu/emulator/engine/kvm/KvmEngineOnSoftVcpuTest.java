package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.emulator.Main;
import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.VmConfig;
import dev.ioemu.emulator.engine.SoftCpuEngine.Exit;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.cli.IdeDrivePlacement;
import dev.ioemu.emulator.machine.PciIdeWiring;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The KVM engine's whole exit path — BIOS traps through sync regs, port I/O, HLT with interrupts
 * from the Java 8259 via KVM_INTERRUPT and interrupt windows, host-clock timers — running real
 * guests on any host: {@link KvmSoftVcpu} keeps the kvm_run contract with the software CPU where
 * /dev/kvm is absent. The INT 13h probe must print exactly what the software-CPU engine prints,
 * and its writes must be in the image. (What KVM itself does is {@code KvmGuestTest}'s part.)
 */
@Timeout(240)
class KvmEngineOnSoftVcpuTest {
    @TempDir
    static Path dir;
    private static Path root;

    @BeforeAll
    static void build() throws Exception {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("tests/guest/build-probe.sh"))) {
            p = p.getParent();
        }
        assumeTrue(p != null, "skipped: tests/guest/build-probe.sh not found");
        root = p;
        assumeTrue(onPath("nasm"), "skipped: nasm not installed");
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }

    private static void script(String name, Path out) throws Exception {
        Files.createDirectories(out);
        Process p = new ProcessBuilder("bash", root.resolve("tests/guest").resolve(name).toString(), out.toString())
                .redirectErrorStream(true).redirectOutput(out.resolve(name + ".log").toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0, name + ": " + Files.readString(out.resolve(name + ".log")));
    }

    private static List<String> args(Path image, Path debugcon, String... extra) {
        List<String> a = new ArrayList<>(List.of("-machine", "pc", "-nodefaults", "-display", "none",
                "-drive", "file=" + image + ",if=ide,format=raw", "-debugcon", "file:" + debugcon,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        a.addAll(List.of(extra));
        return a;
    }

    /** The machine of {@code ioemu ARGS} with the KVM engine over a {@link KvmSoftVcpu}; returns the exit. */
    private static Exit runKvmEngine(List<String> args, ByteArrayOutputStream err) throws Exception {
        VmConfig config = CommandLine.parse(args.toArray(new String[0]));
        PcMachine machine = new PcMachine(config.ramSize(), false);
        long rtc = config.rtc().baseEpochSeconds(System.currentTimeMillis() / 1000);
        machine.platform().setRtcBase(rtc);
        KvmPc pc = null;
        try {
            PciIdeWiring ide = IdeDrivePlacement.attach(machine, config);
            pc = KvmPc.build(machine, ide, config.platform(), rtc, new PrintStream(err, true, StandardCharsets.UTF_8),
                    KvmSoftVcpu::new);
            return pc.engine().run();
        } finally {
            if (pc != null) {
                pc.close();
            }
            machine.shutdown();
        }
    }

    /** {@code ioemu -accel soft ARGS} in this JVM; returns its exit status. */
    private static int runSoftEngine(List<String> args) {
        List<String> a = new ArrayList<>(List.of("-accel", "soft"));
        a.addAll(args);
        int[] status = {-1};
        Main.run(a.toArray(new String[0]), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                s -> status[0] = s);
        return status[0];
    }

    private static String firstDifference(String expected, String got) {
        List<String> a = expected.lines().toList();
        List<String> b = got.lines().toList();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            String x = i < a.size() ? a.get(i) : "<none>";
            String y = i < b.size() ? b.get(i) : "<none>";
            if (!x.equals(y)) {
                return "line " + (i + 1) + ": software CPU engine: " + x + " | KVM engine: " + y;
            }
        }
        return "equal lines";
    }

    @Test
    void int13ProbeThroughTheKvmEnginePrintsWhatTheSoftwareCpuEnginePrints() throws Exception {
        Path soft = dir.resolve("probe-soft");
        Path kvm = dir.resolve("probe-kvm");
        script("build-probe.sh", soft);
        script("build-probe.sh", kvm);
        assertEquals(1, runSoftEngine(args(soft.resolve("probe-64m.img"), soft.resolve("out.debugcon"))));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Exit exit = runKvmEngine(args(kvm.resolve("probe-64m.img"), kvm.resolve("out.debugcon")), err);
        assertEquals(new Exit.Status(1), exit, "isa-debug-exit status; stderr: " + err);
        String expected = Files.readString(soft.resolve("out.debugcon"), StandardCharsets.ISO_8859_1);
        String got = Files.readString(kvm.resolve("out.debugcon"), StandardCharsets.ISO_8859_1);
        assertTrue(expected.lines().count() > 20, expected);
        assertEquals(expected, got, firstDifference(expected, got));
        assertEquals(-1L, Files.mismatch(soft.resolve("probe-64m.img"), kvm.resolve("probe-64m.img")),
                "the probe's INT 13h writes made the same image");
    }

    private static Path workloads;

    /** tests/guest/build-workloads.sh's images, built once for this class. */
    private static synchronized Path workloads() throws Exception {
        if (workloads == null) {
            Path run = dir.resolve("workloads");
            script("build-workloads.sh", run);
            workloads = run;
        }
        return workloads;
    }

    private static void assumeWorkloadTools() {
        for (String c : List.of("mcopy", "syslinux", "grub-mkimage")) {
            assumeTrue(onPath(c), "skipped: " + c + " not installed");
        }
        assumeTrue(Files.exists(Path.of("/usr/lib/syslinux/mbr/mbr.bin")) && Files.exists(Path.of("/usr/lib/grub/i386-pc/boot.img")),
                "skipped: Debian packages syslinux-common and grub-pc-bin not installed");
    }

    @Test
    void syslinuxBootsThroughTheKvmEngineFromMbrAndFat16VbrToItsKernel() throws Exception {
        assumeWorkloadTools();
        Path run = workloads();
        Path serial = run.resolve("syslinux.serial");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Exit exit = runKvmEngine(args(run.resolve("syslinux.img"), run.resolve("syslinux.debugcon"), "-serial", "file:" + serial), err);
        String console = Files.readString(serial, StandardCharsets.ISO_8859_1);
        assertEquals(new Exit.Status(0x43), exit, "exit.bs's status; stderr: " + err + " COM1: " + console);
        assertTrue(console.contains("SYSLINUX 6."), "ldlinux's banner on COM1: " + console);
        assertTrue(console.contains("IOEMU-EXIT-BS reached"), console);
    }

    @Test
    void demoDiskWritesThroughTheKvmEngineLandInTheImage() throws Exception {
        assumeWorkloadTools();
        Path run = workloads();
        Path serial = run.resolve("demo.serial");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Exit exit = runKvmEngine(args(run.resolve("demo.img"), run.resolve("demo.debugcon"), "-serial", "file:" + serial), err);
        String console = Files.readString(serial, StandardCharsets.ISO_8859_1);
        assertEquals(new Exit.Status(1), exit, "stderr: " + err + " COM1: " + console);
        for (String line : List.of("demo: AH=03h wrote LBA 16", "demo: AH=43h wrote LBA 17-19", "demo: AH=42h read back equal",
                "IOEMU-DEMO-DONE")) {
            assertTrue(console.contains(line), line + " on COM1: " + console);
        }
        byte[] image = Files.readAllBytes(run.resolve("demo.img"));
        String lba16 = new String(image, 16 * 512, 512, StandardCharsets.ISO_8859_1);
        assertTrue(lba16.startsWith("IOEMU-DEMO CHS"), "LBA 16 in the image file: " + lba16.substring(0, 40));
        for (int lba = 17; lba <= 19; lba++) {
            String s = new String(image, lba * 512, 512, StandardCharsets.ISO_8859_1);
            assertTrue(s.startsWith("IOEMU-DEMO EDD"), "LBA " + lba + " in the image file: " + s.substring(0, 40));
        }
    }

    /** Assembles a boot sector (org 7C00h, signature added) into an image of 1 MiB. */
    private static Path bootSector(String name, String body) throws Exception {
        Path asm = dir.resolve(name + ".asm");
        Files.writeString(asm, "bits 16\norg 0x7c00\n" + body + "\ntimes 510-($-$$) db 0\ndw 0xaa55\n");
        Path img = dir.resolve(name + ".img");
        Process p = new ProcessBuilder("nasm", "-f", "bin", "-o", img.toString(), asm.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, new String(p.getInputStream().readAllBytes()));
        try (var ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), (1 << 20) - 1);
        }
        return img;
    }

    @Test
    void tripleFaultUnderNoRebootEndsTheRunWithStatusZeroAndOneLine() throws Exception {
        // An IDT of limit 0: INT 3 cannot be delivered, nor the #GP, nor the #DF.
        Path img = bootSector("triple", "cli\nlidt [idt]\nint3\njmp $\nidt: dw 0\ndd 0\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Exit exit = runKvmEngine(args(img, dir.resolve("triple.debugcon"), "-no-reboot"), err);
        assertEquals(new Exit.Status(0), exit, err.toString());
        assertTrue(err.toString().matches("ioemu: triple fault at 0000:00007c0[0-9a-f]: exiting \\(-no-reboot\\)\n"), err.toString());
    }

    @Test
    void stringOutOf64KiBReachesThePortBusAndTheGuestGoesOn() throws Exception {
        Path img = bootSector("repouts", """
                xor ax, ax
                mov ds, ax
                xor si, si
                mov cx, 0x8000
                mov dx, 0xe9
                rep outsw
                mov al, 7
                out 0xf4, al
                jmp $
                """);
        Path debugcon = dir.resolve("repouts.debugcon");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Exit exit = runKvmEngine(args(img, debugcon), err);
        assertEquals(new Exit.Status(15), exit, err.toString());
        assertEquals(0x10000, Files.size(debugcon), "all 32768 words (both bytes of each) reached the 0xE9 console");
    }
}
