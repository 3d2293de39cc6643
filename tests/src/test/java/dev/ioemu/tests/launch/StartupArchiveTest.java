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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher's class-data sharing archive (emulator/bin/launch.sh, README "Start-up"), through
 * {@code emulator/bin/ioemu} with a fresh per-user cache ({@code XDG_CACHE_HOME}): the first start
 * trains and keeps a checked archive with the JVM options it proved; the next qtest start and the
 * next software-CPU boot map the emulator's classes from it (and {@code -Xshare:on}, which fails
 * the JVM when an archive cannot be mapped, starts); an archive that is damaged is ignored
 * without a word.
 */
class StartupArchiveTest {
    @TempDir
    Path dir;

    private Path cache() {
        return dir.resolve("cache");
    }

    /** Starts ioemu on a raw disk with qtest on stdio, checks the first reply, then SIGTERM; returns stderr. */
    private String start(String javaOpts) throws Exception {
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
        Path jsa = buildCache().resolve("ioemu-emulator.jsa");
        assertTrue(Files.size(jsa) > 1 << 20, "archive kept: " + jsa);
        List<String> options = Files.readAllLines(buildCache().resolve("jvm-options"));
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
        start("");   // trains
        List<String> lines = bootSoftCpu();
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
    void aDamagedArchiveIsIgnoredSilently() throws Exception {
        start("");
        Path jsa = buildCache().resolve("ioemu-emulator.jsa");
        try (RandomAccessFile f = new RandomAccessFile(jsa.toFile(), "rw")) {
            f.seek(0);
            f.write(new byte[4096]);   // the header: magic, version, CRCs
        }
        assertEquals("ioemu: terminating on signal 15\n", start(""), "no word about the archive");
    }
}
