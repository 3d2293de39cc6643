package dev.ioemu.cpu;

/**
 * One row of the opcode table: an opcode form with its mnemonic, whether a ModR/M byte follows,
 * which immediate follows, the oldest CPU model that has it, and the handler that executes it.
 * Group opcodes (80-83, C0/C1, D0-D3, F6/F7, FE/FF, 0F 00/01/BA) have a row per ModR/M reg.
 */
record Form(String mnemonic, int attributes, Handler handler) {
    /** Executes one decoded instruction; operands are in the CPU's decode fields. */
    @FunctionalInterface
    interface Handler {
        void execute(Cpu cpu);
    }

    static final int MODRM = 1;
    /** A prefix byte: its handler updates the prefix state and decoding continues. */
    static final int PREFIX = 2;
    /** The row is resolved per ModR/M reg through the group table. */
    static final int GROUP = 4;

    static final int IMM_SHIFT = 4;
    static final int IMM_MASK = 0xF << IMM_SHIFT;
    static final int IB = 1 << IMM_SHIFT;      // imm8, zero-extended
    static final int IBS = 2 << IMM_SHIFT;     // imm8, sign-extended to the operand size
    static final int IW = 3 << IMM_SHIFT;      // imm16
    static final int IV = 4 << IMM_SHIFT;      // imm16 or imm32 by operand size
    static final int AP = 5 << IMM_SHIFT;      // far pointer: offset (operand size) then selector
    static final int MOFFS = 6 << IMM_SHIFT;   // moffs: offset by address size
    static final int IW_IB = 7 << IMM_SHIFT;   // ENTER: imm16, imm8
}
