package dev.ioemu.devices.block;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.LinuxFs;
import dev.ioemu.devices.host.Statx;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.devices.block.writelog.WriteLog;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a {@link RawImage} (shared/spec/block.md §1, §7, §8): open(2) with the cache mode's
 * flags, what the file is (regular file or block device, its size in whole sectors, a read-only
 * device refused for writing), QEMU's image locks ({@link ImageLock}) and, with O_DIRECT, the
 * request and memory alignment ({@link AlignmentProbe}). Every failure is a
 * {@link BlockOpenException} with QEMU's wording and a hint, and the descriptor is closed again.
 */
final class RawImageOpener {
    private static final Logger LOG = LoggerFactory.getLogger(RawImageOpener.class);

    /** QEMU's BDRV_SECTOR_SIZE: image sizes are whole sectors. */
    private static final long SECTOR_SIZE = 512;

    /**
     * What opening found out about the image, handed to the image and its I/O parts.
     *
     * @param logicalBlockSize logical block size of a block device (BLKSSZGET), the unit of
     *                         BLKDISCARD; 1 for files
     * @param writeLog         the crash-consistency write log ({@code x-write-log}), or null
     */
    record OpenedImage(String file, int fd, long size, CacheMode mode, boolean readOnly, boolean blockDevice,
                       int logicalBlockSize, DiscardMode discardMode, AlignmentProbe.Alignment alignment,
                       WriteLog writeLog) {
    }

    private RawImageOpener() {
    }

    static RawImage open(DriveOptions options, AlignedBufferPool pool, RawImage.HostCalls host) throws BlockOpenException {
        String file = options.file();
        CacheMode mode = options.cache();
        int flags = (options.readOnly() ? Fcntl.O_RDONLY : Fcntl.O_RDWR) | Fcntl.O_CLOEXEC
                | (mode.direct ? Fcntl.O_DIRECT : 0);
        int fd;
        try {
            fd = LibC.open(file, flags, 0);
        } catch (LastErrorException e) {
            throw openError(file, mode, e.getErrorCode());
        }
        WriteLog writeLog = null;
        try {
            Statx st = Statx.of(fd);
            if (!st.isRegularFile() && !st.isBlockDevice()) {
                throw new BlockOpenException("Could not open '" + file + "': not a regular file or block device",
                        "A raw image must be a file or a host block device", Errno.EINVAL);
            }
            boolean blockDevice = st.isBlockDevice();
            if (blockDevice && !options.readOnly() && ioctlInt(fd, LinuxFs.BLKROGET) != 0) {
                // open(O_RDWR) succeeds on a read-only device but every write would fail (§8).
                throw new BlockOpenException("Could not open '" + file + "': Permission denied",
                        "The block device is read-only; use readonly=on", Errno.EACCES);
            }
            long size = blockDevice ? ioctlLong(fd, LinuxFs.BLKGETSIZE64) : fileLength(fd, file);
            int logicalBlockSize = blockDevice ? ioctlInt(fd, LinuxFs.BLKSSZGET) : 1;
            ImageLock.acquire(fd, file, ImageLock.heldPermissions(options.readOnly()),
                    options.noShare() ? ImageLock.PERM_WRITE | ImageLock.PERM_RESIZE
                            : ImageLock.unsharedPermissions(options.readOnly()),
                    options.locking());
            AlignmentProbe.Alignment alignment = mode.direct
                    ? AlignmentProbe.probe(fd, file, st, options.forcedAlignment(), AlignmentProbe.LIBC_TRIAL_READ, pool)
                    : new AlignmentProbe.Alignment(1, 1, "buffered");
            writeLog = openWriteLog(options, file, size, mode);
            RawImage image = new RawImage(new OpenedImage(file, fd, size, mode, options.readOnly(), blockDevice,
                    logicalBlockSize, options.discard(), alignment, writeLog), pool, host);
            if (mode.dropAfterFlush) {
                // Pages cached before we opened may be stale below-cache data (Virtual Iron's practice, §5.5).
                image.dropWholeCacheAtOpen();
            }
            if (TraceEvent.BLK_OPEN.enabled) {
                Trace.emit(TraceEvent.BLK_OPEN, file, mode, options.readOnly() ? 1 : 0, size, alignment.request(),
                        alignment.memory(), alignment.source());
            }
            return image;
        } catch (LastErrorException e) {
            closeQuietly(fd);
            closeQuietly(writeLog);
            throw new BlockOpenException("Could not open '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        } catch (BlockOpenException | RuntimeException e) {
            closeQuietly(fd);
            closeQuietly(writeLog);
            throw e;
        }
    }

    /**
     * The guest-visible size of a regular file, as QEMU's raw driver measures it: lseek to the end
     * (a special file such as /proc/version cannot be sized and is refused), rounded up to whole
     * 512-byte sectors (QEMU's total_sectors); reads of the padding return zeros, a write there
     * extends the file.
     */
    private static long fileLength(int fd, String file) throws BlockOpenException {
        long end;
        try {
            end = LibC.lseek(fd, 0, Fcntl.SEEK_END);
        } catch (LastErrorException e) {
            throw new BlockOpenException("Could not refresh total sector count: " + Errno.strerror(e.getErrorCode()),
                    "'" + file + "' has no length (a special file?); a raw image must be a regular file or a block "
                            + "device", e.getErrorCode());
        }
        return (end + SECTOR_SIZE - 1) & -SECTOR_SIZE;
    }

    private static WriteLog openWriteLog(DriveOptions options, String file, long size, CacheMode mode)
            throws BlockOpenException {
        if (options.writeLog() == null) {
            return null;
        }
        try {
            return WriteLog.create(Path.of(options.writeLog()), file, size, mode.toString(), mode.direct, false);
        } catch (IOException e) {
            throw new BlockOpenException("Could not open write log '" + options.writeLog() + "': " + e.getMessage(),
                    "x-write-log=PATH needs a writable file that no other drive logs to", Errno.EIO);
        }
    }

    private static BlockOpenException openError(String file, CacheMode mode, int errno) {
        if (errno == Errno.EINVAL && mode.direct) {
            return new BlockOpenException("Could not open '" + file + "': filesystem does not support O_DIRECT",
                    "Try cache.direct=off (e.g. cache=writeback or cache=fadvise)", errno);
        }
        String what = Errno.strerror(errno);
        String hint = errno == Errno.EACCES || errno == Errno.EROFS ? "Use readonly=on to open it read-only" : "";
        return new BlockOpenException("Could not open '" + file + "': " + what, hint, errno);
    }

    private static void closeQuietly(WriteLog writeLog) {
        if (writeLog != null) {
            try {
                writeLog.close();
            } catch (RuntimeException e) {
                LOG.debug("closing write log {} failed: {}", writeLog.path(), e.getMessage());
            }
        }
    }

    static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            LOG.debug("close({}) failed: {}", fd, Errno.name(e.getErrorCode()));
        }
    }

    static int ioctlInt(int fd, long request) {
        Memory out = new Memory(8);
        out.clear();
        LibC.ioctl(fd, request, Pointer.nativeValue(out));
        return out.getInt(0);
    }

    private static long ioctlLong(int fd, long request) {
        Memory out = new Memory(8);
        out.clear();
        LibC.ioctl(fd, request, Pointer.nativeValue(out));
        return out.getLong(0);
    }
}
