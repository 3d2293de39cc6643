package dev.ioemu.emulator.machine;

import java.util.List;

/**
 * A part of the machine with a lifecycle: a chip (the DMA controllers, fw_cfg, later the PIC,
 * PIT, RTC …), or a group of devices such as the PCI/IDE wiring and its drives. Components
 * register once with {@link PcMachine#addComponent}; the machine's reset, resume, drain and
 * shutdown walk that list in registration order, so adding a chip never means editing those
 * methods. Default methods do nothing, so a component implements only what it has.
 */
public interface MachineComponent {
    /** A name for messages and tests ("dma1", "pci-ide"). */
    default String name() {
        return getClass().getSimpleName();
    }

    /** System reset: back to the power-on state. The machine has drained I/O first. */
    default void reset() { }

    /** The VM was continued: retry requests that stopped it. */
    default void resume() { }

    /** Wait for in-flight I/O and its completions. */
    default void drain() { }

    /** Drain, flush and close (quit). Called once. */
    default void shutdown() { }

    default List<BlockInfo> blocks() {
        return List.of();
    }

    /** A component whose only lifecycle is a reset (most chips). */
    static MachineComponent resettable(String name, Runnable reset) {
        return new MachineComponent() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void reset() {
                reset.run();
            }
        };
    }
}
