package dev.ioemu.tests.launch;

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
 * trains and keeps a checked archive with the JVM options it proved; the next start maps the
 * emulator's classes from it; an archive that is damaged is ignored without a word.
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
        start("-Xlog:class+load=info:file=" + log + ":none");
        List<String> lines = Files.readAllLines(log);
        // The training went through the QMP socket and IDE paths; a stdio start finds its classes too.
        for (String cls : List.of("dev.ioemu.emulator.Main", "dev.ioemu.emulator.qtest.QtestServer",
                "dev.ioemu.devices.ide.PiixIde", "dev.ioemu.devices.chardev.ChardevBackend$Stdio")) {
            assertTrue(lines.contains(cls + " source: shared objects file (top)"),
                    cls + " not mapped from the archive: " + lines.stream().filter(l -> l.startsWith(cls + " ")).toList());
        }
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
