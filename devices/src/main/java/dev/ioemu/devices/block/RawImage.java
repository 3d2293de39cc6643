package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.Statx;
import dev.ioemu.devices.host.LinuxFs;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A raw disk image — regular file or host block device — with QEMU's cache modes plus
 * {@code fadvise} (shared/spec/block.md §1, §2), on an aligned bounce-buffer layer (§3, §4).
 *
 * <p><b>Data path.</b> With O_DIRECT the image has a request alignment R and memory alignment M
 * ({@link AlignmentProbe}); buffered modes have R = M = 1. A request whose offset, length and
 * (direct) buffer address suit them goes to pread/pwrite in place — zero-copy, allocating nothing
 * (buffered) or one tracker entry (O_DIRECT). A
 * memory-misaligned request (or a heap buffer) is copied through a pooled page-aligned bounce
 * buffer. An offset/length-misaligned read reads the widened range; a misaligned write is a
 * read-modify-write over the widened range, marked serialising in the {@link RangeTracker} so
 * overlapping requests equal some serial order (§4.2). Bounces are split into chunks of at most
 * {@link #MAX_BOUNCE_BYTES}, so memory stays bounded for any request size. pread/pwrite are
 * looped on short transfers and EINTR; reads past the end of the image return zeros.
 *
 * <p><b>Flush</b> (§5.2, §5.3, §5.5): serialised; skipped (no fdatasync) when no write completed
 * since the last successful one; never reaches the disk with cache.no-flush ({@code unsafe});
 * fdatasync is retried only on EINTR; on a buffered image a failure is latched and every later
 * flush fails with the same errno. In {@code fadvise} mode a successful fdatasync is followed by
 * POSIX_FADV_DONTNEED over the range written since the last flush (the whole file if we read
 * anything, since readahead caches beyond the read), and the cache is dropped at open. With the
 * guest write cache off (writethrough, directsync, or {@link #setWriteCacheEnabled}(false)) each
 * write is followed by that flush before it returns — QEMU's FUA emulation (§1).
 *
 * <p><b>Threads.</b> All methods may run concurrently on any thread; each blocks its caller.
 * Lock order: {@link FlushState}'s locks; the tracker's lock is never held across a syscall or
 * with another lock.
 */
public final class RawImage implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(RawImage.class);

    /** Largest bounce buffer one request holds (its chunks reuse it). */
    static final int MAX_BOUNCE_BYTES = 1 << 20;

    /**
     * The two syscalls whose failure or count tests must observe without a failing disk:
     * fdatasync (0 or -errno) and POSIX_FADV_DONTNEED (0 or a positive error number).
     */
    interface HostCalls {
        int fdatasync(int fd);

        int fadviseDontneed(int fd, long offset, long length);
    }

    static final HostCalls LIBC_HOST_CALLS = new HostCalls() {
        @Override
        public int fdatasync(int fd) {
            try {
                return LibC.fdatasync(fd);
            } catch (LastErrorException e) {
                return -e.getErrorCode();
            }
        }

        @Override
        public int fadviseDontneed(int fd, long offset, long length) {
            return LibC.posix_fadvise(fd, offset, length, Fcntl.POSIX_FADV_DONTNEED);
        }
    };

    private final String file;
    private final int fd;
    private final long size;
    private final CacheMode mode;
    private final boolean readOnly;
    private final boolean blockDevice;
    /** Logical block size of a block device (BLKSSZGET), the unit of BLKDISCARD; 1 for files. */
    private final int logicalBlockSize;
    private final DiscardMode discardMode;
    private final int requestAlignment;
    private final int memoryAlignment;
    /** Null for buffered modes: with R = 1 nothing is ever read-modify-written. */
    private final RangeTracker tracker;
    private final AlignedBufferPool pool;
    private final HostCalls host;
    private final BlockStats stats = new BlockStats();

    private volatile boolean writeCacheEnabled;
    private volatile boolean closed;
    /** QEMU's BDRV_SECTOR_SIZE: image sizes are whole sectors. */
    private static final long SECTOR_SIZE = 512;

    /** Flush serialisation, the sticky flush error and the fadvise drop range. */
    private final FlushState flushState;

    private volatile boolean discardUnsupported;
    private volatile boolean zeroRangeUnsupported;

    private RawImage(String file, int fd, long size, CacheMode mode, boolean readOnly, boolean blockDevice,
                     int logicalBlockSize, DiscardMode discardMode, AlignmentProbe.Alignment alignment,
                     AlignedBufferPool pool, HostCalls host) {
        this.file = file;
        this.fd = fd;
        this.size = size;
        this.mode = mode;
        this.readOnly = readOnly;
        this.blockDevice = blockDevice;
        this.logicalBlockSize = logicalBlockSize;
        this.discardMode = discardMode;
        this.requestAlignment = alignment.request();
        this.memoryAlignment = alignment.memory();
        this.tracker = alignment.request() > 1 ? new RangeTracker() : null;
        this.pool = pool;
        this.host = host;
        this.flushState = new FlushState(file, fd, mode, host);
        this.writeCacheEnabled = mode.writeback;
    }

    /** Opens {@code options.file()} with the shared buffer pool and the real syscalls. */
    public static RawImage open(DriveOptions options) throws BlockOpenException {
        return open(options, AlignedBufferPool.shared(), LIBC_HOST_CALLS);
    }

    static RawImage open(DriveOptions options, AlignedBufferPool pool, HostCalls host) throws BlockOpenException {
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
            RawImage image = new RawImage(file, fd, size, mode, options.readOnly(), blockDevice, logicalBlockSize,
                    options.discard(), alignment, pool, host);
            if (mode.dropAfterFlush) {
                // Pages cached before we opened may be stale below-cache data (Virtual Iron's practice, §5.5).
                image.flushState.dropWholeCache();
            }
            if (TraceEvent.BLK_OPEN.enabled) {
                Trace.emit(TraceEvent.BLK_OPEN, file, mode, options.readOnly() ? 1 : 0, size, alignment.request(),
                        alignment.memory(), alignment.source());
            }
            return image;
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new BlockOpenException("Could not open '" + file + "': " + Errno.strerror(e.getErrorCode()), "",
                    e.getErrorCode());
        } catch (BlockOpenException | RuntimeException e) {
            closeQuietly(fd);
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

    private static BlockOpenException openError(String file, CacheMode mode, int errno) {
        if (errno == Errno.EINVAL && mode.direct) {
            return new BlockOpenException("Could not open '" + file + "': filesystem does not support O_DIRECT",
                    "Try cache.direct=off (e.g. cache=writeback or cache=fadvise)", errno);
        }
        String what = Errno.strerror(errno);
        String hint = errno == Errno.EACCES || errno == Errno.EROFS ? "Use readonly=on to open it read-only" : "";
        return new BlockOpenException("Could not open '" + file + "': " + what, hint, errno);
    }

    private static void closeQuietly(int fd) {
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            LOG.debug("close({}) failed: {}", fd, Errno.name(e.getErrorCode()));
        }
    }

    private static int ioctlInt(int fd, long request) {
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

    // ---------------------------------------------------------------------------------------
    // BlockDevice

    @Override
    public String name() {
        return file;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public CacheMode cacheMode() {
        return mode;
    }

    @Override
    public int requestAlignment() {
        return requestAlignment;
    }

    /** Buffer address alignment the zero-copy path needs (1 for buffered modes). */
    public int memoryAlignment() {
        return memoryAlignment;
    }

    @Override
    public boolean isWriteCacheEnabled() {
        return writeCacheEnabled;
    }

    @Override
    public void setWriteCacheEnabled(boolean enabled) {
        writeCacheEnabled = enabled;
    }

    @Override
    public BlockStats stats() {
        return stats;
    }

    /** fdatasync calls made so far (flushes skipped or ignored do not count). */
    public long hostFlushes() {
        return flushState.hostFlushes();
    }

    /** POSIX_FADV_DONTNEED calls made so far (fadvise mode), including the one at open. */
    public long cacheDrops() {
        return flushState.cacheDrops();
    }

    /** DONTNEED calls that returned an error (logged; the flush still succeeded, §5.5). */
    public long cacheDropFailures() {
        return flushState.cacheDropFailures();
    }

    /** The latched flush errno (positive), or 0 while flushes can still succeed. */
    public int stickyFlushError() {
        return flushState.stickyFlushError();
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        long t0 = System.nanoTime();
        int length = dst.remaining();
        int ret = readInternal(offset, dst, dst.position(), length);
        finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, ret, t0);
        return ret;
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int length = src.remaining();
        int ret = durableIfCacheOff(writeInternal(offset, src, src.position(), length));
        finish(BlockStats.Kind.WRITE, TraceEvent.BLK_WRITE, offset, length, ret, t0);
        return ret;
    }

    /**
     * The one place the guest's write cache matters: with it off, a successful write or
     * write-zeroes returns only once a flush made it durable (QEMU's FUA emulation, §1).
     */
    private int durableIfCacheOff(int ret) {
        if (ret >= 0 && !writeCacheEnabled) {
            int flushed = flushState.flush();
            if (flushed < 0) {
                return flushed;
            }
        }
        return ret;
    }

    @Override
    public int flush() {
        long t0 = System.nanoTime();
        int ret = flushState.flush();
        long nanos = System.nanoTime() - t0;
        stats.record(BlockStats.Kind.FLUSH, 0, ret, nanos);
        if (TraceEvent.BLK_FLUSH.enabled) {
            Trace.emit(TraceEvent.BLK_FLUSH, file, mode, ret, nanos);
        }
        return ret;
    }

    @Override
    public int discard(long offset, long length) {
        long t0 = System.nanoTime();
        int ret = discardInternal(offset, length);
        finish(BlockStats.Kind.DISCARD, TraceEvent.BLK_DISCARD, offset, length, ret, t0);
        return ret;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        long t0 = System.nanoTime();
        int ret = durableIfCacheOff(writeZeroesInternal(offset, length));
        finish(BlockStats.Kind.WRITE_ZEROES, TraceEvent.BLK_WRITE_ZEROES, offset, length, ret, t0);
        return ret;
    }

    /**
     * QEMU's {@code find_allocation} (shared/spec/block.md §9): SEEK_DATA from {@code offset}
     * finds whether it starts a hole (and where the hole ends) or data, then SEEK_HOLE finds
     * where the data ends. ENXIO means a trailing hole; any other failure, or a SEEK_HOLE that
     * contradicts SEEK_DATA (the file changed underneath), is "unknown" and reported as data.
     */
    @Override
    public BlockStatus blockStatus(long offset, long length) {
        if (offset < 0 || offset >= size || length <= 0) {
            throw new IllegalArgumentException("block status: offset " + offset + ", length " + length
                    + " (expected: 0 ≤ offset < " + size + ", length > 0)");
        }
        long end = offset + Math.min(length, size - offset);
        long dataStart;
        try {
            dataStart = LibC.lseek(fd, offset, Fcntl.SEEK_DATA);
        } catch (LastErrorException e) {
            boolean trailingHole = e.getErrorCode() == Errno.ENXIO;
            return new BlockStatus(offset, end - offset, !trailingHole);
        }
        if (dataStart > offset) {
            return new BlockStatus(offset, Math.min(dataStart, end) - offset, false);
        }
        long holeStart;
        try {
            holeStart = LibC.lseek(fd, offset, Fcntl.SEEK_HOLE);
        } catch (LastErrorException e) {
            return new BlockStatus(offset, end - offset, true);
        }
        long dataEnd = holeStart > offset ? Math.min(holeStart, end) : end;
        return new BlockStatus(offset, dataEnd - offset, true);
    }

    /** st_blocks × 512, as {@code qemu-img info} reports "disk size"; -1 if fstat fails. */
    @Override
    public long allocatedSize() {
        try {
            return Statx.of(fd).allocatedBytes();
        } catch (LastErrorException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(fd);
    }

    private void finish(BlockStats.Kind kind, TraceEvent event, long offset, long length, int ret, long t0) {
        long nanos = System.nanoTime() - t0;
        stats.record(kind, length, ret, nanos);
        if (event.enabled) {
            Trace.emit(event, file, mode, offset, length, ret, nanos);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Reads

    private int readInternal(long offset, ByteBuffer dst, int position, int length) {
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: a read-only buffer (expected: a writable buffer)");
        }
        if (offset < 0 || offset > Long.MAX_VALUE - length) {
            return -Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        if (mode.dropAfterFlush) {
            flushState.read();
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
    private int preadFully(long address, int length, long offset) {
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

    // ---------------------------------------------------------------------------------------
    // Writes

    private int writeInternal(long offset, ByteBuffer src, int position, int length) {
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
        if (ret >= 0) {
            writeCompleted(offset, length);
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
                    } catch (LastErrorException e) {
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
    private int pwriteFully(long address, int length, long offset) {
        int done = 0;
        while (done < length) {
            long r;
            try {
                r = LibC.pwrite(fd, address + done, length - done, offset + done);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
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

    private void writeCompleted(long offset, long length) {
        flushState.wrote(offset, length);
    }

    // ---------------------------------------------------------------------------------------
    // Flush

    /**
     * A handover point (block.md §5.5 step 5, QEMU's drop-cache on migration): flush as the mode
     * promises, then drop every page of the image from the host page cache, so a party below the
     * cache sees all completed writes and our next reads see what it writes. Any buffered mode;
     * with O_DIRECT only the flush runs. Returns 0 or the flush's -errno (then nothing is dropped).
     */
    public int dropPageCache() {
        return flushState.dropPageCache();
    }

    // ---------------------------------------------------------------------------------------
    // Discard and write-zeroes

    private int discardInternal(long offset, long length) {
        if (discardMode == DiscardMode.IGNORE) {
            return 0;
        }
        if (readOnly) {
            return -Errno.EROFS;
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            return -Errno.EINVAL;
        }
        if (length == 0 || discardUnsupported) {
            return 0;
        }
        RangeTracker.Request req = track(alignDown(offset), alignUp(offset + length), false);
        int r;
        try {
            if (blockDevice) {
                // BLKDISCARD needs logical-block units; discard is advisory, so shrink to whole blocks.
                long start = roundUp(offset, logicalBlockSize);
                long end = (offset + length) & -(long) logicalBlockSize;
                r = end > start ? blockRangeIoctl(LinuxFs.BLKDISCARD, start, end - start) : 0;
            } else {
                r = fallocate(Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, offset, length);
            }
        } finally {
            untrack(req);
        }
        if (isUnsupported(r)) {
            discardUnsupported = true;
            LOG.info("{}: discard not supported ({}); later discards are ignored", file, Errno.name(r));
            return 0;
        }
        if (r >= 0) {
            writeCompleted(offset, length);
        }
        return r;
    }

    private int writeZeroesInternal(long offset, long length) {
        if (readOnly) {
            return -Errno.EROFS;
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            return -Errno.EINVAL;
        }
        if (length == 0) {
            return 0;
        }
        long end = offset + length;
        long alignedStart = alignUp(offset);
        long alignedEnd = alignDown(end);
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
        writeCompleted(alignedStart, alignedEnd - alignedStart);
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
            int r = writeInternal(offset, view, 0, (int) length);
            return Math.min(r, 0);
        } finally {
            pool.release(zeros);
        }
    }

    /** An R-aligned range: the cheapest way the host offers, down to writing zeros (§6.3). */
    private int zeroAligned(long offset, long length) {
        RangeTracker.Request req = track(offset, offset + length, false);
        try {
            if (!blockDevice) {
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
                        LOG.debug("{}: re-allocating zeroed range failed with {}", file, Errno.name(realloc));
                    }
                    return 0;
                }
            } else if (mode.direct) {
                // Buffered block devices are excluded: BLKZEROOUT left stale page-cache data (§6.3).
                if (blockRangeIoctl(LinuxFs.BLKZEROOUT, offset, length) == 0) {
                    return 0;
                }
            }
            return writeZeroChunks(offset, length);
        } finally {
            untrack(req);
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
                int r = pwriteFully(zeros.memoryAddress(), n, cur);
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
                return LibC.fallocate(fd, fallocMode, offset, length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    return -e.getErrorCode();
                }
            }
        }
    }

    private int blockRangeIoctl(long request, long offset, long length) {
        Memory range = new Memory(16);
        range.setLong(0, offset);
        range.setLong(8, length);
        try {
            return LibC.ioctl(fd, request, Pointer.nativeValue(range));
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    private static boolean isUnsupported(int r) {
        return r == -Errno.EOPNOTSUPP || r == -Errno.ENOSYS || r == -Errno.ENODEV || r == -Errno.ENOTTY;
    }

    // ---------------------------------------------------------------------------------------
    // Alignment helpers

    private boolean isAligned(long address, long offset, int length) {
        return ((offset | length) & (requestAlignment - 1)) == 0 && (address & (memoryAlignment - 1)) == 0;
    }

    private long alignDown(long value) {
        return value & -(long) requestAlignment;
    }

    private long alignUp(long value) {
        return roundUp(value, requestAlignment);
    }

    private static long roundUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private RangeTracker.Request track(long start, long end, boolean serialising) {
        return tracker == null ? null : tracker.begin(start, end, serialising);
    }

    private void untrack(RangeTracker.Request req) {
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
