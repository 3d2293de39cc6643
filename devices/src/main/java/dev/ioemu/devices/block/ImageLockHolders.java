package dev.ioemu.devices.block;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Who holds QEMU's lock bytes on an image (shared/spec/block.md §7.1): every process with the file
 * open whose open file description holds OFD locks in the permission ranges, and which
 * permissions it holds and refuses to share. {@code /proc/locks} shows OFD locks with pid -1, so
 * this walks {@code /proc/PID/fd} for descriptors of the same inode and reads the locks their
 * {@code fdinfo} lists (Linux prints the locks an open file description owns there).
 * Processes this user may not inspect are skipped silently: the answer is "holders we can see".
 */
public final class ImageLockHolders {
    /** One process's locks on the image: permission bit sets (ImageLock's PERM_* values). */
    public record Holder(long pid, String command, int held, int unshared) {
        /** "consistent read, write" — the names QEMU's lock errors use. */
        public String heldNames() {
            return names(held);
        }

        public String unsharedNames() {
            return names(unshared);
        }
    }

    private static final Path PROC = Path.of("/proc");

    private ImageLockHolders() {
    }

    /** Holders other than this process, in pid order; empty when none (or /proc is unreadable). */
    public static List<Holder> of(String file) {
        Object[] id;
        try {
            id = fileId(Path.of(file));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return List.of();
        }
        long self = ProcessHandle.current().pid();
        List<Holder> holders = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(PROC, p -> isNumber(p.getFileName().toString()))) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                if (pid != self) {
                    Holder h = holder(proc, pid, id);
                    if (h != null) {
                        holders.add(h);
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        holders.sort((a, b) -> Long.compare(a.pid(), b.pid()));
        return holders;
    }

    private static Holder holder(Path proc, long pid, Object[] id) {
        int held = 0;
        int unshared = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                Object[] other;
                try {
                    other = fileId(fd);
                } catch (IOException | UnsupportedOperationException e) {
                    continue;
                }
                if (!id[0].equals(other[0]) || !id[1].equals(other[1])) {
                    continue;
                }
                for (String line : Files.readAllLines(proc.resolve("fdinfo").resolve(fd.getFileName()))) {
                    long[] range = lockRange(line);
                    if (range != null) {
                        held |= bits(range, ImageLock.BASE_HELD);
                        unshared |= bits(range, ImageLock.BASE_UNSHARED);
                    }
                }
            }
        } catch (IOException | SecurityException e) {
            return null;
        }
        if (held == 0 && unshared == 0) {
            return null;
        }
        String command;
        try {
            command = Files.readString(proc.resolve("comm")).strip();
        } catch (IOException e) {
            command = "?";
        }
        return new Holder(pid, command, held, unshared);
    }

    /** "lock:\t1: OFDLCK ADVISORY  READ -1 fe:00:2228265 100 101" → {100, 101}; null for other lines. */
    static long[] lockRange(String line) {
        if (!line.startsWith("lock:")) {
            return null;
        }
        String[] f = line.trim().split("\\s+");
        if (f.length < 2) {
            return null;
        }
        try {
            long start = Long.parseLong(f[f.length - 2]);
            String endText = f[f.length - 1];
            long end = endText.equals("EOF") ? Long.MAX_VALUE : Long.parseLong(endText);
            return new long[] {start, end};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int bits(long[] range, int base) {
        int set = 0;
        for (int bit = 0; bit < ImageLock.PERM_NAMES.size(); bit++) {
            if (range[0] <= base + bit && base + bit <= range[1]) {
                set |= 1 << bit;
            }
        }
        return set;
    }

    private static String names(int perms) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < ImageLock.PERM_NAMES.size(); bit++) {
            if ((perms & (1 << bit)) != 0) {
                names.add(ImageLock.PERM_NAMES.get(bit));
            }
        }
        return names.isEmpty() ? "nothing" : String.join(", ", names);
    }

    private static Object[] fileId(Path p) throws IOException {
        return new Object[] {Files.getAttribute(p, "unix:dev"), Files.getAttribute(p, "unix:ino")};
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }
}
