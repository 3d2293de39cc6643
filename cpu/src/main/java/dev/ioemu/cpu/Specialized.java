package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;

/**
 * Handlers specialised at decode time (issue 10, "Speed by design"): where a table row's general
 * handler would branch on something the decoder already knows (the condition of a Jcc, the
 * element size of a string instruction without REP), {@link #choose} picks a handler with that
 * branch removed. Each one does exactly what the row's handler does for that case; the row (and
 * its mnemonic for traces) stays the same.
 */
final class Specialized {
    private Specialized() {
    }

    private static final Form.Handler[] JCC = {
        Specialized::jo, Specialized::jno, Specialized::jb, Specialized::jnb,
        Specialized::jz, Specialized::jnz, Specialized::jbe, Specialized::jnbe,
        Specialized::js, Specialized::jns, Specialized::jp, Specialized::jnp,
        Specialized::jl, Specialized::jnl, Specialized::jle, Specialized::jnle,
    };

    /**
     * The handler to run for an instruction decoded as {@code form} ({@code opcode}, with 0x100
     * for 0F xx) with these prefixes and ModR/M fields.
     */
    static Form.Handler choose(CpuModel model, Form form, int opcode, int rep, boolean o32, boolean memoryOperand,
                               int reg) {
        Form.Handler h = form.handler();
        if (h == OpcodeTable.JCC_SHORT || h == OpcodeTable.JCC_NEAR) {
            return JCC[opcode & 0xF];
        }
        if (o32) {
            Form.Handler s = choose32(opcode, memoryOperand, reg);
            if (s != null) {
                return s;
            }
        }
        // Without REP, and on the 386 only: the 80286 advances SI/DI before the access (its
        // fault bookkeeping stays with the general handler).
        if (rep == 0 && model.is386()) {
            switch (opcode) {
                case 0xA4 -> { return Specialized::movsb; }
                case 0xA5 -> { return Specialized::movsv; }
                case 0xAA -> { return Specialized::stosb; }
                case 0xAB -> { return Specialized::stosv; }
                case 0xAC -> { return Specialized::lodsb; }
                case 0xAD -> { return Specialized::lodsv; }
                default -> { }
            }
        }
        return h;
    }

    /** 32-bit operand size (a 386): MOV and the group-1 operations with the operand kind fixed. */
    private static Form.Handler choose32(int opcode, boolean memoryOperand, int reg) {
        if (opcode < 0x40 && (opcode & 7) == 1) {
            return (memoryOperand ? ALU_EV_GV_MEM : ALU_EV_GV_REG)[opcode >>> 3];
        }
        if (opcode < 0x40 && (opcode & 7) == 3) {
            return (memoryOperand ? ALU_GV_EV_MEM : ALU_GV_EV_REG)[opcode >>> 3];
        }
        return switch (opcode) {
            case 0x81, 0x83 -> (memoryOperand ? ALU_EV_IV_MEM : ALU_EV_IV_REG)[reg];
            case 0x89 -> memoryOperand ? Specialized::movEvGvMem32 : Specialized::movEvGvReg32;
            case 0x8B -> memoryOperand ? Specialized::movGvEvMem32 : Specialized::movGvEvReg32;
            default -> null;
        };
    }

    // ---- 32-bit MOV and group-1 operations (Intel SDM vol. 2: ADD, OR, AND, SUB, XOR, CMP) ----

    private static void movEvGvReg32(Cpu c) {
        c.r[c.rm] = c.r[c.reg];
    }

    private static void movEvGvMem32(Cpu c) {
        c.write32(c.eaSeg, c.eaOff, c.r[c.reg]);
    }

    private static void movGvEvReg32(Cpu c) {
        c.r[c.reg] = c.r[c.rm];
    }

