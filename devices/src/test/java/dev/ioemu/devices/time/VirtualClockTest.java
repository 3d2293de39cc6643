package dev.ioemu.devices.time;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtualClockTest {
    private final VirtualClock clock = new VirtualClock();
    private final List<String> fired = new ArrayList<>();

    @Test
    void timersRunInDeadlineOrderWithTheClockAtTheirDeadline() {
        Clock.Timer b = clock.newTimer("b", () -> fired.add("b@" + clock.nanos()));
        Clock.Timer a = clock.newTimer("a", () -> fired.add("a@" + clock.nanos()));
        Clock.Timer c = clock.newTimer("c", () -> fired.add("c@" + clock.nanos()));
        b.arm(200);
        a.arm(100);
        c.arm(200);   // same deadline as b, armed later: runs after b
        assertEquals(100, clock.nextDeadline());
        assertEquals(150, clock.advanceTo(150));
        assertEquals(List.of("a@100"), fired);
        assertEquals(1000, clock.advanceBy(850));
        assertEquals(List.of("a@100", "b@200", "c@200"), fired);
        assertFalse(a.armed());
        assertEquals(-1, clock.nextDeadline());
    }

    @Test
    void periodicTimerRearmedFromItsActionDoesNotDrift() {
        long[] count = {0};
        Clock.Timer[] t = new Clock.Timer[1];
        t[0] = clock.newTimer("tick", () -> {
            count[0]++;
            t[0].arm(clock.nanos() + 333);
        });
        t[0].arm(333);
        clock.advanceTo(333_000);
        assertEquals(1000, count[0]);
        assertEquals(333_333, clock.nextDeadline());
    }

    @Test
    void cancelAndRearmReplaceTheDeadline() {
        Clock.Timer t = clock.newTimer("t", () -> fired.add("t@" + clock.nanos()));
        t.arm(50);
        t.arm(70);
        assertTrue(t.armed());
        clock.advanceTo(60);
        assertTrue(fired.isEmpty());
        t.cancel();
        clock.advanceTo(100);
        assertTrue(fired.isEmpty());
    }

    @Test
    void haltedCpuSkipsToTheNextDeadline() {
        clock.newTimer("t", () -> fired.add("t@" + clock.nanos())).arm(12_345);
        assertEquals(12_345, clock.advanceToNextDeadline());
        assertEquals(List.of("t@12345"), fired);
        assertEquals(12_345, clock.advanceToNextDeadline());   // nothing armed: time stays
    }

    @Test
    void negativeStepIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> clock.advanceBy(-1));
    }

    @Test
    void monotonicClockRunsDueTimersWhenAsked() {
        long[] host = {5_000};
        MonotonicClock m = new MonotonicClock(() -> host[0]);
        assertEquals(0, m.nanos());
        m.newTimer("x", () -> fired.add("x")).arm(100);
        m.runDueTimers();
        assertTrue(fired.isEmpty());
        host[0] += 100;
        m.runDueTimers();
        assertEquals(List.of("x"), fired);
        assertEquals(-1, m.nextDeadline());
    }
}
