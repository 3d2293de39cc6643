package dev.ioemu.devices.block;

import com.sun.jna.LastErrorException;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Statx;

/**
 * Changes a raw image's length as {@code qemu-img resize -f raw} does (shared/spec/block.md §9):
 * open the existing file read-write, take the locks of a writer that resizes (hold consistent
 * read, write and resize, share everything), so a running VM that refuses to share WRITE makes it
 * fail with 'Failed to get "write" lock' before a byte changes; then QEMU's raw truncate with the
 * preallocation mode. Whether shrinking is allowed is the caller's decision (qemu-img's
 * {@code --shrink}); this refuses preallocation when shrinking, as QEMU does.
 */
public final class RawImageResize {
    private RawImageResize() {
    }

    /** Chooses the new length from the current one, or refuses (qemu-img's size rules live with the caller). */
    @FunctionalInterface
    public interface NewSize {
        long from(long currentSize) throws BlockOpenException;
    }

    /**
     * Resizes {@code file} to the length {@code newSize} chooses from its current one, deciding
     * and resizing under the same locks; returns the new length.
     *
     * @throws BlockOpenException with QEMU's texts: "Could not open 'F': No such file or directory",
     *         'Failed to get "write" lock', "Preallocation can only be used for growing images",
     *         "Could not resize file: …", "Could not preallocate new data: …", or newSize's refusal
     */
    public static long resize(String file, NewSize newSize, Preallocation preallocation) throws BlockOpenException {
        return withLockedImage(file, (fd, current) -> {
            long size = newSize.from(current);
            if (size < 0) {
                throw new IllegalArgumentException("size: " + size + " (expected: ≥ 0)");
            }
            if (size < current && preallocation != Preallocation.OFF) {
                throw new BlockOpenException("Preallocation can only be used for growing images", "", Errno.ENOTSUP);
            }
            if (size != current) {
                RawImageCreation.resize(fd, current, size, preallocation);
            }
            return size;
        });
    }

    private interface LockedAction {
        long apply(int fd, long currentSize) throws BlockOpenException;
    }

    private static long withLockedImage(String file, LockedAction action) throws BlockOpenException {
        int fd;
        try {
            fd = LibC.open(file, Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new BlockOpenException("Could not open '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        }
        try {
            Statx st = Statx.of(fd);
            if (!st.isRegularFile()) {
                throw new BlockOpenException("Could not open '" + file + "': not a regular file",
                        "ioemu-img resizes raw image files only", Errno.EINVAL);
            }
            try {
                ImageLock.acquire(fd, file,
                        ImageLock.PERM_CONSISTENT_READ | ImageLock.PERM_WRITE | ImageLock.PERM_RESIZE, 0,
                        LockingMode.AUTO);
            } catch (BlockOpenException e) {
                // qemu-img names the image first: "Could not open 'F': Failed to get "write" lock".
                throw new BlockOpenException("Could not open '" + file + "': " + e.reason(), e.hint(), e.errno());
            }
            return action.apply(fd, st.size());
        } catch (LastErrorException e) {
            throw new BlockOpenException("Could not open '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        } finally {
            try {
                LibC.close(fd);
            } catch (LastErrorException e) {
                // Nothing was written through this descriptor that close could still lose.
            }
        }
    }
}
