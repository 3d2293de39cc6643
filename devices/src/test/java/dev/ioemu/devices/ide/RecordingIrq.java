package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.IrqLine;

import java.util.ArrayList;
import java.util.List;

/** A thread-safe IRQ line that remembers its level and every change (as qtest's irq_intercept). */
final class RecordingIrq implements IrqLine {
    private boolean level;
    private int raises;
    private final List<Boolean> changes = new ArrayList<>();

    @Override
    public synchronized void set(boolean newLevel) {
        if (newLevel != level) {
            changes.add(newLevel);
            if (newLevel) {
                raises++;
            }
        }
        level = newLevel;
    }

    synchronized boolean level() {
        return level;
    }

    /** Low-to-high transitions so far. */
    synchronized int raises() {
        return raises;
    }

    synchronized void clearHistory() {
        changes.clear();
        raises = 0;
    }
}
