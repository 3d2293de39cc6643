package dev.ioemu.devices.block;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the block requests of this process that are submitted and not yet settled, so that a
 * deterministic front end (qtest) can wait for them before it reads its next command, as QEMU's
 * main loop completes finished I/O before it reads the next qtest line (emulator/QTEST.md).
 *
 * <p>A request is settled when its completion has run (the device saw the result), or while it
 * is parked on purpose: held at a blkdebug breakpoint or a {@link FaultInjection} pause. A parked
 * request cannot finish until the client acts, so waiting for it would deadlock the client.
 *
 * <p>Thread safety: any thread. {@link #awaitSettled} costs one volatile read when nothing is
 * in flight.
 */
public final class InFlightIo {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition SETTLED = LOCK.newCondition();
    /** Submitted, not completed, not parked. Guarded by LOCK for writes; read racily first. */
    private static volatile long unsettled;
    /** Set while the thread runs a request counted by {@link #submitted}. */
    private static final ThreadLocal<Boolean> IN_REQUEST = new ThreadLocal<>();

    private InFlightIo() {
    }

    /** A request was submitted. */
    public static void submitted() {
        change(1);
    }

    /** A request's completion has run. */
    public static void completed() {
        change(-1);
    }

    /**
     * The calling thread runs a counted request ({@link BlockAio}'s I/O thread) until
     * {@link #endRequest}; only such a request's holds count as parked.
     */
    static void beginRequest() {
        IN_REQUEST.set(Boolean.TRUE);
    }

    static void endRequest() {
        IN_REQUEST.remove();
    }

    /** The request on the calling thread is now held until someone releases it. */
    public static void parked() {
        if (IN_REQUEST.get() != null) {
            change(-1);
        }
    }

    /** The held request on the calling thread runs again. */
    public static void unparked() {
        if (IN_REQUEST.get() != null) {
            change(1);
        }
    }

    private static void change(int delta) {
        LOCK.lock();
        try {
            unsettled += delta;
            if (unsettled == 0) {
                SETTLED.signalAll();
            }
        } finally {
            LOCK.unlock();
        }
    }

    /** Requests neither completed nor parked. */
    public static long unsettled() {
        return unsettled;
    }

    /** Waits until every submitted request has completed or is parked. */
    public static void awaitSettled() {
        if (unsettled == 0) {
            return;
        }
        LOCK.lock();
        try {
            while (unsettled > 0) {
                SETTLED.awaitUninterruptibly();
            }
        } finally {
            LOCK.unlock();
        }
    }

    /** {@link #awaitSettled} with a limit; false if requests were still unsettled. */
    public static boolean awaitSettled(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        LOCK.lock();
        try {
            while (unsettled > 0) {
                if (left <= 0) {
                    return false;
                }
                left = SETTLED.awaitNanos(left);
            }
            return true;
        } finally {
            LOCK.unlock();
        }
    }
}