    private static void movGvEvMem32(Cpu c) {
        c.r[c.reg] = c.read32(c.eaSeg, c.eaOff);
    }

    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit EvGvReg handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_EV_GV_REG = {
        Specialized::addEvGvReg32,
        Specialized::orEvGvReg32,
        null,
        null,
        Specialized::andEvGvReg32,
        Specialized::subEvGvReg32,
        Specialized::xorEvGvReg32,
        Specialized::cmpEvGvReg32,
    };
    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit EvGvMem handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_EV_GV_MEM = {
        Specialized::addEvGvMem32,
        Specialized::orEvGvMem32,
        null,
        null,
        Specialized::andEvGvMem32,
        Specialized::subEvGvMem32,
        Specialized::xorEvGvMem32,
        Specialized::cmpEvGvMem32,
    };
    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit GvEvReg handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_GV_EV_REG = {
        Specialized::addGvEvReg32,
        Specialized::orGvEvReg32,
        null,
        null,
        Specialized::andGvEvReg32,
        Specialized::subGvEvReg32,
        Specialized::xorGvEvReg32,
        Specialized::cmpGvEvReg32,
    };
    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit GvEvMem handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_GV_EV_MEM = {
        Specialized::addGvEvMem32,
        Specialized::orGvEvMem32,
        null,
        null,
        Specialized::andGvEvMem32,
        Specialized::subGvEvMem32,
        Specialized::xorGvEvMem32,
        Specialized::cmpGvEvMem32,
    };
    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit EvIvReg handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_EV_IV_REG = {
        Specialized::addEvIvReg32,
        Specialized::orEvIvReg32,
        null,
        null,
        Specialized::andEvIvReg32,
        Specialized::subEvIvReg32,
        Specialized::xorEvIvReg32,
        Specialized::cmpEvIvReg32,
    };
    /** Group-1 operation (ModR/M reg or opcode bits 3-5) → 32-bit EvIvMem handler; null: ADC, SBB (general). */
    private static final Form.Handler[] ALU_EV_IV_MEM = {
        Specialized::addEvIvMem32,
        Specialized::orEvIvMem32,
        null,
        null,
        Specialized::andEvIvMem32,
        Specialized::subEvIvMem32,
        Specialized::xorEvIvMem32,
        Specialized::cmpEvIvMem32,
    };

