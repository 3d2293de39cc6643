package dev.ioemu.devices.block;

import dev.ioemu.devices.block.writelog.WriteLog;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RawImage}'s flush state (shared/spec/block.md §5.2, §5.3, §5.5): the write generation
 * that lets a flush with nothing new skip fdatasync, the serialised fdatasync, the sticky flush
 * error of a buffered image (fsyncgate), and in {@code fadvise} mode the range written since the
 * last drop, dropped from the page cache once the data is durable.
 *
 * <p>Threads: any. Lock order: {@link #flushLock}, then the leaf monitor {@link #touched}.
 */
final class FlushState {
    private static final Logger LOG = LoggerFactory.getLogger(RawImage.class);

    /**
     * The largest page-cache folio on x86-64 (PMD size): POSIX_FADV_DONTNEED leaves a folio that
     * the range covers only in part, so a drop is widened to this granule (block.md §5.5).
     */
    static final long PAGE_CACHE_FOLIO_MAX = 2L << 20;

    private final String file;
    private final int fd;
    private final CacheMode mode;
    private final RawImage.HostCalls host;
    /** The crash-consistency write log, or null. */
    private final WriteLog writeLog;

    /** Incremented when a write, discard or write-zeroes completes (§5.2). */
    private final AtomicLong writeGeneration = new AtomicLong();
    /** Serialises flushes; guards {@link #flushedGeneration} and {@link #stickyFlushErrno}. */
    private final ReentrantLock flushLock = new ReentrantLock();
    private long flushedGeneration;
    private int stickyFlushErrno;

    /** fadvise mode: hull of the bytes written since the last drop, and whether we read. */
    private final Object touched = new Object();
    private long touchedStart = Long.MAX_VALUE;
    private long touchedEnd = Long.MIN_VALUE;
    private volatile boolean readSinceDrop;

    private final AtomicLong hostFlushes = new AtomicLong();
    private final AtomicLong cacheDrops = new AtomicLong();
    private final AtomicLong cacheDropFailures = new AtomicLong();

    FlushState(String file, int fd, CacheMode mode, RawImage.HostCalls host, WriteLog writeLog) {
        this.writeLog = writeLog;
        this.file = file;
        this.fd = fd;
        this.mode = mode;
        this.host = host;
    }

    /** A write, discard or write-zeroes of {@code [offset, offset + length)} completed. */
    void wrote(long offset, long length) {
        writeGeneration.incrementAndGet();
        if (mode.dropAfterFlush) {
            synchronized (touched) {
                touchedStart = Math.min(touchedStart, offset);
                touchedEnd = Math.max(touchedEnd, offset + length);
            }
        }
    }

    /** A read ran: readahead may have cached pages beyond it, so the next drop is the whole file. */
    void read() {
        if (mode.dropAfterFlush) {
            readSinceDrop = true;
        }
    }

    long hostFlushes() {
        return hostFlushes.get();
    }

    long cacheDrops() {
        return cacheDrops.get();
    }

    long cacheDropFailures() {
        return cacheDropFailures.get();
    }

    int stickyFlushError() {
        flushLock.lock();
        try {
            return stickyFlushErrno;
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * A flush failed above the host call — an injected fault ({@link FaultInjection}) standing
     * for a failed fdatasync — so the same rule applies as to a real one: on a buffered image
     * every later flush fails with {@code errno}, whatever path (IDE FLUSH CACHE, an INT 13h
     * write's sync, ioemu-io) asks.
     */
    void flushFailedAbove(int errno) {
        if (mode.noFlush) {
            return;
        }
        flushLock.lock();
        try {
            latchLocked(errno);
        } finally {
            flushLock.unlock();
        }
    }

    /** The one latch rule (block.md §5.3, QEMU's page_cache_inconsistent): buffered images only, first errno kept. */
    private void latchLocked(int errno) {
        assert flushLock.isHeldByCurrentThread();
        if (mode.direct || stickyFlushErrno != 0) {
            // O_DIRECT: no page cache to be inconsistent, a later flush may honestly succeed.
            return;
        }
        // The kernel may have marked the failed pages clean: a later fdatasync would
        // "succeed" without the data on disk (fsyncgate, §5.3). Fail every later flush.
        stickyFlushErrno = errno;
        LOG.error("{}: flush failed with {}; every later flush of this image will fail", file, Errno.name(-errno));
        if (TraceEvent.BLK_FLUSH_ERROR_LATCHED.enabled) {
            Trace.emit(TraceEvent.BLK_FLUSH_ERROR_LATCHED, file, errno);
        }
    }

    /** fdatasync as the mode promises, then the fadvise drop; 0 or -errno (block.md §5.2-§5.5). */
    int flush() {
        if (mode.noFlush) {
            // cache=unsafe: the guest's flush completes at once and never reaches the disk.
            return 0;
        }
        flushLock.lock();
        try {
            if (stickyFlushErrno != 0) {
                return -stickyFlushErrno;
            }
            boolean dropWhole = false;
            long dropStart = 0;
            long dropEnd = 0;
            if (mode.dropAfterFlush) {
                // Snapshot before fdatasync: anything completed before this flush began is covered.
                dropWhole = readSinceDrop;
                readSinceDrop = false;
                synchronized (touched) {
                    dropStart = touchedStart;
                    dropEnd = touchedEnd;
                    touchedStart = Long.MAX_VALUE;
                    touchedEnd = Long.MIN_VALUE;
                }
            }
            long generation = writeGeneration.get();
            if (generation != flushedGeneration) {
                long t0 = System.nanoTime();
                int r;
                do {
                    if (writeLog != null) {
                        writeLog.syncBegin("fdatasync");
                    }
                    r = host.fdatasync(fd);
                    hostFlushes.incrementAndGet();
                    if (writeLog != null) {
                        writeLog.sync("fdatasync", r);
                    }
                } while (r == -Errno.EINTR);
                if (TraceEvent.BLK_HOST_FLUSH.enabled) {
                    Trace.emit(TraceEvent.BLK_HOST_FLUSH, file, generation, r, System.nanoTime() - t0);
                }
                if (r < 0) {
                    latchLocked(-r);
                    // Never drop pages after a failed fdatasync: the next read would return old disk data.
                    return r;
                }
                flushedGeneration = generation;
            }
            if (dropWhole) {
                dropCache(0, 0);
            } else if (dropEnd > dropStart) {
                // The kernel drops only folios lying wholly inside the range, and a folio of the
                // page cache can be up to PAGE_CACHE_FOLIO_MAX bytes: widen outward to that
                // granule so every page the writes touched goes (neighbouring clean pages go too,
                // dirty ones are skipped by the kernel, never lost).
                long start = dropStart & -PAGE_CACHE_FOLIO_MAX;
                long end = dropEnd > Long.MAX_VALUE - PAGE_CACHE_FOLIO_MAX ? Long.MAX_VALUE
                        : (dropEnd + PAGE_CACHE_FOLIO_MAX - 1) & -PAGE_CACHE_FOLIO_MAX;
                dropCache(start, end - start);
            }
            return 0;
        } finally {
            flushLock.unlock();
        }
    }

    void dropWholeCache() {
        dropCache(0, 0);
    }

    /**
     * A handover point (block.md §5.5 step 5, QEMU's drop-cache on migration): flush as the mode
     * promises, then drop every page of the image from the host page cache, so a party below the
     * cache sees all completed writes and our next reads see what it writes. Any buffered mode;
     * with O_DIRECT only the flush runs. Returns 0 or the flush's -errno (then nothing is dropped).
     */
    int dropPageCache() {
        int r = flush();
        if (r < 0 || mode.direct) {
            return r;
        }
        flushLock.lock();
        try {
            dropWholeCache();
        } finally {
            flushLock.unlock();
        }
        return 0;
    }

    private void dropCache(long offset, long length) {
        int err = host.fadviseDontneed(fd, offset, length);
        if (writeLog != null) {
            writeLog.fadviseDontneed(offset, length, err);
        }
        cacheDrops.incrementAndGet();
        if (err != 0) {
            // Data is durable; only below-cache coherence is weakened, so the flush succeeds (§5.5, §15 q2).
            cacheDropFailures.incrementAndGet();
            LOG.warn("{}: posix_fadvise(DONTNEED, {}, {}) failed with {}", file, offset, length, Errno.name(err));
        }
        if (TraceEvent.BLK_DROP_CACHE.enabled) {
            Trace.emit(TraceEvent.BLK_DROP_CACHE, file, offset, length, -err);
        }
    }
}
