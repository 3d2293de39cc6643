package dev.ioemu.emulator.machine;

import java.util.List;

/**
 * A group of devices plugged into {@link PcMachine} that has a lifecycle: the PCI/IDE wiring and
 * its drives. Default methods do nothing, so a component implements only what it has.
 */
public interface MachineComponent {
    /** System reset. */
    default void reset() { }

    /** The VM was continued: retry requests that stopped it. */
    default void resume() { }

    /** Wait for in-flight I/O and its completions. */
    default void drain() { }

    /** Drain, flush and close (quit). */
    default void shutdown() { }

    default List<BlockInfo> blocks() {
        return List.of();
    }
}
