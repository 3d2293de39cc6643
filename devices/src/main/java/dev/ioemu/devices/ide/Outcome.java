package dev.ioemu.devices.ide;

/**
 * What a command handler reports to the {@link IdeBus#executeCommand execute gate}
 * (shared/spec/ide.md §2 step 5).
 */
enum Outcome {
    /** Finished: the gate clears BSY, adds DSC if the command has that flag, raises the IRQ. */
    COMPLETED,
    /** Failed: the gate sets ST=DRDY|ERR, ER=ABRT, stops any PIO transfer and raises the IRQ. */
    ABORTED,
    /**
     * Still running, or finished in its own way: the handler (or the I/O completion it started)
     * owns status and IRQ from here — data phases, block I/O, DMA, and EXECUTE DEVICE DIAGNOSTIC.
     */
    CONTINUES
}
