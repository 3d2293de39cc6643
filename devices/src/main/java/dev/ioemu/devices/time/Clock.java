package dev.ioemu.devices.time;

/**
 * The machine's clock as devices see it: virtual time (advanced by qtest's {@code clock_step} or a
 * software CPU's instruction count) or host monotonic time (under KVM). Devices never read wall
 * time directly, so runs under virtual time are deterministic and can be replayed.
 *
 * <p>Timers fire on the thread that drives the machine (the vCPU or the qtest front end), never
 * concurrently with a port access.
 */
public interface Clock {
    /** Nanoseconds since the machine was created; never decreases. */
    long nanos();

    /** A new, disarmed timer that runs {@code action} once when its deadline is reached. */
    Timer newTimer(String name, Runnable action);

    /** One re-armable deadline (QEMU's QEMUTimer). */
    interface Timer {
        /** Arms (or re-arms) the timer for {@code deadlineNanos} on this clock. */
        void arm(long deadlineNanos);

        /** Disarms the timer; a no-op if it is not armed. */
        void cancel();

        boolean armed();
    }
}
