package dev.ioemu.cpu;

/** Why {@link Cpu#run(long)} returned. */
public enum StopReason {
    /** The instruction budget is used up; call run again. */
    BUDGET_EXHAUSTED,
    /** HLT with IF=1: the CPU waits for an interrupt (the engine may skip virtual time). */
    HALTED,
    /** HLT with IF=0 (and no NMI source): nothing can wake the CPU. */
    SHUTDOWN,
    /** An exception while delivering a double fault: the machine must reset. */
    TRIPLE_FAULT,
    /** A port or memory callback asked the CPU to stop ({@link Cpu#requestStop()}). */
    STOP_REQUESTED
}
