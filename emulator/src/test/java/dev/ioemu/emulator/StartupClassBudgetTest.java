package dev.ioemu.emulator;

import dev.ioemu.emulator.qtest.StartupTraining;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Start-up work as a count, which host load cannot disturb (issue 8 "Start-up", issue 10's fixed
 * cost of a software-CPU boot; the times themselves are {@code tools/bench/startup-vs-qemu.sh}):
 * a real {@code ioemu -qtest stdio} process with a raw disk on IDE, as the benchmark starts it,
 * and a real {@code ioemu -accel soft} boot of a boot sector that ends the VM at once, log every
 * class they load ({@code -Xlog:class+load}); the classes loaded by the time of the first reply,
 * or by the end of that boot, must stay within a budget, and the libraries a start has no use
 * for must not have been set up.
 */
class StartupClassBudgetTest {
    /**
     * Classes loaded before the first reply by this plain start (no class-data sharing archive of
     * ours, JNA unpacking its stub): 1,852 before the start-up work of 2026-12-07 (the bounce pool
     * built for the MBR read, String.format, the KVM probe's regex), 1,700-1,703 after, on JDK
     * 17.0.15; through the launcher, 1,558. The margin allows a JDK update or a few new device
     * classes, not a library more.
     */
    static final int CLASS_BUDGET = 1_780;

    /**
     * Classes loaded by a whole software-CPU boot of {@link StartupTraining#trainingBootSector()}
     * (HLE BIOS POST, INT 10h/13h/15h/1Ah, isa-debug-exit) by this plain start: 2,474 with the
     * ROM date made by String.format and the POST's record equals linked through ObjectMethods,
     * 2,326 without, on JDK 17.0.15. About the same margin as {@link #CLASS_BUDGET}.
     */
    static final int SOFT_BOOT_CLASS_BUDGET = 2_400;

    @TempDir
    Path dir;
    private Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    /** The classes the process had loaded when the reply to one qtest line arrived. */
    private List<String> classesBeforeFirstReply() throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        Path log = dir.resolve("classes.txt");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + log + ":none", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-machine", "pc", "-nodefaults", "-display", "none", "-qtest", "stdio",
                "-qtest-log", "none", "-accel", "qtest", "-drive", "file=" + image + ",if=ide,format=raw,cache=writeback"));
        process = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream in = process.getOutputStream();
        in.write("outb 0x80 0\n".getBytes(StandardCharsets.ISO_8859_1));
        in.flush();
        assertEquals("OK", out.readLine(), "first reply");
        List<String> classes = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            // "java.lang.Object source: shared objects file": the class name is the first word.
            int space = line.indexOf(' ');
            classes.add(space < 0 ? line : line.substring(0, space));
        }
        process.destroy();   // SIGTERM: flush, exit 0
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue());
        return classes;
    }

    /** The classes a whole software-CPU boot of the training boot sector loaded (it exits with status 1). */
    private List<String> classesOfSoftCpuBoot() throws Exception {
        Path image = dir.resolve("boot.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.write(StartupTraining.trainingBootSector());
        }
        Path log = dir.resolve("classes.txt");
        Path serial = dir.resolve("serial.txt");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + log + ":none", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-machine", "pc", "-nodefaults", "-display", "none", "-no-reboot",
                "-accel", "soft", "-drive", "file=" + image + ",if=ide,format=raw", "-serial", "file:" + serial,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        process = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
        process.getOutputStream().close();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the boot sector ends the VM");
        assertEquals(1, process.exitValue(), "isa-debug-exit status; stderr: " + Files.readString(dir.resolve("stderr")));
        assertEquals(".", Files.readString(serial, StandardCharsets.ISO_8859_1), "INT 10h teletype on COM1");
        List<String> classes = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            int space = line.indexOf(' ');
            classes.add(space < 0 ? line : line.substring(0, space));
        }
        return classes;
    }

    @Test
    void softCpuBootLoadsNoMoreClassesThanTheBudget() throws Exception {
        List<String> classes = classesOfSoftCpuBoot();
        assertTrue(classes.contains("dev.ioemu.cpu.OpcodeTable"), "the log covers the CPU");
        assertTrue(classes.size() <= SOFT_BOOT_CLASS_BUDGET, classes.size() + " classes loaded by a boot that exits at once"
                + " (budget " + SOFT_BOOT_CLASS_BUDGET + "); find the new ones with -Xlog:class+load");
        // String.format pulls in the formatter and locale data; a record's generated equals,
        // hashCode or toString spins method-handle classes through ObjectMethods when first used.
        assertFalse(classes.contains("java.util.Formatter"), "String.format used");
        assertFalse(classes.contains("java.lang.runtime.ObjectMethods"), "a record's generated equals/hashCode/toString used");
        assertFalse(classes.contains("dev.ioemu.emulator.engine.kvm.KvmHost"), "KVM probed for a software-CPU start");
    }

    @Test
    void firstQtestReplyLoadsNoMoreClassesThanTheBudget() throws Exception {
        List<String> classes = classesBeforeFirstReply();
        assertTrue(classes.size() > 400, "the log holds the JDK's own start-up too: " + classes.size());
        assertTrue(classes.size() <= CLASS_BUDGET, classes.size() + " classes loaded before the first reply (budget "
                + CLASS_BUDGET + "); find the new ones with -Xlog:class+load and make them load when first needed");
    }

    @Test
    void firstQtestReplyNeedsNoBouncePoolFormatterOrKvmProbe() throws Exception {
        List<String> classes = classesBeforeFirstReply();
        assertTrue(classes.contains("dev.ioemu.emulator.qtest.QtestServer"), "the log covers the qtest server");
        // Netty's pool is made at the first bounce; the MBR read for the geometry needs none.
        assertFalse(classes.contains("io.netty.buffer.PooledByteBufAllocator"), "bounce-buffer pool built");
        // String.format pulls in locale data and the formatter (~80 classes).
        assertFalse(classes.contains("java.util.Formatter"), "String.format used");
        assertFalse(classes.contains("dev.ioemu.emulator.engine.kvm.KvmHost"), "KVM probed for a qtest start");
    }
}
