package dev.ioemu.devices.block;

import com.sun.jna.LastErrorException;
import dev.ioemu.devices.block.writelog.WriteLog;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Statx;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;

/**
 * A raw disk image — regular file or host block device — with QEMU's cache modes plus
 * {@code fadvise} (shared/spec/block.md §1, §2): the {@link BlockDevice} face over the parts that
 * do the work, each one responsibility —
 * <ul>
 *   <li>{@link RawImageOpener}: open, probe (file or device, size, O_DIRECT alignment), lock;</li>
 *   <li>{@link AlignedFileIo}: reads and writes, zero-copy when aligned, else bounced or
 *       read-modify-written (§3, §4);</li>
 *   <li>{@link ZeroingFallbacks}: discard and write-zeroes with the host's fallbacks (§6);</li>
 *   <li>{@link FlushState}: flush (§5.2, §5.3, §5.5) — serialised, skipped when nothing was
 *       written, ignored with cache.no-flush, a failure latched on a buffered image, and in
 *       {@code fadvise} mode the written range dropped from the host page cache afterwards.</li>
 * </ul>
 * With the guest write cache off (writethrough, directsync, or {@link #setWriteCacheEnabled}(false))
 * each write and write-zeroes is followed by that flush before it returns — QEMU's FUA emulation
 * (§1), in one place ({@link #durableIfCacheOff}). Here too: statistics and trace events.
 *
 * <p><b>Threads.</b> All methods may run concurrently on any thread; each blocks its caller.
 * Lock order: {@link FlushState}'s locks; the tracker's lock is never held across a syscall or
 * with another lock.
 */
public final class RawImage implements BlockDevice {
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
    private final BlockStats stats = new BlockStats();
    /** Reads and writes at the image's alignment: zero-copy, bounced or read-modify-write. */
    private final AlignedFileIo io;
    /** Discard and write-zeroes with their host fallbacks. */
    private final ZeroingFallbacks zeroing;
    /** Flush serialisation, the sticky flush error and the fadvise drop range. */
    private final FlushState flushState;

    /** The crash-consistency write log ({@code x-write-log}), or null. */
    private final WriteLog writeLog;

    private volatile boolean writeCacheEnabled;
    private volatile boolean closed;

    RawImage(RawImageOpener.OpenedImage image, AlignedBufferPool pool, HostCalls host) {
        this.file = image.file();
        this.fd = image.fd();
        this.size = image.size();
        this.mode = image.mode();
        this.readOnly = image.readOnly();
        this.io = new AlignedFileIo(image, pool);
        this.writeLog = image.writeLog();
        this.flushState = new FlushState(file, fd, mode, host, writeLog);
        this.zeroing = new ZeroingFallbacks(image, io, pool, flushState::wrote);
        this.writeCacheEnabled = mode.writeback;
    }

    /** Opens {@code options.file()} with the shared buffer pool and the real syscalls. */
    public static RawImage open(DriveOptions options) throws BlockOpenException {
        return open(options, AlignedBufferPool.shared(), LIBC_HOST_CALLS);
    }

    /** Opens with an injected pool and syscalls (tests); see {@link RawImageOpener}. */
    static RawImage open(DriveOptions options, AlignedBufferPool pool, HostCalls host) throws BlockOpenException {
        return RawImageOpener.open(options, pool, host);
    }

    /** fadvise mode at open: pages cached before we opened may be stale below-cache data (§5.5). */
    void dropWholeCacheAtOpen() {
        flushState.dropWholeCache();
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
        return io.requestAlignment;
    }

    /** Buffer address alignment the zero-copy path needs (1 for buffered modes). */
    public int memoryAlignment() {
        return io.memoryAlignment;
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

    @Override
    public void flushFailedAbove(int errno) {
        flushState.flushFailedAbove(errno);
    }

    /** The latched flush errno (positive), or 0 while flushes can still succeed. */
    public int stickyFlushError() {
        return flushState.stickyFlushError();
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        long t0 = System.nanoTime();
        int length = dst.remaining();
        if (mode.dropAfterFlush) {
            // fadvise: a read caches pages beyond the written range, so the next drop takes all.
            flushState.read();
        }
        int ret = io.read(offset, dst, dst.position(), length);
        finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, ret, t0);
        return ret;
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int length = src.remaining();
        long logId = writeLog == null ? 0
                : writeLog.guestRequest(WriteLog.Kind.WRITE, offset, length, src, !writeCacheEnabled);
        int ret = io.write(offset, src, src.position(), length);
        if (ret >= 0) {
            flushState.wrote(offset, length);
        }
        ret = durableIfCacheOff(ret);
        if (writeLog != null) {
            writeLog.guestDone(logId, ret, false);
        }
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
        long logId = writeLog == null ? 0 : writeLog.guestRequest(WriteLog.Kind.FLUSH, 0, 0, null);
        int ret = flushState.flush();
        if (writeLog != null) {
            writeLog.guestDone(logId, ret, true);
        }
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
        long logId = writeLog == null ? 0 : writeLog.guestRequest(WriteLog.Kind.DISCARD, offset, length, null);
        int ret = zeroing.discard(offset, length);
        if (writeLog != null) {
            writeLog.guestDone(logId, ret, false);
        }
        finish(BlockStats.Kind.DISCARD, TraceEvent.BLK_DISCARD, offset, length, ret, t0);
        return ret;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        long t0 = System.nanoTime();
        long logId = writeLog == null ? 0
                : writeLog.guestRequest(WriteLog.Kind.ZEROES, offset, length, null, !writeCacheEnabled);
        int ret = durableIfCacheOff(zeroing.writeZeroes(offset, length));
        if (writeLog != null) {
            writeLog.guestDone(logId, ret, false);
        }
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
        RawImageOpener.closeQuietly(fd);
        if (writeLog != null) {
            writeLog.close();
        }
    }

    private void finish(BlockStats.Kind kind, TraceEvent event, long offset, long length, int ret, long t0) {
        long nanos = System.nanoTime() - t0;
        stats.record(kind, length, ret, nanos);
        if (event.enabled) {
            Trace.emit(event, file, mode, offset, length, ret, nanos);
        }
    }

    /**
     * A handover point (block.md §5.5 step 5, QEMU's drop-cache on migration): flush as the mode
     * promises, then drop every page of the image from the host page cache, so a party below the
     * cache sees all completed writes and our next reads see what it writes. Any buffered mode;
     * with O_DIRECT only the flush runs. Returns 0 or the flush's -errno (then nothing is dropped).
     */
    public int dropPageCache() {
        return flushState.dropPageCache();
    }

    /** Requests that had to wait for an overlapping one (tests check serialisation happened). */
    long serialisationWaits() {
        return io.serialisationWaits();
    }
}
