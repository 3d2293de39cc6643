package dev.ioemu.devices.block.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.ioemu.devices.block.AlignedBufferPool;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.BlockStats;
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
