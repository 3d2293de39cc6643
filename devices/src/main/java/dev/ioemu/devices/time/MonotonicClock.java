package dev.ioemu.devices.time;

import java.util.function.LongSupplier;

/**
 * Host monotonic time for engines where the guest runs in real time (KVM): {@link #nanos()} counts
 * from the clock's creation. Timers do not fire by themselves: the thread that drives the machine
 * calls {@link #runDueTimers()} whenever it regains control (after each exit, and when
 * {@link #awaitNextDeadline} returns), so timer actions never run concurrently with a port access.
 * A timer armed from another thread wakes {@code awaitNextDeadline} early.
 */
public final class MonotonicClock implements Clock {
    private final LongSupplier hostNanos;
    private final long origin;
    private final Object wake = new Object();
    private final TimerQueue timers = new TimerQueue(this::wakeUp);

    /** Host monotonic time ({@link System#nanoTime}). */
    public MonotonicClock() {
        this(System::nanoTime);
    }

    /** A clock over {@code hostNanos} (tests inject a fake source). */
    public MonotonicClock(LongSupplier hostNanos) {
        this.hostNanos = hostNanos;
        this.origin = hostNanos.getAsLong();
    }

    @Override
    public long nanos() {
        return hostNanos.getAsLong() - origin;
    }

    @Override
    public Timer newTimer(String name, Runnable action) {
        return timers.newTimer(name, action);
    }

    /** The earliest armed deadline, or -1 if no timer is armed. */
    public long nextDeadline() {
        return timers.nextDeadline();
    }

    /** Runs every timer that is due now, in deadline order, on the calling thread. */
    public void runDueTimers() {
        timers.runDue(this::nanos, deadline -> { });
    }

    /**
     * Blocks until the next deadline, a newly armed timer or {@code maxNanos}, whichever is first
     * (a halted vCPU without in-kernel irqchip); the caller then runs {@link #runDueTimers()}.
     */
    public void awaitNextDeadline(long maxNanos) throws InterruptedException {
        long deadline = nextDeadline();
        long wait = deadline < 0 ? maxNanos : Math.min(maxNanos, deadline - nanos());
        if (wait <= 0) {
            return;
        }
        synchronized (wake) {
            wake.wait(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    private void wakeUp() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** Disarms every timer (machine reset). */
    public void cancelAll() {
        timers.clear();
    }
}
