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
}
