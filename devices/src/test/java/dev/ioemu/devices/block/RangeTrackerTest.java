package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** QEMU's serialisation rule (shared/spec/block.md §4.2) on the tracker alone. */
class RangeTrackerTest {
    private static CompletableFuture<RangeTracker.Request> beginAsync(RangeTracker t, long s, long e, boolean ser) {
        return CompletableFuture.supplyAsync(() -> t.begin(s, e, ser));
    }

    /**
     * Starts {@code begin} on a thread of its own and returns once that thread either finished or
     * is parked (in the tracker's wait: nothing else holds its lock), so "still waiting" is
     * checked on a blocked thread rather than after a guessed sleep.
     */
    private static CompletableFuture<RangeTracker.Request> beginUntilBlocked(RangeTracker t, long s, long e, boolean ser) {
        CompletableFuture<RangeTracker.Request> f = new CompletableFuture<>();
        Thread th = new Thread(() -> f.complete(t.begin(s, e, ser)), "range-tracker-waiter");
        th.setDaemon(true);
        th.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!f.isDone() && th.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return f;
    }

    @Test
    void overlappingPlainRequestsRunTogether() throws Exception {
        RangeTracker t = new RangeTracker();
        RangeTracker.Request a = t.begin(0, 4096, false);
        RangeTracker.Request b = beginAsync(t, 0, 4096, false).get(5, TimeUnit.SECONDS);
        assertEquals(2, t.inFlight());
        t.end(a);
        t.end(b);
        assertEquals(0, t.waits());
    }

    @Test
    void aSerialisingRequestWaitsForEveryOverlappingOne() throws Exception {
        RangeTracker t = new RangeTracker();
        RangeTracker.Request plain = t.begin(1024, 2048, false);
        CompletableFuture<RangeTracker.Request> rmw = beginUntilBlocked(t, 0, 4096, true);
        assertFalse(rmw.isDone(), "RMW must wait for the overlapping plain write");
        t.end(plain);
        t.end(rmw.get(5, TimeUnit.SECONDS));
        assertEquals(1, t.waits());
    }

    @Test
    void aPlainRequestWaitsForAnOverlappingSerialisingOneButNotForDisjointOnes() throws Exception {
        RangeTracker t = new RangeTracker();
        RangeTracker.Request rmw = t.begin(0, 4096, true);
        t.end(beginAsync(t, 4096, 8192, false).get(5, TimeUnit.SECONDS));
        CompletableFuture<RangeTracker.Request> read = beginUntilBlocked(t, 4000, 4100, false);
        assertFalse(read.isDone(), "a read overlapping an RMW must wait");
        t.end(rmw);
        t.end(read.get(5, TimeUnit.SECONDS));
        assertEquals(0, t.inFlight());
    }
}