    private static void addEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.r[c.rm] = res;
    }

    private static void addEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void addGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.r[c.reg] = res;
    }

    private static void addGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.r[c.reg] = res;
    }

    private static void addEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.r[c.rm] = res;
    }

    private static void addEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a + b;
        c.setArith(a, b, res, 4, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void orEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void orEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void orGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void orGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void orEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void orEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a | b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void andEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void andEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void andGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void andGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void andEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void andEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a & b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void subEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.r[c.rm] = res;
    }

    private static void subEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void subGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.r[c.reg] = res;
    }

    private static void subGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.r[c.reg] = res;
    }

    private static void subEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.r[c.rm] = res;
    }

    private static void subEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a - b;
        c.setArith(a, b, res, 4, true);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void xorEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void xorEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void xorGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void xorGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.reg] = res;
    }

    private static void xorEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.r[c.rm] = res;
    }

    private static void xorEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a ^ b;
        c.setResultFlags(res, 4, false, false, false);
        c.write32(c.eaSeg, c.eaOff, res);
    }

    private static void cmpEvGvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.r[c.reg];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    private static void cmpEvGvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.r[c.reg];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    private static void cmpGvEvReg32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.r[c.rm];
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    private static void cmpGvEvMem32(Cpu c) {
        int a = c.r[c.reg];
        int b = c.read32(c.eaSeg, c.eaOff);
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    private static void cmpEvIvReg32(Cpu c) {
        int a = c.r[c.rm];
        int b = c.imm;
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    private static void cmpEvIvMem32(Cpu c) {
        int a = c.read32(c.eaSeg, c.eaOff);
        int b = c.imm;
        int res = a - b;
        c.setArith(a, b, res, 4, true);
    }

    // ---- Jcc: one handler per condition (Intel SDM vol. 2, Jcc) ----

    private static void jump(Cpu c) {
        int target = c.eip + c.imm;
        c.eip = c.o32 ? target : target & 0xFFFF;
    }

    private static void jo(Cpu c) {
        if (c.of()) {
            jump(c);
        }
    }

    private static void jno(Cpu c) {
        if (!c.of()) {
            jump(c);
        }
    }

    private static void jb(Cpu c) {
        if (c.cf()) {
            jump(c);
        }
    }

    private static void jnb(Cpu c) {
        if (!c.cf()) {
            jump(c);
        }
    }

    private static void jz(Cpu c) {
        if (c.zf()) {
            jump(c);
        }
    }

    private static void jnz(Cpu c) {
        if (!c.zf()) {
            jump(c);
        }
    }

    private static void jbe(Cpu c) {
        if (c.cf() || c.zf()) {
            jump(c);
        }
    }

    private static void jnbe(Cpu c) {
        if (!(c.cf() || c.zf())) {
            jump(c);
        }
    }

    private static void js(Cpu c) {
        if (c.sf()) {
            jump(c);
        }
    }

    private static void jns(Cpu c) {
        if (!c.sf()) {
            jump(c);
        }
    }

    private static void jp(Cpu c) {
        if (c.pf()) {
            jump(c);
        }
    }

    private static void jnp(Cpu c) {
        if (!c.pf()) {
            jump(c);
        }
    }

    private static void jl(Cpu c) {
        if (c.sf() != c.of()) {
            jump(c);
        }
    }

    private static void jnl(Cpu c) {
        if (c.sf() == c.of()) {
            jump(c);
        }
    }

    private static void jle(Cpu c) {
        if (c.zf() || c.sf() != c.of()) {
            jump(c);
        }
    }

    private static void jnle(Cpu c) {
        if (!(c.zf() || c.sf() != c.of())) {
            jump(c);
        }
    }

    // ---- string instructions without REP on the 386: one element, SI/DI advanced after it ----

    private static int index(Cpu c, int i) {
        return c.a32 ? c.r[i] : c.r[i] & 0xFFFF;
    }

    private static void advance(Cpu c, int i, int size) {
        int step = c.df() ? -size : size;
        if (c.a32) {
            c.r[i] += step;
        } else {
            c.setReg16(i, c.r[i] + step);
        }
    }

    private static void movsb(Cpu c) {
        int v = c.read8(c.dataSegment(), index(c, ESI));
        c.write8(ES, index(c, EDI), v);
        advance(c, ESI, 1);
        advance(c, EDI, 1);
    }

    private static void movsv(Cpu c) {
        if (c.o32) {
            int v = c.read32(c.dataSegment(), index(c, ESI));
            c.write32(ES, index(c, EDI), v);
            advance(c, ESI, 4);
            advance(c, EDI, 4);
        } else {
            int v = c.read16(c.dataSegment(), index(c, ESI));
            c.write16(ES, index(c, EDI), v);
            advance(c, ESI, 2);
            advance(c, EDI, 2);
        }
    }

    private static void stosb(Cpu c) {
        c.write8(ES, index(c, EDI), c.r[EAX]);
        advance(c, EDI, 1);
    }

    private static void stosv(Cpu c) {
        if (c.o32) {
            c.write32(ES, index(c, EDI), c.r[EAX]);
            advance(c, EDI, 4);
        } else {
            c.write16(ES, index(c, EDI), c.r[EAX]);
            advance(c, EDI, 2);
        }
    }

    private static void lodsb(Cpu c) {
        c.setReg8(EAX, c.read8(c.dataSegment(), index(c, ESI)));
        advance(c, ESI, 1);
    }

    private static void lodsv(Cpu c) {
        if (c.o32) {
            c.r[EAX] = c.read32(c.dataSegment(), index(c, ESI));
            advance(c, ESI, 4);
        } else {
            c.setReg16(EAX, c.read16(c.dataSegment(), index(c, ESI)));
            advance(c, ESI, 2);
        }
    }
}
