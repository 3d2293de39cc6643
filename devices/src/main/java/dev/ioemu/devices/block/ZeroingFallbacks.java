package dev.ioemu.devices.block;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.LinuxFs;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * Discard and write-zeroes on a raw image (shared/spec/block.md §6): the cheapest way the host
 * offers, with the fallbacks QEMU uses — punching a hole (files) or BLKDISCARD (block devices)
 * for discard, which is advisory and turns itself off once the host says unsupported; for
 * zeroing FALLOC_FL_ZERO_RANGE, then punch-hole plus re-allocation, then BLKZEROOUT (O_DIRECT
 * block devices only), then writing zeros. Partial blocks at either end are ordinary
 * (read-modify-)writes of zeros through {@link AlignedFileIo}.
 */
final class ZeroingFallbacks {
    private static final Logger LOG = LoggerFactory.getLogger(ZeroingFallbacks.class);
    private static final int MAX_BOUNCE_BYTES = RawImage.MAX_BOUNCE_BYTES;

    /** Told every range that now holds new data (zeros), for the flush's bookkeeping. */
    interface WriteListener {
        void wrote(long offset, long length);
    }

    /** What opening found out: descriptor, size, device or file, discard mode. */
    private final RawImageOpener.OpenedImage image;
    private final AlignedFileIo io;
    private final AlignedBufferPool pool;
    private final WriteListener written;

    private volatile boolean discardUnsupported;
    private volatile boolean zeroRangeUnsupported;

    ZeroingFallbacks(RawImageOpener.OpenedImage image, AlignedFileIo io, AlignedBufferPool pool, WriteListener written) {
        this.image = image;
        this.io = io;
        this.pool = pool;
        this.written = written;
    }

    int discard(long offset, long length) {
        if (image.discardMode() == DiscardMode.IGNORE) {
            return 0;
        }
        if (image.readOnly()) {
            return -Errno.EROFS;
        }
        if (offset < 0 || length < 0 || offset > image.size() - length) {
            return -Errno.EINVAL;
        }
        if (length == 0 || discardUnsupported) {
            return 0;
        }
        RangeTracker.Request req = io.track(io.alignDown(offset), io.alignUp(offset + length), false);
        int r;
        try {
            if (image.blockDevice()) {
                // BLKDISCARD needs logical-block units; discard is advisory, so shrink to whole blocks.
                long start = AlignedFileIo.roundUp(offset, image.logicalBlockSize());
                long end = (offset + length) & -(long) image.logicalBlockSize();
                r = end > start ? blockRangeIoctl(LinuxFs.BLKDISCARD, start, end - start) : 0;
            } else {
                r = fallocate(Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, offset, length);
            }
        } finally {
            io.untrack(req);
        }
        if (isUnsupported(r)) {
            discardUnsupported = true;
            LOG.info("{}: discard not supported ({}); later discards are ignored", image.file(), Errno.name(r));
            return 0;
        }
        if (r >= 0) {
            written.wrote(offset, length);
        }
        return r;
    }

