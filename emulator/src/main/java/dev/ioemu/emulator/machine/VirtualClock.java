package dev.ioemu.emulator.machine;

import java.util.PriorityQueue;

/**
 * QEMU_CLOCK_VIRTUAL under the qtest accelerator: time moves only when the client says so
 * ({@code clock_step}, {@code clock_set}), and advancing runs the timers that expired, in
 * deadline order (shared/spec/qtest.md §3.3). Starts at 0 ns.
 *
 * <p>Timers run on the thread that advances the clock (the machine thread).
 */
public final class VirtualClock {
    private record Timer(long deadline, long sequence, Runnable action) implements Comparable<Timer> {
        @Override public int compareTo(Timer o) {
            int c = Long.compare(deadline, o.deadline);
            return c != 0 ? c : Long.compare(sequence, o.sequence);
        }
    }

    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private long now;
    private long sequence;

    public synchronized long now() {
        return now;
    }

    /** Runs {@code action} once the clock reaches {@code deadline} ns. */
    public synchronized void schedule(long deadline, Runnable action) {
        timers.add(new Timer(deadline, sequence++, action));
    }

    /** The earliest pending deadline, or -1 if no timer is pending. */
    public synchronized long nextDeadline() {
        Timer t = timers.peek();
        return t == null ? -1 : t.deadline;
    }

    /** Drops every pending timer (machine reset). */
    public synchronized void clearTimers() {
        timers.clear();
    }

    /**
     * Advances to {@code target} (no-op if the clock is already there or past), running expired
     * timers in order; a timer may schedule another, which runs too if it is due.
     *
     * @return the new time
     */
    public long advanceTo(long target) {
        while (true) {
            Timer due;
            synchronized (this) {
                Timer t = timers.peek();
                if (t == null || t.deadline > target) {
                    now = Math.max(now, target);
                    return now;
                }
                due = timers.poll();
                now = Math.max(now, due.deadline);
            }
            // Outside the lock: a timer may touch devices that schedule timers themselves.
            due.action.run();
        }
    }
}
