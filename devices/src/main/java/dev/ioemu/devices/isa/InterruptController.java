package dev.ioemu.devices.isa;

/**
 * What a CPU engine sees of the interrupt controller: the INTR pin and the interrupt-acknowledge
 * cycle. Called on the thread that drives the machine.
 */
public interface InterruptController {
    /** True while INTR is asserted (an unmasked request outranks everything in service). */
    boolean hasPending();

    /**
     * The INTA cycle: marks the winning request in service and returns its vector (0-255). With
     * nothing pending the 8259 answers the spurious vector of IRQ 7 (or IRQ 15 via the slave).
     */
    int acknowledge();

    /** Called (on the thread that changed it) whenever INTR may have changed, so a halted CPU wakes. */
    @FunctionalInterface
    interface IntrListener {
        void intrChanged(boolean asserted);
    }

    /** Installs the one listener (null removes it). */
    void setIntrListener(IntrListener listener);
}
