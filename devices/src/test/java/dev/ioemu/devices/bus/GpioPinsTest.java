package dev.ioemu.devices.bus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GpioPinsTest {
    @Test
    void twoListenersOnOneLineBothSeeEveryEdgeInOrder() {
        GpioPins pins = new GpioPins(24);
        List<String> pic = new ArrayList<>();
        List<String> ioapic = new ArrayList<>();
        pins.addListener((pin, level) -> pic.add(pin + "=" + level));
        pins.addListener((pin, level) -> ioapic.add(pin + "=" + level));
        IrqLine irq14 = pins.line(14);
        irq14.raise();
        irq14.lower();
        irq14.raise();
        pins.line(15).raise();
        List<String> expected = List.of("14=1", "14=0", "14=1", "15=1");
        assertEquals(expected, pic);
        assertEquals(expected, ioapic);
        assertEquals(1, pins.level(14));
    }

    @Test
    void aRemovedListenerSeesNoMoreEdgesAndTheOthersStillDo() {
        GpioPins pins = new GpioPins(2);
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        GpioPins.Listener la = (pin, level) -> a.add(level);
        pins.addListener(la);
        pins.addListener((pin, level) -> b.add(level));
        pins.set(0, 1);
        pins.removeListener(la);
        pins.set(0, 0);
        assertEquals(List.of(1), a);
        assertEquals(List.of(1, 0), b);
    }

    @Test
    void edgesFromManyThreadsReachEveryListenerInTheSameOrder() throws Exception {
        GpioPins pins = new GpioPins(4);
        List<String> first = new ArrayList<>();
        List<String> second = new ArrayList<>();
        pins.addListener((pin, level) -> first.add(pin + ":" + level));
        pins.addListener((pin, level) -> second.add(pin + ":" + level));
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int pin = t;
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 1000; i++) {
                    pins.set(pin, i & 1);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(4000, first.size());
        assertEquals(first, second);
    }

    @Test
    void pinsOutOfRangeAreRefused() {
        GpioPins pins = new GpioPins(24);
        assertThrows(IllegalArgumentException.class, () -> pins.line(24));
        assertThrows(IllegalArgumentException.class, () -> pins.addListener(null));
    }
}
