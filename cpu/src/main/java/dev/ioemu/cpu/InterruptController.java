package dev.ioemu.cpu;

/**
 * The CPU's INTR (and NMI) input, as an 8259 pair or an APIC presents it. The CPU asks
 * {@link #hasPending()} at instruction boundaries while IF=1 and outside an interrupt shadow, then
 * runs the interrupt acknowledge cycle with {@link #acknowledge()}.
 */
public interface InterruptController {
    /** True if INTR is asserted. */
    boolean hasPending();

    /** The INTA cycle: returns the vector (0-255) and lets the controller mark it in service. */
    int acknowledge();

    /** True if an NMI edge is latched (delivered regardless of IF, through vector 2). */
    default boolean hasNmi() {
        return false;
    }

    /** Clears the latched NMI edge once the CPU takes it. */
    default void acknowledgeNmi() {
    }

    InterruptController NONE = new InterruptController() {
        @Override
        public boolean hasPending() {
            return false;
        }

        @Override
        public int acknowledge() {
            throw new IllegalStateException("acknowledge without a pending interrupt");
        }
    };
}
