package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.IrqLine;

/**
 * A device's numbered interrupt pins (QEMU's unnamed GPIO list), e.g. the IOAPIC's 24 inputs.
 * Devices drive them through {@link #line}; a front end may observe every level change (qtest's
 * {@code irq_intercept_in}) and force a level ({@code set_irq_in}).
 *
 * <p>Thread safety: devices set lines on the machine thread and on block I/O threads (a DMA
 * completion raises IRQ 14), so every change and the observer call happen under this object's
 * lock; observers therefore see changes in the order they happened.
 */
public final class GpioPins {
    /**
     * Receives every level set on a pin, changed or not (the observer keeps its own history).
     * Levels are ints as in QEMU's qemu_set_irq: devices set 0 or 1, qtest's {@code set_irq_in}
     * any value, and QEMU reports 1 → 5 as a new raise.
     */
    @FunctionalInterface
    public interface Observer {
        void levelSet(int pin, int level);
    }

    private final int[] levels;
    private Observer observer;

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
        if (observer != null) {
            observer.levelSet(n, level);
        }
    }

    public synchronized int level(int n) {
        return levels[n];
    }

    /** Installs (or with null removes) the one observer. */
    public synchronized void observe(Observer o) {
        this.observer = o;
    }
}
