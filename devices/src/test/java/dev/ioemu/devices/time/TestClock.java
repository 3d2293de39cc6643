package dev.ioemu.devices.time;

/**
 * The unit tests' clock: a {@link VirtualClock} with steps in the units datasheets use.
 */
public final class TestClock implements Clock {
    private final VirtualClock clock = new VirtualClock();

    @Override
    public long nanos() {
        return clock.nanos();
    }

    @Override
    public Timer newTimer(String name, Runnable action) {
        return clock.newTimer(name, action);
    }

    public void stepNanos(long ns) {
        clock.advanceBy(ns);
    }

    public void stepMicros(long us) {
        clock.advanceBy(us * 1_000);
    }

    public void stepMillis(long ms) {
        clock.advanceBy(ms * 1_000_000);
    }

    public void setNanos(long ns) {
        clock.advanceTo(ns);
    }

    public long nextDeadline() {
        return clock.nextDeadline();
    }
}
