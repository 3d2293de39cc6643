package dev.ioemu.cpu;

/**
 * One pre-decoded instruction: its row, prefixes, ModR/M fields, the parts of its effective
 * address (registers, scale, displacement — the address itself is computed from the registers
 * each time it runs) and immediates. The CPU keeps them per guest-physical code page and drops a
 * page's entries when the page is written (self-modifying or relocated code).
 */
final class DecodedInstruction {
    Form form;
    /** The row's handler, kept here to save a load on every execution. */
    Form.Handler handler;
    int opcode;
    int length;
    /** CS.D at decode time: the same bytes decode differently in 16- and 32-bit code. */
    boolean csBig;
    boolean o32;
    boolean a32;
    int segOverride;
    int rep;
    boolean memoryOperand;
    int modrm;
    int mod;
    int reg;
    int rm;
    int eaBase;
    int eaIndex;
    int eaScale;
    int eaDisp;
    int eaSeg;
    int imm;
    int imm2;
    /**
     * Still in the decode cache (false once a store or remapping dropped it, and always for
     * the uncacheable scratch instruction): only such an instruction may be reached by a link.
     */
    boolean cached;
    /**
     * The instruction that ran after this one last time, at EIP {@link #nextEip}, while the
     * CPU's {@code linkEpoch} was {@link #nextEpoch}. Within one epoch CS's base, limit and
     * size and the address mask stay put, so the same EIP means the same physical
     * instruction: following the link replaces the decode-cache lookup (block chaining).
     */
    DecodedInstruction next;
    int nextEip;
    int nextEpoch;
    /** A jump, call, return, loop or REP string instruction (see {@link TraceCompiler#transfersControl}). */
    boolean transfersControl;
    /** Runs in the interpreter so far (until {@link Cpu#HOT_THRESHOLD}: then a trace is compiled). */
    int hits;
    /** The compiled trace this instruction heads, or null. */
    Trace trace;
}
