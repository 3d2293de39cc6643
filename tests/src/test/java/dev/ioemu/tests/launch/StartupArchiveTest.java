package dev.ioemu.tests.launch;

import dev.ioemu.emulator.qtest.StartupTraining;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's class-data sharing archive (emulator/bin/launch.sh, README "Start-up"), through
 * {@code emulator/bin/ioemu} with a fresh per-user cache ({@code XDG_CACHE_HOME}): the first qtest
 * start and the first software-CPU boot each train and keep a checked archive for their kind of
 * start, with the JVM options they proved; the next start of each kind maps the emulator's
 * classes from it (and {@code -Xshare:on}, which fails the JVM when an archive cannot be mapped,
 * starts); an archive that is damaged is ignored without a word.
 */
class StartupArchiveTest {
    @TempDir
    Path dir;

    private Path cache() {
        return dir.resolve("cache");
    }

    /** The JVM command line of a launched process (the launcher execs java, so the pid stays), once java runs. */
    private static List<String> jvmCommandLine(Process p) throws Exception {
        Path cmdline = Path.of("/proc", Long.toString(p.pid()), "cmdline");
        for (int i = 0; i < 600; i++) {
            List<String> args = List.of(Files.readString(cmdline, StandardCharsets.ISO_8859_1).split("\0"));
            if (args.contains("dev.ioemu.emulator.Main")) {
                return args;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the launcher did not start the JVM within 60 s");
    }

    /** Starts ioemu on a raw disk with qtest on stdio, checks the first reply, then SIGTERM; returns stderr. */
    private String start(String javaOpts) throws Exception {
        return start(javaOpts, p -> { });
    }

    private interface ProcessCheck {
        void check(Process p) throws Exception;
    }

    /** As {@link #start(String)}, running {@code whileUp} after the first reply. */
    private String start(String javaOpts, ProcessCheck whileUp) throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        ProcessBuilder pb = new ProcessBuilder(LibqtestLaunchTest.launcher().toString(), "-machine", "pc",
                "-nodefaults", "-display", "none", "-qtest", "stdio", "-qtest-log", "none", "-accel", "qtest",
                "-drive", "file=" + image + ",if=ide,format=raw").redirectError(dir.resolve("stderr").toFile());
        pb.environment().put("XDG_CACHE_HOME", cache().toString());
        pb.environment().remove("IOEMU_CDS");
        pb.environment().put("IOEMU_JAVA_OPTS", javaOpts);
        Process p = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream in = p.getOutputStream();
            in.write("outb 0x80 0\n".getBytes(StandardCharsets.ISO_8859_1));
            in.flush();
            assertEquals("OK", out.readLine(), "first reply");
            whileUp.check(p);
            p.destroy();   // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String err = Files.readString(dir.resolve("stderr"));
            assertEquals(0, p.exitValue(), err);
            return err;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Boots the training boot sector on the software CPU through the launcher; returns the class-load log's lines. */
    private List<String> bootSoftCpu() throws Exception {
        Path image = dir.resolve("boot.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.write(StartupTraining.trainingBootSector());
        }
        Path log = dir.resolve("soft-classes.txt");
        ProcessBuilder pb = new ProcessBuilder(LibqtestLaunchTest.launcher().toString(), "-machine", "pc",
                "-nodefaults", "-display", "none", "-no-reboot", "-accel", "soft",
                "-drive", "file=" + image + ",if=ide,format=raw", "-serial", "file:" + dir.resolve("serial.txt"),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(dir.resolve("soft-stdout").toFile()).redirectError(dir.resolve("soft-stderr").toFile());
        pb.environment().put("XDG_CACHE_HOME", cache().toString());
        pb.environment().remove("IOEMU_CDS");
        pb.environment().put("IOEMU_JAVA_OPTS", "-Xshare:on -Xlog:class+load=info:file=" + log + ":none");
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the boot sector ends the VM");
            assertEquals(1, p.exitValue(), "isa-debug-exit status; stderr: " + Files.readString(dir.resolve("soft-stderr")));
            return Files.readAllLines(log);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The lines of a class-load log for classes that did not come from a class-data sharing archive. */
    private static List<String> notFromAnArchive(List<String> lines) {
        return lines.stream().filter(l -> !l.contains("source: shared objects file")).toList();
    }

    /** The emulator's cache directory (one per build and Java version). */
    private Path buildCache() throws IOException {
        try (Stream<Path> dirs = Files.list(cache().resolve("ioemu/jvm"))) {
            List<Path> found = dirs.filter(d -> d.getFileName().toString().startsWith("emulator-")).toList();
            assertEquals(1, found.size(), found.toString());
            return found.get(0);
        }
    }

    @Test
    void firstStartTrainsTheArchiveAndTheNextMapsTheEmulatorFromIt() throws Exception {
        assertEquals("ioemu: terminating on signal 15\n", start(""));
        Path jsa = buildCache().resolve("ioemu-emulator-qtest.jsa");
        assertTrue(Files.size(jsa) > 1 << 20, "archive kept: " + jsa);
        assertFalse(Files.exists(buildCache().resolve("ioemu-emulator-vm.jsa")), "a qtest start trains only its own kind");
        List<String> options = Files.readAllLines(buildCache().resolve("jvm-options-qtest"));
        assertEquals(List.of("wanted: -XX:-UsePerfData", "-XX:-UsePerfData"), options);

        Path log = dir.resolve("classes.txt");
        // -Xshare:on: the JVM refuses to start if it cannot map the archive the launcher names.
        start("-Xshare:on -Xlog:class+load=info:file=" + log + ":none");
        List<String> lines = Files.readAllLines(log);
        // The training went through the QMP socket and IDE paths; a stdio start finds its classes too.
        for (String cls : List.of("dev.ioemu.emulator.Main", "dev.ioemu.emulator.qtest.QtestServer",
                "dev.ioemu.devices.ide.PiixIde", "dev.ioemu.devices.chardev.ChardevBackend$Stdio")) {
            assertTrue(lines.contains(cls + " source: shared objects file (top)"),
                    cls + " not mapped from the archive: " + lines.stream().filter(l -> l.startsWith(cls + " ")).toList());
        }
        // What is left is made at run time (method-handle forms, annotation proxies): 7 today.
        List<String> outside = notFromAnArchive(lines);
        assertTrue(outside.size() <= 20, outside.size() + " classes not from an archive: " + outside);
    }

    @Test
    void theTrainingAlsoCoversASoftwareCpuBoot() throws Exception {
        start("");   // trains the qtest archive
        List<String> lines = bootSoftCpu();   // trains the vm archive, then boots with it
        assertTrue(Files.size(buildCache().resolve("ioemu-emulator-vm.jsa"))
                > Files.size(buildCache().resolve("ioemu-emulator-qtest.jsa")), "the vm archive holds more");
        for (String cls : List.of("dev.ioemu.cpu.Cpu", "dev.ioemu.cpu.OpcodeTable", "dev.ioemu.bios.Bios",
                "dev.ioemu.bios.Int13DiskServices", "dev.ioemu.emulator.engine.SoftPc")) {
            assertTrue(lines.contains(cls + " source: shared objects file (top)"),
                    cls + " not mapped from the archive: " + lines.stream().filter(l -> l.startsWith(cls + " ")).toList());
        }
        // The opcode table's method references: their lambda classes are archived too, not spun.
        long tableLambdas = lines.stream().filter(l -> l.startsWith("dev.ioemu.cpu.OpcodeTable$$Lambda$")).count();
        long archivedLambdas = lines.stream().filter(l -> l.startsWith("dev.ioemu.cpu.OpcodeTable$$Lambda$")
                && l.endsWith("source: shared objects file (top)")).count();
        assertTrue(tableLambdas > 100, tableLambdas + " opcode-table lambda classes loaded");
        assertEquals(tableLambdas, archivedLambdas, "opcode-table lambda classes spun at run time");
        // 6 today (method-handle forms, annotation proxies); 642 before the training booted too.
        List<String> outside = notFromAnArchive(lines);
        assertTrue(outside.size() <= 30, outside.size() + " classes not from an archive: " + outside);
    }

    @Test
    void onlyAQtestStartStopsAtTheJitsFirstTier() throws Exception {
        start("", p -> assertTrue(jvmCommandLine(p).contains("-XX:TieredStopAtLevel=1"), "qtest start: " + jvmCommandLine(p)));
        // A software-CPU run needs C2: a guest that halts with interrupts off keeps the VM up.
        Path image = dir.resolve("halt.img");
        byte[] sector = new byte[512];
        sector[0] = (byte) 0xFA;   // cli
        sector[1] = (byte) 0xF4;   // hlt
        sector[2] = (byte) 0xEB;   // jmp $-1 (to the hlt)
        sector[3] = (byte) 0xFD;
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        Files.write(image, sector);
        ProcessBuilder pb = new ProcessBuilder(LibqtestLaunchTest.launcher().toString(), "-machine", "pc",
                "-nodefaults", "-display", "none", "-accel", "soft", "-drive", "file=" + image + ",if=ide,format=raw")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("XDG_CACHE_HOME", cache().toString());
        Process p = pb.start();
        try {
            List<String> args = jvmCommandLine(p);
            assertTrue(args.stream().noneMatch(a -> a.startsWith("-XX:TieredStopAtLevel")), "software-CPU run: " + args);
        } finally {
            p.destroyForcibly();
            p.waitFor(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void aDamagedArchiveIsIgnoredSilently() throws Exception {
        start("");
        Path jsa = buildCache().resolve("ioemu-emulator-qtest.jsa");
        try (RandomAccessFile f = new RandomAccessFile(jsa.toFile(), "rw")) {
            f.seek(0);
            f.write(new byte[4096]);   // the header: magic, version, CRCs
        }
        assertEquals("ioemu: terminating on signal 15\n", start(""), "no word about the archive");
    }
}
