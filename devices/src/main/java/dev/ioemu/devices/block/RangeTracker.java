package dev.ioemu.devices.block;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * In-flight request ranges of one image and QEMU's serialisation rule (shared/spec/block.md §4.2):
 * a <em>serialising</em> request (read-modify-write, padded write-zeroes) waits for every
 * overlapping in-flight request; any other request waits only for overlapping serialising ones.
 * So two unaligned writes patching the same host block never both read the old block, and an
 * aligned write or a discard cannot be overwritten by a stale read-modify-write.
 *
 * <p>A request enters the in-flight list only once nothing blocks it, so a waiting thread holds no
 * range and no wait cycle can form (QEMU skips waiting requests for the same reason). Waiters
 * re-check after every completion because new conflicts may have appeared.
 *
 * <p>Thread safety: any thread; {@link #begin} blocks the calling thread.
 */
final class RangeTracker {
    /** One in-flight request; returned by {@link #begin}, given back to {@link #end}. */
    static final class Request {
        final long start;
        final long end;
        final boolean serialising;

        private Request(long start, long end, boolean serialising) {
            this.start = start;
            this.end = end;
            this.serialising = serialising;
        }

        boolean overlaps(long otherStart, long otherEnd) {
            return start < otherEnd && otherStart < end;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by {@link #lock}. */
    private final List<Request> inFlight = new ArrayList<>();
    /** Guarded by {@link #lock}; for tests that check requests really waited. */
    private long waits;

    /**
     * Waits until {@code [start, end)} may proceed, then tracks it. The range must already be
     * widened to the request alignment for serialising requests.
     */
    Request begin(long start, long end, boolean serialising) {
        Request r = new Request(start, end, serialising);
        lock.lock();
        try {
            boolean waited = false;
            while (conflicts(r)) {
                waited = true;
                changed.awaitUninterruptibly();
            }
            if (waited) {
                waits++;
            }
            inFlight.add(r);
        } finally {
            lock.unlock();
        }
        return r;
    }

    /** Stops tracking {@code r} and wakes the waiters. */
    void end(Request r) {
        lock.lock();
        try {
            boolean removed = inFlight.remove(r);
            assert removed : "request [" + r.start + ", " + r.end + ") ended twice";
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private boolean conflicts(Request r) {
        assert lock.isHeldByCurrentThread();
        for (Request other : inFlight) {
            if (other.overlaps(r.start, r.end) && (r.serialising || other.serialising)) {
                return true;
            }
        }
        return false;
    }

    /** Requests currently tracked. */
    int inFlight() {
        lock.lock();
        try {
            return inFlight.size();
        } finally {
            lock.unlock();
        }
    }

    /** How many begin() calls had to wait so far. */
    long waits() {
        lock.lock();
        try {
            return waits;
        } finally {
            lock.unlock();
        }
    }
}
