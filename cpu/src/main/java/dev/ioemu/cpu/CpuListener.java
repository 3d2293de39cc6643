package dev.ioemu.cpu;

/**
 * Debug hooks (the engine routes them to trace events / {@code -d} logs). Every method has a
 * no-op default; the CPU calls them only when a listener is installed, so they cost nothing
 * otherwise.
 */
public interface CpuListener {
    /**
     * The instruction at CS:EIP is about to run (only with {@link Cpu#setInstructionTracing}):
     * its opcode-table row name ("ADD Ev,Gv") and length in bytes.
     */
    default void instruction(int cs, int eip, String form, int length) {
    }

    /** An opcode this CPU model does not implement ran; the guest gets #UD. */
    default void unimplementedOpcode(int cs, int eip, byte[] bytes, int length) {
    }

    /** An exception or interrupt is being delivered ({@code software}: INT n / INT3 / INTO). */
    default void interrupt(int vector, boolean software, int errorCode, int cs, int eip) {
    }

    /** The CPU is about to reset (power-on or a machine reset); its state is still the old one. */
    default void reset() {
    }

    /** A hardware interrupt (from the interrupt controller, or NMI) is about to be delivered. */
    default void hardwareInterrupt(int vector) {
    }

    /** The execution mode changed (CR0.PE or the code segment's D bit). */
    default void modeChanged(CpuMode from, CpuMode to) {
    }

    /** A fault during double-fault delivery: {@link Cpu#run} returns {@link StopReason#TRIPLE_FAULT}. */
    default void tripleFault(int cs, int eip) {
    }
}
