package dev.ioemu.devices.time;

import java.util.PriorityQueue;

/**
 * The armed timers of one clock, ordered by deadline (ties: the order they were armed), shared by
 * {@link VirtualClock} and {@link MonotonicClock}. Arming, cancelling and running are thread-safe;
 * due actions run outside the lock, on the thread that calls {@link #runDue}, one at a time, so a
 * timer action may arm timers (also itself) and touch devices.
 */
final class TimerQueue {
    /** One timer; its fields are guarded by the queue's lock. */
    final class QueuedTimer implements Clock.Timer {
        private final String name;
        private final Runnable action;
        private long deadline;
        private long sequence;
        private boolean armed;

        QueuedTimer(String name, Runnable action) {
            this.name = name;
            this.action = action;
        }

        @Override
        public void arm(long deadlineNanos) {
            synchronized (TimerQueue.this) {
                if (armed) {
                    queue.remove(this);
                }
                deadline = deadlineNanos;
                sequence = nextSequence++;
                armed = true;
                queue.add(this);
            }
            armedListener.run();
        }

        @Override
        public void cancel() {
            synchronized (TimerQueue.this) {
                if (armed) {
                    queue.remove(this);
                    armed = false;
                }
            }
        }

        @Override
        public boolean armed() {
            synchronized (TimerQueue.this) {
                return armed;
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final PriorityQueue<QueuedTimer> queue = new PriorityQueue<>((a, b) -> {
        int c = Long.compare(a.deadline, b.deadline);
        return c != 0 ? c : Long.compare(a.sequence, b.sequence);
    });
    private long nextSequence;
    private final Runnable armedListener;

    /** @param armedListener called after any timer is armed (a host clock wakes its waiter) */
    TimerQueue(Runnable armedListener) {
        this.armedListener = armedListener;
    }

    Clock.Timer newTimer(String name, Runnable action) {
        if (name == null || action == null) {
            throw new IllegalArgumentException("timer name and action: " + name + ", " + action + " (expected: non-null)");
        }
        return new QueuedTimer(name, action);
    }

    /** The earliest armed deadline, or -1 if no timer is armed. */
    synchronized long nextDeadline() {
        QueuedTimer t = queue.peek();
        return t == null ? -1 : t.deadline;
    }

    /**
     * Runs, in deadline order, every timer whose deadline is at or before what {@code now} returns
     * (asked again after each action, since an action may arm a timer that is already due).
     *
     * @param beforeRun told each due deadline before its action runs (a virtual clock moves there)
     */
    void runDue(java.util.function.LongSupplier now, java.util.function.LongConsumer beforeRun) {
        while (true) {
            QueuedTimer due;
            synchronized (this) {
                QueuedTimer t = queue.peek();
                if (t == null || t.deadline > now.getAsLong()) {
                    return;
                }
                due = queue.poll();
                due.armed = false;
                beforeRun.accept(due.deadline);
            }
            due.action.run();
        }
    }

    synchronized void clear() {
        for (QueuedTimer t : queue) {
            t.armed = false;
        }
        queue.clear();
    }
}
