package dev.ioemu.devices.block;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.ioemu.devices.block.writelog.WriteLog;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * A raw image's data path (shared/spec/block.md §3, §4): pread/pwrite at the image's request
 * alignment R and memory alignment M. A request whose offset, length and (direct) buffer address
 * suit them goes to the file in place — zero-copy, allocating nothing (buffered) or one tracker
 * entry (O_DIRECT). A memory-misaligned request (or a heap buffer) is copied through a pooled
 * page-aligned bounce buffer. An offset/length-misaligned read reads the widened range; a
 * misaligned write is a read-modify-write over the widened range, marked serialising in the
 * {@link RangeTracker} so overlapping requests equal some serial order (§4.2). Bounces are split
 * into chunks of at most {@link RawImage#MAX_BOUNCE_BYTES}, so memory stays bounded for any
 * request size. pread/pwrite are looped on short transfers and EINTR; reads past the end of the
 * image return zeros.
 *
 * <p>Thread-safe: requests run concurrently on their callers' threads; the tracker's lock is
 * never held across a syscall.
 */
final class AlignedFileIo {
    private static final Logger LOG = LoggerFactory.getLogger(AlignedFileIo.class);
    private static final int MAX_BOUNCE_BYTES = RawImage.MAX_BOUNCE_BYTES;

    private final String file;
    private final int fd;
    private final long size;
    private final CacheMode mode;
    private final boolean readOnly;
    private final boolean blockDevice;
    final int requestAlignment;
    final int memoryAlignment;
    /** Null for buffered modes: with R = 1 nothing is ever read-modify-written. */
    private final RangeTracker tracker;
    private final AlignedBufferPool pool;
    /** The crash-consistency write log, or null (then the hooks cost a null check). */
    private final WriteLog writeLog;

    AlignedFileIo(RawImageOpener.OpenedImage image, AlignedBufferPool pool) {
        this.file = image.file();
        this.fd = image.fd();
        this.size = image.size();
        this.mode = image.mode();
        this.readOnly = image.readOnly();
        this.blockDevice = image.blockDevice();
        this.requestAlignment = image.alignment().request();
        this.memoryAlignment = image.alignment().memory();
        this.tracker = requestAlignment > 1 ? new RangeTracker() : null;
        this.pool = pool;
        this.writeLog = image.writeLog();
    }

    // ---------------------------------------------------------------------------------------
    // Reads

    int read(long offset, ByteBuffer dst, int position, int length) {
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: a read-only buffer (expected: a writable buffer)");
        }
        if (offset < 0 || offset > Long.MAX_VALUE - length) {
            return -Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long address = addressOf(dst);
        if (address != 0 && isAligned(address + position, offset, length)) {
            RangeTracker.Request req = track(offset, offset + length, false);
            try {
                return preadFully(address + position, length, offset);
            } finally {
                untrack(req);
            }
        }
        return bouncedRead(offset, dst, position, length, address == 0 ? "heap buffer" : "misaligned");
    }

    private int bouncedRead(long offset, ByteBuffer dst, int position, int length, String reason) {
        long end = offset + length;
        long alignedStart = alignDown(offset);
        long alignedEnd = alignUp(end);
        if (TraceEvent.BLK_BOUNCE.enabled) {
            Trace.emit(TraceEvent.BLK_BOUNCE, file, offset, (long) length, reason);
        }
        RangeTracker.Request req = track(alignedStart, alignedEnd, false);
        ByteBuf bounce = pool.acquire((int) Math.min(MAX_BOUNCE_BYTES, alignedEnd - alignedStart));
        try {
            long base = bounce.memoryAddress();
            long cur = offset;
            while (cur < end) {
                long chunkStart = alignDown(cur);
                long chunkEnd = Math.min(end, chunkStart + MAX_BOUNCE_BYTES);
                int n = (int) (alignUp(chunkEnd) - chunkStart);
                int r = preadFully(base, n, chunkStart);
                if (r < 0) {
                    return r;
                }
                int count = (int) (chunkEnd - cur);
                ByteBuffer view = bounce.internalNioBuffer((int) (cur - chunkStart), count);
                dst.put(position + (int) (cur - offset), view, view.position(), count);
                cur = chunkEnd;
            }
            return length;
        } finally {
            pool.release(bounce);
            untrack(req);
        }
    }

    /** Reads exactly {@code length} bytes, zero-filling past the end of the file. */
    int preadFully(long address, int length, long offset) {
        int done = 0;
        while (done < length) {
            long r;
            try {
                r = LibC.pread(fd, address + done, length - done, offset + done);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.EINVAL && mode.direct && done > 0) {
                    // A short O_DIRECT read left us at an unaligned offset: that is the end of file (§4.1).
                    r = 0;
                } else {
                    if (errno == Errno.EINVAL && mode.direct) {
                        LOG.error("{}: EINVAL from O_DIRECT pread at {} len {} addr 0x{} — an alignment the probe "
                                + "missed (internal bug)", file, offset, length, Long.toHexString(address));
                    }
                    return -errno;
                }
            }
            if (r == 0) {
                PlatformDependent.setMemory(address + done, length - done, (byte) 0);
                return length;
            }
            done += (int) r;
        }
        return length;
    }

    int write(long offset, ByteBuffer src, int position, int length) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        if (offset < 0 || offset > size - length) {
            return -Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long address = addressOf(src);
        boolean rangeAligned = ((offset | length) & (requestAlignment - 1)) == 0;
        int ret;
        if (rangeAligned && address != 0 && ((address + position) & (memoryAlignment - 1)) == 0) {
            RangeTracker.Request req = track(offset, offset + length, false);
            try {
                ret = pwriteFully(address + position, length, offset);
            } finally {
                untrack(req);
            }
        } else if (rangeAligned) {
            ret = bouncedWrite(offset, src, position, length, address == 0 ? "heap buffer" : "misaligned");
        } else {
            ret = readModifyWrite(offset, src, position, length);
        }
        return ret;
    }

    private int bouncedWrite(long offset, ByteBuffer src, int position, int length, String reason) {
        if (TraceEvent.BLK_BOUNCE.enabled) {
            Trace.emit(TraceEvent.BLK_BOUNCE, file, offset, (long) length, reason);
        }
        long end = offset + length;
        RangeTracker.Request req = track(offset, end, false);
        ByteBuf bounce = pool.acquire(Math.min(MAX_BOUNCE_BYTES, length));
        try {
            long base = bounce.memoryAddress();
            long cur = offset;
            while (cur < end) {
                int n = (int) Math.min(MAX_BOUNCE_BYTES, end - cur);
                ByteBuffer view = bounce.internalNioBuffer(0, n);
                view.put(view.position(), src, position + (int) (cur - offset), n);
                int r = pwriteFully(base, n, cur);
                if (r < 0) {
                    return r;
                }
                cur += n;
            }
            return length;
        } finally {
            pool.release(bounce);
            untrack(req);
        }
    }

    /**
     * A write whose offset or length is not a multiple of R: for each chunk read the partial
     * head and tail blocks, patch in the caller's bytes, write the widened range (§4.1). The whole
     * widened range is serialising, so no overlapping request runs between our read and write.
     */
    private int readModifyWrite(long offset, ByteBuffer src, int position, int length) {
        long end = offset + length;
        long alignedStart = alignDown(offset);
        long alignedEnd = alignUp(end);
        if (TraceEvent.BLK_RMW.enabled) {
            Trace.emit(TraceEvent.BLK_RMW, file, offset, (long) length, alignedStart, alignedEnd - alignedStart);
        }
        RangeTracker.Request req = track(alignedStart, alignedEnd, true);
        ByteBuf bounce = pool.acquire((int) Math.min(MAX_BOUNCE_BYTES, alignedEnd - alignedStart));
        try {
            long base = bounce.memoryAddress();
            long cur = offset;
            while (cur < end) {
                long chunkStart = alignDown(cur);
                long chunkEnd = Math.min(end, chunkStart + MAX_BOUNCE_BYTES);
                long chunkAlignedEnd = alignUp(chunkEnd);
                int n = (int) (chunkAlignedEnd - chunkStart);
                boolean headPartial = cur != chunkStart;
                boolean tailPartial = chunkEnd != chunkAlignedEnd;
                if (headPartial) {
                    int r = preadFully(base, requestAlignment, chunkStart);
                    if (r < 0) {
                        return r;
                    }
                }
                if (tailPartial && !(headPartial && n == requestAlignment)) {
                    int r = preadFully(base + n - requestAlignment, requestAlignment, chunkAlignedEnd - requestAlignment);
                    if (r < 0) {
                        return r;
                    }
                }
                int count = (int) (chunkEnd - cur);
                ByteBuffer view = bounce.internalNioBuffer((int) (cur - chunkStart), count);
                view.put(view.position(), src, position + (int) (cur - offset), count);
                int r = pwriteFully(base, n, chunkStart);
                if (r < 0) {
                    return r;
                }
                if (chunkAlignedEnd > size && !blockDevice) {
                    // The padded tail block reached past the end of an image whose size is not a
                    // multiple of R; keep the image size what the guest was told.
                    try {
                        LibC.ftruncate(fd, size);
                        if (writeLog != null) {
                            writeLog.ftruncate(size, 0);
                        }
                    } catch (LastErrorException e) {
                        if (writeLog != null) {
                            writeLog.ftruncate(size, -e.getErrorCode());
                        }
                        return -e.getErrorCode();
                    }
                }
                cur = chunkEnd;
            }
            return length;
        } finally {
            pool.release(bounce);
            untrack(req);
        }
    }

    /** Writes exactly {@code length} bytes; a write that makes no progress is -EIO. */
    int pwriteFully(long address, int length, long offset) {
        int done = 0;
        if (writeLog != null) {
            writeLog.beforePwrite(fd, offset, length);
        }
        while (done < length) {
            long r;
            try {
                r = LibC.pwrite(fd, address + done, length - done, offset + done);
                if (writeLog != null) {
                    writeLog.pwrite(offset + done, address + done, length - done, r);
                }
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (writeLog != null) {
                    writeLog.pwrite(offset + done, address + done, length - done, -errno);
                }
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.EINVAL && mode.direct && done == 0) {
                    LOG.error("{}: EINVAL from O_DIRECT pwrite at {} len {} addr 0x{} — an alignment the probe "
                            + "missed (internal bug)", file, offset, length, Long.toHexString(address));
                }
                return -errno;
            }
            if (r == 0) {
                return -Errno.EIO;
            }
            done += (int) r;
        }
        return length;
    }

    // ---------------------------------------------------------------------------------------
    // Alignment helpers

    private boolean isAligned(long address, long offset, int length) {
        return ((offset | length) & (requestAlignment - 1)) == 0 && (address & (memoryAlignment - 1)) == 0;
    }

    long alignDown(long value) {
        return value & -(long) requestAlignment;
    }

    long alignUp(long value) {
        return roundUp(value, requestAlignment);
    }

    static long roundUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    RangeTracker.Request track(long start, long end, boolean serialising) {
        return tracker == null ? null : tracker.begin(start, end, serialising);
    }

    void untrack(RangeTracker.Request req) {
        if (req != null) {
            tracker.end(req);
        }
    }

    /** Requests that had to wait for an overlapping one (tests check serialisation happened). */
    long serialisationWaits() {
        return tracker == null ? 0 : tracker.waits();
    }

    /** The native address of a direct buffer's index 0, or 0 for a heap buffer. */
    private static long addressOf(ByteBuffer buf) {
        if (!buf.isDirect()) {
            return 0;
        }
        if (PlatformDependent.hasUnsafe()) {
            return PlatformDependent.directBufferAddress(buf);
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(buf));
    }
}
