package dev.ioemu.devices.block;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real syscalls that count fdatasync and DONTNEED calls, and can fail the next fdatasync calls
 * with a chosen errno — a failing disk without a failing disk (the kernel then leaves the data
 * "clean" but unwritten, which is what the sticky-error rule of block.md §5.3 guards against).
 */
final class CountingHostCalls implements RawImage.HostCalls {
    final AtomicInteger fdatasyncs = new AtomicInteger();
    final AtomicInteger drops = new AtomicInteger();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile int failErrno;

    /** Makes the next {@code count} fdatasync calls fail with {@code errno} (and not run). */
    void failNextFdatasync(int count, int errno) {
        failErrno = errno;
        failuresLeft.set(count);
    }

    @Override
    public int fdatasync(int fd) {
        fdatasyncs.incrementAndGet();
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return -failErrno;
        }
        return RawImage.LIBC_HOST_CALLS.fdatasync(fd);
    }

    @Override
    public int fadviseDontneed(int fd, long offset, long length) {
        drops.incrementAndGet();
        return RawImage.LIBC_HOST_CALLS.fadviseDontneed(fd, offset, length);
    }
}
