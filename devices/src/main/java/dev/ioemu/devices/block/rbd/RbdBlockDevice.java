package dev.ioemu.devices.block.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.ioemu.devices.block.AlignedBufferPool;
import dev.ioemu.devices.block.BlockCompletion;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.BlockStatus;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DiscardMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A disk image in a Ceph cluster, reached through librbd (shared/spec/nbd.md §4): the block
 * layer's operations become {@code rbd_aio_*} requests whose callbacks wake the caller
 * ({@link RbdCompletions}), so devices cannot tell it from a local file.
 *
 * <p><b>Cache modes</b> map onto librbd's cache as QEMU 7.2's {@code qemu_rbd_connect} maps them:
 * {@code rbd_cache=true} unless the mode opens the image directly ({@code none},
 * {@code directsync}: {@code rbd_cache=false}, so a completed write is already on the OSDs).
 * With the cache on, a completed write may live only in this process (librbd writeback; until
 * the first flush librbd stays writethrough, {@code rbd_cache_writethrough_until_flush}), and only
 * a completed {@code rbd_aio_flush} makes earlier completed writes durable (§4.4), so:
 * <ul>
 *   <li>flush → {@code rbd_aio_flush}, completed only from its callback; a failure is returned
 *       and latched (every later flush fails with it: what the cache lost cannot be promised
 *       durable again);</li>
 *   <li>writethrough, or the guest's write cache off (IDE WCE=0), with the cache on: each write is
 *       followed by {@code rbd_aio_flush} before it completes (QEMU's FUA emulation — librbd has no
 *       FUA); with the cache off nothing more is needed;</li>
 *   <li>{@code unsafe}: cache on, flushes ignored (QEMU's {@code cache.no-flush}); {@code fadvise}
 *       has no RBD meaning and behaves as {@code writeback}.</li>
 * </ul>
 * Reads past the end return zeros, writes past it {@code -EINVAL}; {@code discard=unmap} sends
 * {@code rbd_aio_discard}, else discard is a no-op; write-zeroes is {@code rbd_aio_write_zeroes},
 * thick-provisioned unless unmapping is allowed, as QEMU does. Errors are librbd's negative errno
 * values, returned as they come.
 *
 * <p>Buffers: a direct buffer is handed to librbd in place (librbd needs no alignment); a heap
 * buffer goes through a pooled bounce buffer. Either stays referenced until the callback ran.
 *
 * <p>Threads: any number of threads may call at once, each waits for its own request; close waits
 * for running requests (a read/write lock: requests share it, close takes it exclusively).
 * Asynchronous submission ({@link #readAsync}, {@link #writeAsync}, {@link #flushAsync}; direct
 * buffers inside the image) passes librbd's callback straight to the caller's completion, on
 * librbd's thread, so one thread can keep many requests in flight without a thread per request;
 * close waits for those callbacks too.
 *
 * <p>Block status is librbd's object map through {@code rbd_diff_iterate2}, as QEMU 7.2 reads it
 * ({@link #blockStatus}), so {@code ioemu-img map} and a sparse {@code convert} see what
 * qemu-img sees.
 */
public final class RbdBlockDevice implements BlockDevice {
    private static final Logger LOG = LoggerFactory.getLogger(RbdBlockDevice.class);
    /** Largest bounce for a heap buffer; bigger requests go in pieces. */
    private static final int MAX_BOUNCE = 1 << 20;

    private final String name;
    private final RadosSession session;
    private final long image;
    private final long size;
    private final long objectSize;
    private final CacheMode mode;
    private final boolean rbdCache;
    private final boolean readOnly;
    private final DiscardMode discard;
    private final BlockStats stats = new BlockStats();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private volatile boolean writeCache;
    private volatile boolean closed;
    /** 0, or the negative errno of the first failed flush (sticky). */
    private volatile int flushError;

    private RbdBlockDevice(String name, RadosSession session, long image, long size, long objectSize,
                           DriveOptions options, boolean rbdCache) {
        this.name = name;
        this.session = session;
        this.image = image;
        this.size = size;
        this.objectSize = objectSize;
        this.mode = options.cache();
        this.rbdCache = rbdCache;
        this.readOnly = options.readOnly();
        this.discard = options.discard();
        this.writeCache = options.cache().writeback;
    }

    /** Whether librbd's cache is on for this cache mode (QEMU: on unless cache.direct). */
    public static boolean rbdCacheFor(CacheMode mode) {
        return !mode.direct;
    }

    /**
     * Connects to the cluster and opens the image {@code options.file()} names
     * ({@code rbd:POOL/IMAGE…}, see {@link RbdSpec}).
     *
     * @throws BlockOpenException one line: "rbd: librbd not available", "rbd: error connecting:
     *         Connection timed out", "rbd: error opening pool nopool: No such file or directory",
     *         "rbd: error reading header from rbd/x: No such file or directory", …
     */
    public static BlockDevice open(DriveOptions options) throws BlockOpenException {
        RbdSpec spec;
        try {
            spec = RbdSpec.parse(options.file());
        } catch (IllegalArgumentException e) {
            throw new BlockOpenException(e.getMessage(), "", Errno.EINVAL);
        }
        if (spec.snapshot() != null && !options.readOnly()) {
            throw new BlockOpenException("rbd: " + spec.displayName() + ": rbd snapshots are always read-only",
                    "Use readonly=on", Errno.EROFS);
        }
        boolean rbdCache = rbdCacheFor(options.cache());
        RadosSession session = RadosSession.connect(spec, Map.of("rbd_cache", Boolean.toString(rbdCache)));
        boolean ok = false;
        try {
            Memory out = new Memory(Long.BYTES);
            out.setLong(0, 0);
            int r = options.readOnly()
                    ? Librbd.rbd_open_read_only(session.ioctx(), spec.image(), Pointer.nativeValue(out), spec.snapshot())
                    : Librbd.rbd_open(session.ioctx(), spec.image(), Pointer.nativeValue(out), spec.snapshot());
            if (r < 0) {
                throw RadosSession.failure("error reading header from " + spec.displayName(), r,
                        r == -Errno.ENOENT ? "Is the image name right? 'rbd ls " + spec.pool() + "' lists the pool's images" : "");
            }
            long image = out.getLong(0);
            Librbd.rbd_image_info_t info = new Librbd.rbd_image_info_t();
            r = Librbd.rbd_stat(image, Pointer.nativeValue(info.getPointer()), info.size());
            if (r < 0) {
                Librbd.rbd_close(image);
                throw RadosSession.failure("error getting image info from " + spec.displayName(), r, "");
            }
            info.read();
            RbdBlockDevice dev = new RbdBlockDevice(options.file(), session, image, info.size, info.obj_size, options,
                    rbdCache);
            ok = true;
            LOG.debug("{}: {} bytes, {}-byte objects, rbd_cache={}", spec.displayName(), info.size, info.obj_size,
                    rbdCache);
            if (TraceEvent.BLK_OPEN.enabled) {
                Trace.emit(TraceEvent.BLK_OPEN, dev.name, dev.mode, dev.readOnly ? 1 : 0, dev.size, 1, 1, "rbd");
            }
            return dev;
        } finally {
            if (!ok) {
                session.close();
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    /** The image's object size (4 MiB by default), from {@code rbd_stat}. */
    public long objectSize() {
        return objectSize;
    }

    /** Whether librbd caches writes in this process ({@code rbd_cache}). */
    public boolean rbdCache() {
        return rbdCache;
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
        return 1;
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: a read-only buffer (expected: a writable buffer)");
        }
        long t0 = System.nanoTime();
        int length = dst.remaining();
        int r;
        if (offset < 0 || offset > Long.MAX_VALUE - length) {
            r = -Errno.EINVAL;
        } else {
            int inside = (int) Math.max(0, Math.min(length, size - offset));
            for (int i = inside; i < length; i++) {
                dst.put(dst.position() + i, (byte) 0);
            }
            r = inside == 0 ? length : transfer(false, offset, dst, dst.position(), inside);
            r = r < 0 ? r : length;
        }
        finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, r, t0);
        return r;
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int length = src.remaining();
        int r;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (offset < 0 || offset > size - length) {
            r = -Errno.EINVAL;
        } else {
            r = length == 0 ? 0 : transfer(true, offset, src, src.position(), length);
            if (r >= 0 && rbdCache && (!writeCache || !mode.writeback)) {
                int f = aioFlush();
                r = f < 0 ? f : r;
            }
        }
        finish(BlockStats.Kind.WRITE, TraceEvent.BLK_WRITE, offset, length, r, t0);
        return r;
    }

    @Override
    public int flush() {
        long t0 = System.nanoTime();
        int r;
        if (readOnly || mode.noFlush) {
            r = 0;
        } else if (flushError != 0) {
            r = flushError;
        } else {
            r = aioFlush();
            if (r < 0) {
                flushError = r;
                if (TraceEvent.BLK_FLUSH_ERROR_LATCHED.enabled) {
                    Trace.emit(TraceEvent.BLK_FLUSH_ERROR_LATCHED, name, -r);
                }
            }
        }
        long nanos = System.nanoTime() - t0;
        stats.record(BlockStats.Kind.FLUSH, 0, r, nanos);
        if (TraceEvent.BLK_FLUSH.enabled) {
            Trace.emit(TraceEvent.BLK_FLUSH, name, mode, r, nanos);
        }
        return r;
    }

    @Override
    public int discard(long offset, long length) {
        long t0 = System.nanoTime();
        int r;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (offset < 0 || length < 0 || offset > size - length) {
            r = -Errno.EINVAL;
        } else if (discard == DiscardMode.UNMAP && length > 0) {
            r = submit(Op.DISCARD, offset, length, 0, 0);
            r = r < 0 ? r : 0;
        } else {
            r = 0;
        }
        finish(BlockStats.Kind.DISCARD, TraceEvent.BLK_DISCARD, offset, length, r, t0);
        return r;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        long t0 = System.nanoTime();
        int r;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (offset < 0 || length < 0 || offset > size - length) {
            r = -Errno.EINVAL;
        } else if (length == 0) {
            r = 0;
        } else {
            int zeroFlags = discard == DiscardMode.UNMAP ? 0 : Librbd.RBD_WRITE_ZEROES_FLAG_THICK_PROVISION;
            r = submit(Op.WRITE_ZEROES, offset, length, 0, zeroFlags);
            if (r >= 0 && rbdCache && (!writeCache || !mode.writeback)) {
                r = aioFlush();
            }
            r = r < 0 ? r : 0;
        }
        finish(BlockStats.Kind.WRITE_ZEROES, TraceEvent.BLK_WRITE_ZEROES, offset, length, r, t0);
        return r;
    }

    /** Reads and writes of direct buffers and flushes are {@code rbd_aio_*} calls completed by librbd's callback. */
    @Override
    public boolean hasAsyncSubmit() {
        return true;
    }

    @Override
    public void readAsync(long offset, ByteBuffer dst, BlockCompletion done) {
        int length = dst.remaining();
        if (dst.isReadOnly() || !dst.isDirect() || length == 0 || offset < 0 || offset > size - length) {
            done.complete(read(offset, dst)); // refused, bounced or past the end: the blocking path
            return;
        }
        long t0 = System.nanoTime();
        int position = dst.position();
        submitAsync(Op.READ, offset, length, address(dst) + position, r -> {
            int ret = r < 0 ? errno(r) : length;
            if (r >= 0 && r < length) {
                zeroFrom(dst, position + (int) r, length - (int) r);
            }
            finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, ret, t0);
            done.complete(ret);
        }, () -> done.complete(read(offset, dst)));
    }

    @Override
    public void writeAsync(long offset, ByteBuffer src, BlockCompletion done) {
        int length = src.remaining();
        if (readOnly || !src.isDirect() || length == 0 || offset < 0 || offset > size - length
                || rbdCache && (!writeCache || !mode.writeback)) {
            done.complete(write(offset, src)); // refused, bounced, or write + flush: the blocking path
            return;
        }
        long t0 = System.nanoTime();
        submitAsync(Op.WRITE, offset, length, address(src) + src.position(), r -> {
            int ret = r < 0 ? errno(r) : length;
            finish(BlockStats.Kind.WRITE, TraceEvent.BLK_WRITE, offset, length, ret, t0);
            done.complete(ret);
        }, () -> done.complete(write(offset, src)));
    }

    @Override
    public void flushAsync(BlockCompletion done) {
        if (readOnly || mode.noFlush || flushError != 0) {
            done.complete(flush());
            return;
        }
        long t0 = System.nanoTime();
        submitAsync(Op.FLUSH, 0, 0, 0, r -> {
            int ret = r < 0 ? errno(r) : 0;
            if (ret < 0 && flushError == 0) {
                flushError = ret;
                if (TraceEvent.BLK_FLUSH_ERROR_LATCHED.enabled) {
                    Trace.emit(TraceEvent.BLK_FLUSH_ERROR_LATCHED, name, -ret);
                }
            }
            long nanos = System.nanoTime() - t0;
            stats.record(BlockStats.Kind.FLUSH, 0, ret, nanos);
            if (TraceEvent.BLK_FLUSH.enabled) {
                Trace.emit(TraceEvent.BLK_FLUSH, name, mode, ret, nanos);
            }
            done.complete(ret);
        }, () -> done.complete(flush()));
    }

    /**
     * Allocation status from librbd's object map, as QEMU 7.2's {@code qemu_rbd_co_block_status}
     * reads it: {@code rbd_diff_iterate2} from the image's creation (no snapshot), parent
     * included, whole objects. An extent in no allocated object reads as zeros (a hole); an
     * allocated object is data. Without {@code fast-diff}, or with it marked invalid, everything
     * is data (QEMU's "unknown"). librbd before 1.17 reports wrong offsets for a start that is not
     * object-aligned (Ceph tracker 53784), so, as QEMU does, the query starts at the object
     * boundary and images where that is not enough (non-default striping, clones) are all data.
     */
    @Override
    public BlockStatus blockStatus(long offset, long length) {
        if (offset < 0 || offset >= size || length <= 0) {
            return BlockDevice.super.blockStatus(offset, length); // throws with the contract's message
        }
        long n = Math.min(length, size - offset);
        BlockStatus unknown = new BlockStatus(offset, n, true);
        if (!lifecycle.readLock().tryLock()) {
            return unknown;
        }
        try (Memory out = new Memory(Long.BYTES)) {
            if (closed || Librbd.rbd_get_features(image, Pointer.nativeValue(out)) < 0) {
                return unknown;
            }
            long features = out.getLong(0);
            if ((features & Librbd.RBD_FEATURE_FAST_DIFF) == 0) {
                return unknown;
            }
            if (Librbd.rbd_get_flags(image, Pointer.nativeValue(out)) < 0
                    || (out.getLong(0) & Librbd.RBD_FLAG_FAST_DIFF_INVALID) != 0) {
                return unknown;
            }
            long head = 0;
            if (DIFF_OFFSET_BUG) {
                if ((features & Librbd.RBD_FEATURE_STRIPINGV2) != 0
                        || Librbd.rbd_get_parent_info(image, 0, 0, 0, 0, 0, 0) != -Errno.ENOENT) {
                    return unknown;
                }
                head = offset % objectSize;
            }
            DiffScan scan = new DiffScan(offset - head);
            long id = DIFF_IDS.incrementAndGet();
            DIFF_SCANS.put(id, scan);
            int r;
            try {
                r = Librbd.rbd_diff_iterate2(image, null, offset - head, n + head, (byte) 1, (byte) 1, DIFF_CALLBACK, id);
            } finally {
                DIFF_SCANS.remove(id);
            }
            synchronized (scan) {
                if (r < 0 && r != DiffScan.STOP) {
                    return unknown;
                }
                long bytes = scan.exists || r != 0 ? scan.bytes : n + head;
                if (bytes <= head) {
                    return unknown; // cannot happen with whole objects; never report less than asked about
                }
                return new BlockStatus(offset, Math.min(bytes - head, n), scan.exists);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** QEMU's {@code RBDDiffIterateReq}: the run of equal allocation that starts at {@code offs}. */
    private static final class DiffScan {
        /** The callback's "stop here" (QEMU's QEMU_RBD_EXIT_DIFF_ITERATE2). */
        static final int STOP = -9000;
        final long offs;
        long bytes;
        boolean exists;

        DiffScan(long offs) {
            this.offs = offs;
        }

        synchronized int extent(long at, long len, boolean allocated) {
            if (!allocated) {
                return 0; // a hole in a diff against a snapshot: unallocated, no callback for those
            }
            if (!exists && at > offs) {
                bytes = at - offs; // the hole before the first allocated extent
                return STOP;
            }
            if (exists && at > offs + bytes) {
                return STOP; // a hole after the data run
            }
            bytes += len;
            exists = true;
            return 0;
        }
    }

    private static final java.util.concurrent.ConcurrentHashMap<Long, DiffScan> DIFF_SCANS =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicLong DIFF_IDS = new java.util.concurrent.atomic.AtomicLong();
    /** Strong reference: one callback object for every scan. */
    private static final Librbd.rbd_diff_iterate_cb DIFF_CALLBACK = (offs, len, exists, arg) -> {
        DiffScan scan = DIFF_SCANS.get(arg);
        return scan == null ? DiffScan.STOP : scan.extent(offs, len, exists != 0);
    };
    /** librbd before 1.17 (Ceph tracker 53784): diffs from an offset inside an object are misreported. */
    private static final boolean DIFF_OFFSET_BUG = librbdBefore117();

    private static boolean librbdBefore117() {
        if (RbdLibrary.failure() != null) {
            return true;
        }
        try (Memory v = new Memory(3 * Integer.BYTES)) {
            long base = Pointer.nativeValue(v);
            Librbd.rbd_version(base, base + 4, base + 8);
            int major = v.getInt(0);
            int minor = v.getInt(4);
            return major < 1 || major == 1 && minor < 17;
        }
    }

    @Override
    public boolean isWriteCacheEnabled() {
        return writeCache;
    }

    @Override
    public void setWriteCacheEnabled(boolean enabled) {
        writeCache = enabled;
    }

    @Override
    public BlockStats stats() {
        return stats;
    }

    /**
     * Waits for running requests, then closes the image (librbd writes back its cache on close;
     * a failure there is logged, since nothing is left to report it to) and the cluster handle.
     */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            // Asynchronous requests hold no lock: wait for their callbacks before the image goes.
            while (asyncInFlight.get() > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            int r = Librbd.rbd_close(image);
            if (r < 0) {
                LOG.error("{}: rbd_close: {} (writes since the last flush may be lost)", name,
                        RadosSession.strerror(r));
            }
            session.close();
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    // -----------------------------------------------------------------------------------------

    private enum Op { READ, WRITE, DISCARD, WRITE_ZEROES, FLUSH }

    /** Requests sent with {@link #submitAsync} whose continuation has not finished; close waits for them. */
    private final java.util.concurrent.atomic.AtomicInteger asyncInFlight = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Submits one request without waiting: {@code then} runs on a librbd thread with bytes (reads)
     * or 0, else -errno; {@code blocking} runs instead, on a helper thread, when every completion
     * slot is busy (an asynchronous caller never waits for one). The memory at {@code address}
     * must stay valid until {@code then} has run.
     */
    private void submitAsync(Op op, long offset, long length, long address, java.util.function.LongConsumer then,
                             Runnable blocking) {
        if (!lifecycle.readLock().tryLock()) {
            then.accept(-Errno.EIO); // closing
            return;
        }
        try {
            if (closed) {
                then.accept(-Errno.EIO);
                return;
            }
            RbdCompletions.Slot slot = RbdCompletions.tryAcquire();
            if (slot == null) {
                java.util.concurrent.ForkJoinPool.commonPool().execute(blocking);
                return;
            }
            asyncInFlight.incrementAndGet();
            long c = slot.createCompletion(r -> {
                try {
                    then.accept(op == Op.READ ? Math.min(r, length) : Math.min(r, 0));
                } finally {
                    asyncInFlight.decrementAndGet();
                }
            });
            if (c < 0) {
                RbdCompletions.release(slot);
                asyncInFlight.decrementAndGet();
                then.accept(c);
                return;
            }
            int r = switch (op) {
                case READ -> Librbd.rbd_aio_read(image, offset, length, address, c);
                case WRITE -> Librbd.rbd_aio_write(image, offset, length, address, c);
                case FLUSH -> Librbd.rbd_aio_flush(image, c);
                case DISCARD, WRITE_ZEROES -> throw new IllegalStateException("no asynchronous " + op);
            };
            if (r < 0) {
                slot.abandon(c);
                RbdCompletions.release(slot);
                asyncInFlight.decrementAndGet();
                then.accept(r);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private static long address(ByteBuffer direct) {
        return PlatformDependent.hasUnsafe() ? PlatformDependent.directBufferAddress(direct)
                : Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }

    /** librbd's result as an int errno (a result below int range is EIO). */
    private static int errno(long r) {
        return r < Integer.MIN_VALUE ? -Errno.EIO : (int) r;
    }

    private int aioFlush() {
        int r = submit(Op.FLUSH, 0, 0, 0, 0);
        return r < 0 ? r : 0;
    }

    /** Reads or writes {@code length} bytes of {@code buf} from {@code position}, in place when direct. */
    private int transfer(boolean write, long offset, ByteBuffer buf, int position, int length) {
        Op op = write ? Op.WRITE : Op.READ;
        if (buf.isDirect()) {
            long address = PlatformDependent.hasUnsafe() ? PlatformDependent.directBufferAddress(buf)
                    : Pointer.nativeValue(Native.getDirectBufferPointer(buf));
            int r = submit(op, offset, length, address + position, 0);
            if (r >= 0 && !write) {
                zeroFrom(buf, position + r, length - r);
            }
            return r < 0 ? r : length;
        }
        AlignedBufferPool pool = AlignedBufferPool.shared();
        ByteBuf bounce = pool.acquire(Math.min(MAX_BOUNCE, length));
        try {
            long base = bounce.memoryAddress();
            for (int done = 0; done < length; ) {
                int n = Math.min(MAX_BOUNCE, length - done);
                ByteBuffer view = bounce.internalNioBuffer(0, n);
                if (write) {
                    view.put(view.position(), buf, position + done, n);
                }
                int r = submit(op, offset + done, n, base, 0);
                if (r < 0) {
                    return r;
                }
                if (!write) {
                    zeroFrom(view, view.position() + r, n - r);
                    buf.put(position + done, view, view.position(), n);
                }
                done += n;
            }
            return length;
        } finally {
            pool.release(bounce);
        }
    }

    /**
     * Submits one request and waits for its callback; returns bytes read (reads), 0, or -errno.
     * {@code address..address+length} must be memory that stays valid until this returns.
     */
    private int submit(Op op, long offset, long length, long address, int zeroFlags) {
        if (!lifecycle.readLock().tryLock()) {
            return -Errno.EIO;   // closing
        }
        RbdCompletions.Slot slot = null;
        try {
            if (closed) {
                return -Errno.EIO;
            }
            slot = RbdCompletions.acquire();
            long c = slot.createCompletion();
            if (c < 0) {
                return (int) c;
            }
            int r = switch (op) {
                case READ -> Librbd.rbd_aio_read(image, offset, length, address, c);
                case WRITE -> Librbd.rbd_aio_write(image, offset, length, address, c);
                case DISCARD -> Librbd.rbd_aio_discard(image, offset, length, c);
                case WRITE_ZEROES -> Librbd.rbd_aio_write_zeroes(image, offset, length, c, zeroFlags, 0);
                case FLUSH -> Librbd.rbd_aio_flush(image, c);
            };
            if (r < 0) {
                slot.abandon(c);
                return r;
            }
            long result = slot.await();
            if (result < 0) {
                return result < Integer.MIN_VALUE ? -Errno.EIO : (int) result;
            }
            // A read answers the bytes read (fewer only past the image's end); the others 0.
            return op == Op.READ ? (int) Math.min(result, length) : 0;
        } finally {
            if (slot != null) {
                RbdCompletions.release(slot);
            }
            lifecycle.readLock().unlock();
        }
    }

    /** QEMU's rule for a short read: the rest of the buffer reads as zeros. */
    private static void zeroFrom(ByteBuffer buf, int from, int count) {
        for (int i = 0; i < count; i++) {
            buf.put(from + i, (byte) 0);
        }
    }

    private void finish(BlockStats.Kind kind, TraceEvent event, long offset, long length, int ret, long t0) {
        long nanos = System.nanoTime() - t0;
        stats.record(kind, length, ret, nanos);
        if (event.enabled) {
            Trace.emit(event, name, mode, offset, length, ret, nanos);
        }
    }
}
