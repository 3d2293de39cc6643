package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.Statx;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * Creates a raw image file as {@code qemu-img create -f raw} does (shared/spec/block.md §9):
 * open or create the file without truncating it, take QEMU's creation locks (§7.1: hold WRITE and
 * RESIZE, refuse to share RESIZE) so an image a running QEMU or ioemu writes is refused before a
 * byte changes, then truncate to 0 and grow to the size with the preallocation mode.
 *
 * <p>Growth follows QEMU's raw truncate rules: {@code off} is one ftruncate (a hole), then zeros
 * over the first 4 KiB as QEMU writes them; {@code falloc} is fallocate from the old end;
 * {@code full} writes zeros in 64 KiB chunks from the old end and syncs. Shrinking with
 * preallocation is refused, and a growth that fails restores the old length. The size is taken as
 * given; callers round it up to 512 as qemu-img does.
 */
public final class RawImageCreation {
    /** QEMU's chunk for preallocation=full. */
    static final int FULL_PREALLOCATION_CHUNK = 64 << 10;

    /** The first block QEMU allocates in a new sparse image (its largest probed alignment). */
    static final int FIRST_BLOCK = 4096;

    private static final int CREATE_MODE = 0644;

    private RawImageCreation() {
    }

    /**
     * Creates or overwrites {@code file} as an empty raw image of {@code size} bytes.
     *
     * @throws BlockOpenException with QEMU's text: "Could not create 'FILE': No such file or
     *         directory", 'Failed to get "write" lock', "Could not preallocate new data: …"
     */
    public static void create(String file, long size, Preallocation preallocation) throws BlockOpenException {
        if (size < 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: ≥ 0)");
        }
        int fd;
        try {
            fd = LibC.open(file, Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_CLOEXEC, CREATE_MODE);
        } catch (LastErrorException e) {
            throw new BlockOpenException("Could not create '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        }
        try {
            Statx st = Statx.of(fd);
            if (!st.isRegularFile()) {
                throw new BlockOpenException("Could not create '" + file + "': not a regular file",
                        "ioemu-img creates raw image files only", Errno.EINVAL);
            }
            ImageLock.acquire(fd, file, ImageLock.PERM_WRITE | ImageLock.PERM_RESIZE, ImageLock.PERM_RESIZE,
                    LockingMode.AUTO);
            resize(fd, st.size(), 0, Preallocation.OFF);
            resize(fd, 0, size, preallocation);
        } catch (LastErrorException e) {
            throw new BlockOpenException("Could not create '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        } finally {
            try {
                LibC.close(fd);
            } catch (LastErrorException e) {
                // The creation already succeeded or failed; close releases the locks either way.
            }
        }
    }

    /** QEMU's raw truncate: resize {@code fd} from {@code current} to {@code size} bytes. */
    static void resize(int fd, long current, long size, Preallocation preallocation) throws BlockOpenException {
        if (size < current && preallocation != Preallocation.OFF) {
            throw new BlockOpenException("Cannot use preallocation for shrinking files",
                    "Use preallocation=off to shrink", Errno.ENOTSUP);
        }
        try {
            switch (preallocation) {
                case OFF -> {
                    LibC.ftruncate(fd, size);
                    if (current == 0 && size > 0) {
                        allocateFirstBlock(fd, size);
                    }
                }
                case FALLOC -> {
                    if (size > current) {
                        LibC.fallocate(fd, 0, current, size - current);
                    }
                }
                case FULL -> {
                    LibC.ftruncate(fd, size);
                    writeZeros(fd, current, size);
                    LibC.fsync(fd);
                }
                default -> throw new IllegalStateException("preallocation: " + preallocation);
            }
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            try {
                LibC.ftruncate(fd, current);
            } catch (LastErrorException restore) {
                // The growth error is the one to report; the file keeps whatever length it reached.
            }
            String what = preallocation == Preallocation.OFF ? "Could not resize file: "
                    : "Could not preallocate new data: ";
            throw new BlockOpenException(what + Errno.strerror(errno),
                    preallocation == Preallocation.FALLOC ? "Try preallocation=off or full" : "", errno);
        }
    }

    /**
     * QEMU writes zeros over the first block of a new sparse image so that its O_DIRECT alignment
     * probe reads an allocated block (§3.2); doing the same keeps "disk size" and the allocation
     * map of our images equal to qemu-img's.
     */
    private static void allocateFirstBlock(int fd, long size) {
        writeZeros(fd, 0, Math.min(size, FIRST_BLOCK));
    }

    private static void writeZeros(int fd, long from, long to) {
        Memory zeros = new Memory(FULL_PREALLOCATION_CHUNK);
        zeros.clear();
        long address = Pointer.nativeValue(zeros);
        long offset = from;
        while (offset < to) {
            long n = Math.min(FULL_PREALLOCATION_CHUNK, to - offset);
            try {
                long written = LibC.pwrite(fd, address, n, offset);
                if (written == 0) {
                    throw new LastErrorException(Errno.EIO);
                }
                offset += written;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw e;
                }
            }
        }
    }
}