    int writeZeroes(long offset, long length) {
        if (image.readOnly()) {
            return -Errno.EROFS;
        }
        if (offset < 0 || length < 0 || offset > image.size() - length) {
            return -Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long end = offset + length;
        long alignedStart = io.alignUp(offset);
        long alignedEnd = io.alignDown(end);
        if (alignedStart >= alignedEnd) {
            // No whole host block inside: one read-modify-write of zeros.
            return writeZeroBytes(offset, length);
        }
        if (offset < alignedStart) {
            int r = writeZeroBytes(offset, alignedStart - offset);
            if (r < 0) {
                return r;
            }
        }
        int r = zeroAligned(alignedStart, alignedEnd - alignedStart);
        if (r < 0) {
            return r;
        }
        written.wrote(alignedStart, alignedEnd - alignedStart);
        if (alignedEnd < end) {
            return writeZeroBytes(alignedEnd, end - alignedEnd);
        }
        return 0;
    }

    /** Partial blocks: an ordinary (read-modify-)write of zeros. */
    private int writeZeroBytes(long offset, long length) {
        ByteBuf zeros = pool.acquire((int) length);
        try {
            zeros.setZero(0, (int) length);
            ByteBuffer view = zeros.nioBuffer(0, (int) length);
            int r = io.write(offset, view, 0, (int) length);
            if (r >= 0) {
                written.wrote(offset, length);
            }
            return Math.min(r, 0);
        } finally {
            pool.release(zeros);
        }
    }

    /** An R-aligned range: the cheapest way the host offers, down to writing zeros (§6.3). */
    private int zeroAligned(long offset, long length) {
        RangeTracker.Request req = io.track(offset, offset + length, false);
        try {
            if (!image.blockDevice()) {
                if (!zeroRangeUnsupported) {
                    int r = fallocate(Fcntl.FALLOC_FL_ZERO_RANGE, offset, length);
                    if (r == 0) {
                        return 0;
                    }
                    if (isUnsupported(r)) {
                        zeroRangeUnsupported = true;
                    } else if (r != -Errno.EINVAL) {
                        return r;
                    }
                }
                int r = fallocate(Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, offset, length);
                if (r == 0) {
                    // Re-allocate so a zero-write does not leave a hole; the range reads zeros either way.
                    int realloc = fallocate(0, offset, length);
                    if (realloc < 0) {
                        LOG.debug("{}: re-allocating zeroed range failed with {}", image.file(), Errno.name(realloc));
                    }
                    return 0;
                }
            } else if (image.mode().direct) {
                // Buffered block devices are excluded: BLKZEROOUT left stale page-cache data (§6.3).
                if (blockRangeIoctl(LinuxFs.BLKZEROOUT, offset, length) == 0) {
                    return 0;
                }
            }
            return writeZeroChunks(offset, length);
        } finally {
            io.untrack(req);
        }
    }

    private int writeZeroChunks(long offset, long length) {
        int chunk = (int) Math.min(MAX_BOUNCE_BYTES, length);
        ByteBuf zeros = pool.acquire(chunk);
        try {
            zeros.setZero(0, chunk);
            long cur = offset;
            long end = offset + length;
            while (cur < end) {
                int n = (int) Math.min(chunk, end - cur);
                int r = io.pwriteFully(zeros.memoryAddress(), n, cur);
                if (r < 0) {
                    return r;
                }
                cur += n;
            }
            return 0;
        } finally {
            pool.release(zeros);
        }
    }

    private int fallocate(int fallocMode, long offset, long length) {
        while (true) {
            try {
                int r = LibC.fallocate(image.fd(), fallocMode, offset, length);
                if (image.writeLog() != null) {
                    image.writeLog().fallocate(fallocMode, offset, length, r);
                }
                return r;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    if (image.writeLog() != null) {
                        image.writeLog().fallocate(fallocMode, offset, length, -e.getErrorCode());
                    }
                    return -e.getErrorCode();
                }
            }
        }
    }

    private int blockRangeIoctl(long request, long offset, long length) {
        Memory range = new Memory(16);
        range.setLong(0, offset);
        range.setLong(8, length);
        int r;
        try {
            r = LibC.ioctl(image.fd(), request, Pointer.nativeValue(range));
        } catch (LastErrorException e) {
            r = -e.getErrorCode();
        }
        if (image.writeLog() != null) {
            image.writeLog().blockIoctl(request == LinuxFs.BLKZEROOUT ? "BLKZEROOUT" : "BLKDISCARD", offset, length, r);
        }
        return r;
    }

    private static boolean isUnsupported(int r) {
        return r == -Errno.EOPNOTSUPP || r == -Errno.ENOSYS || r == -Errno.ENODEV || r == -Errno.ENOTTY;
    }
}
