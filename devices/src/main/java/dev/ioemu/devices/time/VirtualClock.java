package dev.ioemu.devices.time;

/**
 * Deterministic virtual time (QEMU_CLOCK_VIRTUAL under the qtest accelerator or icount): it moves
 * only when its driver says so, by qtest's {@code clock_step}/{@code clock_set} or by a software
 * CPU converting executed instructions into nanoseconds. Advancing runs the due timers in deadline
 * order on the advancing thread, with {@link #nanos()} equal to each timer's deadline while its
 * action runs, so a periodic timer re-armed from its action never drifts. A halted CPU asks
 * {@link #nextDeadline()} and skips ahead. Starts at 0 ns. Also the clock of unit tests.
 */
public final class VirtualClock implements Clock {
    private final TimerQueue timers = new TimerQueue(() -> { });
    private volatile long now;

    @Override
    public long nanos() {
        return now;
    }

    @Override
    public Timer newTimer(String name, Runnable action) {
        return timers.newTimer(name, action);
    }

    /** The earliest armed deadline, or -1 if no timer is armed. */
    public long nextDeadline() {
        return timers.nextDeadline();
    }

    /**
     * Advances to {@code target} ns, running every timer due on the way (a timer may arm another
     * that is due too). A target in the past leaves the time unchanged but still runs due timers.
     *
     * @return the new time
     */
    public long advanceTo(long target) {
        long next = timers.nextDeadline();
        if (next >= 0 && next <= target) {
            // Only when something is due: a CPU advances the clock at every port access, and
            // the two lambdas below would be allocated each time.
            timers.runDue(() -> target, deadline -> now = Math.max(now, deadline));
        }
        now = Math.max(now, target);
        return now;
    }

    /** Advances by {@code deltaNanos} (at least 0). */
    public long advanceBy(long deltaNanos) {
        if (deltaNanos < 0) {
            throw new IllegalArgumentException("clock step: " + deltaNanos + " ns (expected: >= 0)");
        }
        return advanceTo(now + deltaNanos);
    }

    /**
     * Skips to the next deadline and runs what is due there (a halted CPU with interrupts enabled).
     *
     * @return the new time, unchanged if no timer is armed
     */
    public long advanceToNextDeadline() {
        long d = nextDeadline();
        return d < 0 ? now : advanceTo(d);
    }

    /** Disarms every timer (machine reset). */
    public void cancelAll() {
        timers.clear();
    }
}
