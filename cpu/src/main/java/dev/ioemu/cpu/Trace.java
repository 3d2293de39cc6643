package dev.ioemu.cpu;

/**
 * A hot loop of guest code compiled to JVM bytecode by {@link TraceCompiler} (issue 10, "Speed
 * by design"): the decoded instructions the interpreter last ran one after the other from a hot
 * head back to that head, each executed by its own handler with the decode fields as constants;
 * the compiled code goes round without returning to the interpreter.
 *
 * <p>It runs only where the interpreter would give the same result: CS, the code size and the
 * address mask as when it was compiled, every instruction still in the decode cache, no trap
 * flag, no {@link CpuListener}, no interrupt shadow. Inside, the compiled code leaves (EIP at the
 * next instruction, the instructions counted) as soon as an instruction went another way than
 * last time, a store dropped decoded code, or an access went to a device (which may raise an
 * interrupt or stop the CPU, which the interpreter checks before the next instruction).
 */
final class Trace {
    /** The compiled code: runs the path from its head, at least once; adds what ran to the count. */
    interface Code {
        void run(Cpu cpu, long end);
    }

    final DecodedInstruction[] instructions;
    /** EIP of each instruction; a guest fault inside the trace finds its place by its EIP. */
    final int[] eips;
    /** Whether the last instruction went back to the head when the trace was recorded (see {@link TraceCompiler#LOOPS_ONLY}). */
    final boolean loops;
    private final int csBase;
    private final int csLimit;
    private final boolean csBig;
    private final int ipMask;
    private final int addressMask;
    Code code;

    Trace(DecodedInstruction[] instructions, int[] eips, boolean loops, Cpu cpu) {
        this.instructions = instructions;
        this.eips = eips;
        this.loops = loops;
        this.csBase = cpu.segBase[Cpu.CS];
        this.csLimit = cpu.segLimit[Cpu.CS];
        this.csBig = cpu.csBig;
        this.ipMask = cpu.ipMask;
        this.addressMask = cpu.mem.addressMask();
    }

    /** Entries after which a trace must have gone round {@link #MIN_PASSES} times on average. */
    static final int TRIAL_ENTRIES = 256;
    static final int MIN_PASSES = 2;
    private int entries;
    private long ran;

    /**
     * Counts one entry that ran {@code instructions}; true (once) when, after its trial entries,
     * the trace went round fewer than {@link #MIN_PASSES} times per entry.
     */
    boolean ranPoorly(long instructions) {
        if (entries > TRIAL_ENTRIES) {
            return false;
        }
        ran += instructions;
        return ++entries == TRIAL_ENTRIES && ran < (long) TRIAL_ENTRIES * MIN_PASSES * instructions().length;
    }

    private DecodedInstruction[] instructions() {
        return instructions;
    }

    /** Instructions one pass runs at most (the budget check before each pass). */
    int length() {
        return instructions.length;
    }

    /** The CPU's drop count when every instruction was last seen in the decode cache. */
    private int aliveAt = -1;

    /**
     * False once any instruction of the trace left the decode cache: the trace is dead. Checked
     * again only after the CPU dropped decoded instructions ({@code codeDrops} changed).
     */
    boolean alive(int codeDrops) {
        if (aliveAt == codeDrops) {
            return true;
        }
        for (DecodedInstruction d : instructions) {
            if (!d.cached) {
                return false;
            }
        }
        aliveAt = codeDrops;
        return true;
    }

    /** The code segment and address mask are those the trace was compiled under. */
    boolean fits(Cpu cpu) {
        return cpu.segBase[Cpu.CS] == csBase && cpu.segLimit[Cpu.CS] == csLimit && cpu.csBig == csBig
                && cpu.ipMask == ipMask && cpu.mem.addressMask() == addressMask;
    }

    /** Position of the instruction at {@code eip} in one pass (the one a fault came from). */
    int indexOf(int eip) {
        for (int i = 0; i < eips.length; i++) {
            if (eips[i] == eip) {
                return i;
            }
        }
        throw new IllegalStateException("EIP " + Integer.toHexString(eip) + " is not in the trace");
    }
}
