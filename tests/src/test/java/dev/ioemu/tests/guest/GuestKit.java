package dev.ioemu.tests.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The one kit the guest tests share: the repository's scripts under tests/guest, the peer
 * (QEMU 7.2 + Debian's SeaBIOS, {@code -accel tcg}) and ioemu's software engine ({@code -accel
 * soft}) launched with the same flags, and the probe's write pattern.
 */
final class GuestKit {
    /** What ioemu prints today for {@code -accel soft}; the engine does not exist until it stops. */
    static final String NO_SOFT_ENGINE = "skipped: ioemu has no software CPU engine yet (-accel soft)";

    private GuestKit() {
    }

    static Path root() {
        return Path.of(System.getProperty("ioemu.root", "..")).toAbsolutePath().normalize();
    }

    static Path script(String name) {
        return root().resolve("tests/guest").resolve(name);
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the test (with the reason) unless every command is installed. */
    static void assumeCommands(String... commands) {
        for (String c : commands) {
            assumeTrue(onPath(c), "skipped: " + c + " not installed (tests/setup.sh installs it)");
        }
    }

    /** Skips unless every file exists (Debian package contents such as SeaBIOS or syslinux's mbr.bin). */
    static void assumeFiles(String why, String... files) {
        for (String f : files) {
            assumeTrue(Files.exists(Path.of(f)), "skipped: " + f + " missing (" + why + ")");
        }
    }

    /** The result of one emulator run. */
    record Run(int exitStatus, boolean timedOut, String stderr, double seconds) {
    }

    /**
     * Assembles tests/guest/{@code name}.asm with nasm into the boot sector of a 1 MiB raw disk
     * in {@code dir}; returns the disk.
     */
    static Path bootSectorDisk(Path dir, String name) throws IOException, InterruptedException {
        Path sector = dir.resolve(name + ".bin");
        Run r = run(List.of("nasm", "-f", "bin", "-o", sector.toString(), script(name + ".asm").toString()),
                dir, "nasm", 60);
        org.junit.jupiter.api.Assertions.assertEquals(0, r.exitStatus(), "nasm: " + r.stderr());
        Path image = dir.resolve(name + ".img");
        byte[] disk = new byte[1 << 20];
        byte[] boot = Files.readAllBytes(sector);
        System.arraycopy(boot, 0, disk, 0, boot.length);
        Files.write(image, disk);
        return image;
    }

    /** Runs a command with its stdout/stderr in files under {@code dir}; kills it after the timeout. */
    static Run run(List<String> command, Path dir, String tag, long timeoutSeconds) throws IOException, InterruptedException {
        Path err = dir.resolve(tag + ".stderr");
        long start = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve(tag + ".stdout").toFile()).redirectError(err.toFile());
        // Downloaded Debian packages outlive a test's temporary directory.
        pb.environment().put("IOEMU_DEB_CACHE", root().resolve("tests/target/guest/deb-cache").toString());
        Process p = pb.start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            p.waitFor();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Run(done ? p.exitValue() : -1, !done, Files.readString(err, StandardCharsets.UTF_8), seconds);
    }

    /** Runs a build script of tests/guest with its output directory; fails the test if it fails. */
    static void runScript(String name, Path out, String... args) throws IOException, InterruptedException {
        Run r = runScriptStatus(name, out, args);
        if (r.exitStatus() != 0) {
            throw new AssertionError(name + " failed (status " + r.exitStatus() + "): " + r.stderr());
        }
    }

    /** Runs a build script of tests/guest; the caller judges its exit status. */
    static Run runScriptStatus(String name, Path out, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", script(name).toString(), out.toString()));
        cmd.addAll(List.of(args));
        Files.createDirectories(out);
        return run(cmd, out, name, 600);
    }

    /** QEMU 7.2 + SeaBIOS booting {@code image} from the first IDE disk, debugcon to {@code debugcon}. */
    static List<String> qemu(Path image, Path debugcon, Path seabiosLog, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg",
                "-nodefaults", "-display", "none"));
        cmd.addAll(commonFlags(image, debugcon));
        // SeaBIOS's own log goes to port 0x402, kept apart from the guest's 0xE9 lines.
        cmd.addAll(List.of("-chardev", "file,id=seabios,path=" + seabiosLog,
                "-device", "isa-debugcon,iobase=0x402,chardev=seabios"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    /** ioemu's software engine with the same flags as {@link #qemu}. */
    static List<String> ioemuSoft(Path image, Path debugcon, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(root().resolve("emulator/bin/ioemu").toString(),
                "-machine", "pc", "-accel", "soft", "-nodefaults", "-display", "none"));
        cmd.addAll(commonFlags(image, debugcon));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    private static List<String> commonFlags(Path image, Path debugcon) {
        return List.of("-drive", "file=" + image + ",if=ide,format=raw", "-debugcon", "file:" + debugcon,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04");
    }

    /**
     * Skips unless ioemu runs guest code: its jar is built and current (the launcher would run
     * Maven itself otherwise, not inside a test), and {@code -accel soft} is accepted (today it
     * exits 1 naming the option).
     */
    static void assumeIoemuSoftEngine(Path dir) throws IOException, InterruptedException {
        if (softEngineSkip == null) {
            softEngineSkip = softEngineSkipReason(dir);
        }
        assumeTrue(softEngineSkip.isEmpty(), softEngineSkip);
    }

    private static String softEngineSkip;

    private static String softEngineSkipReason(Path dir) throws IOException, InterruptedException {
        Path jar = root().resolve("emulator/target/ioemu-emulator-0.1.0-SNAPSHOT.jar");
        boolean built = Files.exists(jar) && Files.isDirectory(root().resolve("emulator/target/lib"));
        if (built) {
            long jarTime = jar.toFile().lastModified();
            for (String module : new String[] {"devices", "bios", "emulator"}) {
                Path main = root().resolve(module).resolve("src/main");
                if (Files.isDirectory(main)) {
                    try (Stream<Path> sources = Files.walk(main)) {
                        built &= sources.filter(Files::isRegularFile).allMatch(p -> p.toFile().lastModified() <= jarTime);
                    }
                }
            }
        }
        if (!built) {
            return "skipped: emulator jar missing or older than the sources (run mvn verify)";
        }
        Path empty = dir.resolve("accel-check.img");
        Files.write(empty, new byte[512]);
        Run r = run(ioemuSoft(empty, dir.resolve("accel-check.debugcon")), dir, "accel-check", 20);
        boolean refused = r.exitStatus() != 0 && r.stderr().contains("-accel soft");
        return refused ? NO_SOFT_ENGINE : "";
    }

    /** A sector the probe writes: "IOEMUPRB", tag, index in its buffer, then (i*3 + tag) & 0xFF. */
    static byte[] patternSector(int tag, int index) {
        byte[] s = new byte[512];
        byte[] head = "IOEMUPRB".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, s, 0, head.length);
        s[8] = (byte) tag;
        s[9] = (byte) index;
        for (int i = 10; i < 512; i++) {
            s[i] = (byte) (i * 3 + tag);
        }
        return s;
    }

    /** The probe's "sum=" value: the 32-bit sum of the bytes. */
    static long byteSum(byte[]... sectors) {
        long sum = 0;
        for (byte[] s : sectors) {
            for (byte b : s) {
                sum += b & 0xFF;
            }
        }
        return sum & 0xFFFF_FFFFL;
    }

    static byte[] readSector(Path image, long lba) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(image)) {
            var buf = java.nio.ByteBuffer.allocate(512);
            while (buf.hasRemaining() && ch.read(buf, lba * 512 + buf.position()) > 0) {
                // read until the sector is complete
            }
            return buf.array();
        }
    }
}
