package dev.ioemu.devices.block;

import java.nio.ByteBuffer;

/**
 * A block device that passes every call to the one it decorates. Fault injection and blkdebug
 * extend it and override only the requests they intercept, so a method added to
 * {@link BlockDevice} is forwarded in one place.
 */
public abstract class ForwardingBlockDevice implements BlockDevice {
    protected final BlockDevice inner;

    protected ForwardingBlockDevice(BlockDevice inner) {
        this.inner = inner;
    }

    /** The decorated device. */
    public BlockDevice inner() {
        return inner;
    }

    @Override public String name() { return inner.name(); }

    @Override public long size() { return inner.size(); }

    @Override public boolean isReadOnly() { return inner.isReadOnly(); }

    @Override public CacheMode cacheMode() { return inner.cacheMode(); }

    @Override public int requestAlignment() { return inner.requestAlignment(); }

    @Override public int read(long offset, ByteBuffer dst) { return inner.read(offset, dst); }

    @Override public int write(long offset, ByteBuffer src) { return inner.write(offset, src); }

    @Override public int flush() { return inner.flush(); }

    @Override public void flushFailedAbove(int errno) { inner.flushFailedAbove(errno); }

    @Override public int discard(long offset, long length) { return inner.discard(offset, length); }

    @Override public int writeZeroes(long offset, long length) { return inner.writeZeroes(offset, length); }

    @Override public boolean isWriteCacheEnabled() { return inner.isWriteCacheEnabled(); }

    @Override public void setWriteCacheEnabled(boolean enabled) { inner.setWriteCacheEnabled(enabled); }

    @Override public BlockStatus blockStatus(long offset, long length) { return inner.blockStatus(offset, length); }

    @Override public long allocatedSize() { return inner.allocatedSize(); }

    @Override public BlockStats stats() { return inner.stats(); }

    @Override public void close() { inner.close(); }
}
