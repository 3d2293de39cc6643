package dev.ioemu.devices.bus;

import java.util.Arrays;

/**
 * A device's numbered interrupt pins (QEMU's unnamed GPIO list), e.g. the IOAPIC's 24 inputs:
 * devices drive them through {@link #line}, and any number of listeners see every level set —
 * a PIC input, an IOAPIC pin, KVM's irqchip, qtest's {@code irq_intercept_in} — all of them,
 * in registration order, for every edge.
 *
 * <p>Threads: devices set lines on the machine thread and on block I/O threads (a DMA completion
 * raises IRQ 14), so a change and the listener calls happen under this object's lock; listeners
 * therefore see changes in the order they happened. <b>Listeners must not block</b> (no socket
 * or file writes, no waiting for another thread): they update in-memory state or queue work
 * (qtest queues its {@code IRQ raise} line for its own writer thread). Raising a line thus never
 * waits for a front end. Lock order: a device's lock, then this one, then a listener's own.
 */
public final class GpioPins {
    /**
     * Receives every level set on a pin, changed or not (the listener keeps its own history).
     * Levels are ints as in QEMU's qemu_set_irq: devices set 0 or 1, qtest's {@code set_irq_in}
     * any value, and QEMU reports 1 → 5 as a new raise.
     */
    @FunctionalInterface
    public interface Listener {
        void levelSet(int pin, int level);
    }

    private final int[] levels;
    private volatile Listener[] listeners = new Listener[0];

    public GpioPins(int count) {
        this.levels = new int[count];
    }

    public int count() {
        return levels.length;
    }

    /** The line a device drives for pin {@code n}. */
    public IrqLine line(int n) {
        if (n < 0 || n >= levels.length) {
            throw new IllegalArgumentException("pin: " + n + " (expected: 0 to " + (levels.length - 1) + ")");
        }
        return level -> set(n, level ? 1 : 0);
    }

    /** Sets pin {@code n} to {@code level} as its device would (also qtest's {@code set_irq_in}). */
    public synchronized void set(int n, int level) {
        levels[n] = level;
        for (Listener l : listeners) {
            l.levelSet(n, level);
        }
    }

    public synchronized int level(int n) {
        return levels[n];
    }

    /** Adds a listener; it sees every later level set on every pin. */
    public synchronized void addListener(Listener l) {
        if (l == null) {
            throw new IllegalArgumentException("listener: null");
        }
        Listener[] ls = Arrays.copyOf(listeners, listeners.length + 1);
        ls[ls.length - 1] = l;
        listeners = ls;
    }

    /** Removes a listener added before (the first equal one); no-op if absent. */
    public synchronized void removeListener(Listener l) {
        Listener[] ls = listeners;
        for (int i = 0; i < ls.length; i++) {
            if (ls[i] == l) {
                Listener[] out = new Listener[ls.length - 1];
                System.arraycopy(ls, 0, out, 0, i);
                System.arraycopy(ls, i + 1, out, i, ls.length - i - 1);
                listeners = out;
                return;
            }
        }
    }
}
