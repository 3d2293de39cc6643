package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.host.Errno;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only in-memory disk with the hooks QEMU's blkdebug gives ide-test: an errno injected per
 * operation (once or sticky), a latch that holds the next flush until released, and counters
 * of flushes and discards.
 */
final class MemoryBlockDevice implements BlockDevice {
    enum Op { READ, WRITE, FLUSH, DISCARD }

    private final byte[] data;
    private final CacheMode cacheMode;
    private final BlockStats stats = new BlockStats();
    private volatile boolean writeCache;
    private volatile boolean readOnly;
    private final AtomicInteger flushes = new AtomicInteger();
    private final AtomicInteger directBuffers = new AtomicInteger();
    private final AtomicInteger heapBuffers = new AtomicInteger();
    private final List<long[]> discards = new ArrayList<>();
    private final int[] injected = new int[Op.values().length];
    private final boolean[] injectOnce = new boolean[Op.values().length];
    private final CountDownLatch[] hold = new CountDownLatch[Op.values().length];
    private final CountDownLatch[] entered = new CountDownLatch[Op.values().length];
    private final boolean[] armed = new boolean[Op.values().length];

    MemoryBlockDevice(long size) {
        this(size, CacheMode.WRITEBACK);
    }

    MemoryBlockDevice(long size, CacheMode mode) {
        this.data = new byte[Math.toIntExact(size)];
        this.cacheMode = mode;
        this.writeCache = mode.writeback;
    }

    /** Fails {@code op} with {@code errno} (positive); once, or until cleared with errno 0. */
    synchronized void inject(Op op, int errno, boolean once) {
        injected[op.ordinal()] = errno;
        injectOnce[op.ordinal()] = once;
    }

    private synchronized int takeInjected(Op op) {
        int e = injected[op.ordinal()];
        if (e != 0 && injectOnce[op.ordinal()]) {
            injected[op.ordinal()] = 0;
        }
        return e;
    }

    /** The next {@code op} blocks (on the I/O thread) until {@link #release}. */
    synchronized void holdNext(Op op) {
        hold[op.ordinal()] = new CountDownLatch(1);
        entered[op.ordinal()] = new CountDownLatch(1);
        armed[op.ordinal()] = true;
    }

    /** Waits until the held request has reached the backend. */
    void awaitHeld(Op op) throws InterruptedException {
        CountDownLatch e;
        synchronized (this) {
            e = entered[op.ordinal()];
        }
        if (!e.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError(op + " never reached the backend");
        }
    }

    synchronized void release(Op op) {
        hold[op.ordinal()].countDown();
    }

    void holdNextFlush() {
        holdNext(Op.FLUSH);
    }

    void awaitFlushHeld() throws InterruptedException {
        awaitHeld(Op.FLUSH);
    }

    void releaseFlush() {
        release(Op.FLUSH);
    }

    /** Blocks the calling I/O thread while {@code op} is held. */
    private void pause(Op op) {
        CountDownLatch h;
        synchronized (this) {
            if (!armed[op.ordinal()]) {
                return;
            }
            armed[op.ordinal()] = false;
            h = hold[op.ordinal()];
            entered[op.ordinal()].countDown();
        }
        try {
            h.await();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /** Read/write requests that came with a direct (zero-copy capable) buffer, and with a heap buffer. */
    int directBufferCount() {
        return directBuffers.get();
    }

    int heapBufferCount() {
        return heapBuffers.get();
    }

    int flushCount() {
        return flushes.get();
    }

    synchronized List<long[]> discards() {
        return List.copyOf(discards);
    }

    void setReadOnly(boolean ro) {
        readOnly = ro;
    }

    /** Direct access to the image bytes. */
    byte[] bytes() {
        return data;
    }

    @Override public String name() { return "memory"; }
    @Override public long size() { return data.length; }
    @Override public boolean isReadOnly() { return readOnly; }
    @Override public CacheMode cacheMode() { return cacheMode; }
    @Override public int requestAlignment() { return 1; }

    @Override
    public int read(long offset, ByteBuffer dst) {
        pause(Op.READ);
        (dst.isDirect() ? directBuffers : heapBuffers).incrementAndGet();
        int e = takeInjected(Op.READ);
        if (e != 0) {
            return -e;
        }
        int n = dst.remaining();
        for (int i = 0; i < n; i++) {
            long o = offset + i;
            dst.put(dst.position() + i, o < data.length ? data[(int) o] : 0);
        }
        return n;
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        pause(Op.WRITE);
        (src.isDirect() ? directBuffers : heapBuffers).incrementAndGet();
        int e = takeInjected(Op.WRITE);
        if (e != 0) {
            return -e;
        }
        int n = src.remaining();
        if (offset < 0 || offset + n > data.length) {
            return -Errno.EINVAL;
        }
        src.duplicate().get(data, (int) offset, n);
        return n;
    }

    @Override
    public int flush() {
        pause(Op.FLUSH);
        flushes.incrementAndGet();
        int e = takeInjected(Op.FLUSH);
        return e != 0 ? -e : 0;
    }

    @Override
    public int discard(long offset, long length) {
        pause(Op.DISCARD);
        return recordDiscard(offset, length);
    }

    private synchronized int recordDiscard(long offset, long length) {
        int e = takeInjected(Op.DISCARD);
        if (e != 0) {
            return -e;
        }
        discards.add(new long[]{offset, length});
        return 0;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        return 0;
    }

    @Override public boolean isWriteCacheEnabled() { return writeCache; }
    @Override public void setWriteCacheEnabled(boolean enabled) { writeCache = enabled; }
    @Override public BlockStats stats() { return stats; }
    @Override public void close() { }
}
