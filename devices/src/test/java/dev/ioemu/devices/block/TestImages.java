package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.Mman;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Fixtures for block tests: image files on a real filesystem (not tmpfs, where O_DIRECT and
 * page-cache behaviour differ), loop devices, and an O_DIRECT reader/writer that bypasses our
 * layer. Everything is made by code, nothing is committed.
 */
final class TestImages {
    private TestImages() {
    }

    /** {@code dir} itself if it is on a real filesystem, else a fresh directory under target/. */
    static Path realFsDir(Path dir) throws IOException {
        if (!"tmpfs".equals(fsType(dir))) {
            return dir;
        }
        Path target = Paths.get(System.getProperty("user.dir"), "target", "test-images");
        Files.createDirectories(target);
        return Files.createTempDirectory(target, "img");
    }

    static String fsType(Path dir) throws IOException {
        String best = "";
        String type = "";
        String abs = dir.toRealPath().toString();
        for (String line : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 2 && (abs.equals(f[1]) || abs.startsWith(f[1].endsWith("/") ? f[1] : f[1] + "/"))
                    && f[1].length() > best.length()) {
                best = f[1];
                type = f[2];
            }
        }
        return type;
    }

    /** A file of {@code size} bytes filled with seeded random data (so probing never sees a hole). */
    static Path randomImage(Path dir, String name, long size, long seed) throws IOException {
        Path file = realFsDir(dir).resolve(name);
        Random rnd = new Random(seed);
        byte[] chunk = new byte[1 << 16];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long left = size;
            while (left > 0) {
                rnd.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, left);
                ch.write(ByteBuffer.wrap(chunk, 0, n));
                left -= n;
            }
            ch.force(true);
        }
        return file;
    }

    static byte[] readAll(Path file) throws IOException {
        return Files.readAllBytes(file);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean commandExists(String cmd) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Paths.get(dir, cmd))) {
                return true;
            }
        }
        return Files.isExecutable(Paths.get("/usr/sbin", cmd)) || Files.isExecutable(Paths.get("/sbin", cmd));
    }

    /** Runs a command, returns exit code and combined output. */
    record Result(int exit, String output) {
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** A loop device over an image file; detached by close(). */
    static final class LoopDevice implements AutoCloseable {
        final String path;

        private LoopDevice(String path) {
            this.path = path;
        }

        /** Attaches {@code file}, or skips the test with the reason when that is impossible here. */
        static LoopDevice attachOrSkip(Path file, int sectorSize) throws IOException, InterruptedException {
            return attachOrSkip(file, sectorSize, false);
        }

        /** As above; {@code readOnly} attaches with {@code losetup -r} (BLKROGET reports 1). */
        static LoopDevice attachOrSkip(Path file, int sectorSize, boolean readOnly)
                throws IOException, InterruptedException {
            String fallback = " (the page-cache residency check of FadviseResidencyTest runs without it)";
            assumeTrue(isRoot(), "skipped: loop devices need root (user " + System.getProperty("user.name") + ")"
                    + fallback);
            assumeTrue(commandExists("losetup"), "skipped: losetup not installed (apt-get install mount)" + fallback);
            List<String> cmd = new java.util.ArrayList<>(List.of("losetup", "-f", "--show", "--sector-size",
                    String.valueOf(sectorSize)));
            if (readOnly) {
                cmd.add("-r");
            }
            cmd.add(file.toString());
            Result r = run(cmd);
            assumeTrue(r.exit() == 0, "skipped: losetup failed here: " + r.output().trim() + fallback);
            return new LoopDevice(r.output().trim());
        }

        @Override
        public void close() throws IOException, InterruptedException {
            Result r = run(List.of("losetup", "-d", path));
            if (r.exit() != 0) {
                throw new IOException("losetup -d " + path + ": " + r.output());
            }
        }
    }

    /**
     * Reads or writes a path with O_DIRECT through its own fd — the "blkback" role below our page
     * cache. Offsets and lengths must be multiples of 4096.
     */
    static final class DirectIo implements AutoCloseable {
        private final int fd;
        private final Memory raw = new Memory(1 << 21);
        private final Pointer aligned = raw.align(4096);

        DirectIo(String path) {
            fd = LibC.open(path, Fcntl.O_RDWR | Fcntl.O_DIRECT | Fcntl.O_CLOEXEC, 0);
        }

        byte[] read(long offset, int length) {
            long r = LibC.pread(fd, Pointer.nativeValue(aligned), length, offset);
            if (r != length) {
                throw new IllegalStateException("short O_DIRECT read: " + r);
            }
            return aligned.getByteArray(0, length);
        }

        void write(long offset, byte[] data) {
            aligned.write(0, data, 0, data.length);
            long r = LibC.pwrite(fd, Pointer.nativeValue(aligned), data.length, offset);
            if (r != data.length) {
                throw new IllegalStateException("short O_DIRECT write: " + r);
            }
        }

        @Override
        public void close() {
            try {
                LibC.close(fd);
            } catch (LastErrorException e) {
                throw new IllegalStateException("close: " + Errno.name(e.getErrorCode()));
            }
        }
    }

    /** Pages of {@code path}'s first {@code length} bytes resident in the page cache (mincore). */
    static int residentPages(String path, long length) {
        return residentPagesIn(path, length, 0, length);
    }

    /**
     * Pages overlapping {@code [offset, offset + count)} resident in the page cache, from a
     * mincore of {@code path}'s first {@code length} bytes.
     */
    static int residentPagesIn(String path, long length, long offset, long count) {
        int fd = LibC.open(path, Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
        try {
            long addr = LibC.mmap(0, length, Mman.PROT_NONE, Mman.MAP_SHARED, fd, 0);
            try {
                int page = LibC.getpagesize();
                byte[] vec = new byte[(int) ((length + page - 1) / page)];
                LibC.mincore(addr, length, vec);
                int resident = 0;
                long first = offset / page;
                long last = Math.min(vec.length - 1, (offset + count - 1) / page);
                for (long i = first; i <= last; i++) {
                    resident += vec[(int) i] & 1;
                }
                return resident;
            } finally {
                LibC.munmap(addr, length);
            }
        } finally {
            LibC.close(fd);
        }
    }

    static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** A direct buffer whose first byte is 4096-aligned. */
    static ByteBuffer alignedDirect(int length) {
        int rounded = (length + 4095) & ~4095;
        return ByteBuffer.allocateDirect(rounded + 4096).alignedSlice(4096).limit(length).slice();
    }
}
