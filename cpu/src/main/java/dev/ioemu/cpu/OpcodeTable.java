package dev.ioemu.cpu;

import static dev.ioemu.cpu.Form.*;

/**
 * The opcode map as data (Intel SDM vol. 2 appendix A): one {@link Form} row per opcode form,
 * 256 one-byte entries, 256 0F-prefixed entries and the ModR/M-reg groups. A null entry is an
 * opcode the model does not have (#UD). The 8086 and 80286 tables differ from the 386 one where
 * the chips do (shared/testdata/x86/README.md): the 8086 aliases 60-6F to 70-7F and C0/C1/C8/C9
 * to C2/C3/CA/CB, pops CS with 0F and treats F1 as LOCK.
 */
final class OpcodeTable {
    /** Marker row for the 0F escape byte. */
    static final Form ESCAPE_0F = new Form("(0F escape)", 0, c -> {
        throw new IllegalStateException("0F escape executed as an instruction");
    });

    /** The Jcc rows' handlers, one instance each so {@link Specialized} can recognise them. */
    static final Form.Handler JCC_SHORT = Control::jccShort;
    static final Form.Handler JCC_NEAR = Control::jccNear;

    final Form[] oneByte = new Form[256];
    final Form[] twoByte = new Form[256];
    /** Group rows, indexed by (opcode << 3 | reg); opcode includes 0x100 for 0F xx. */
    final Form[] groups = new Form[0x200 << 3];

    private static final String[] ALU = {"ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP"};
    private static final String[] SHIFTS = {"ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAL", "SAR"};
    private static final String[] CONDITIONS = {"O", "NO", "B", "NB", "Z", "NZ", "BE", "NBE",
            "S", "NS", "P", "NP", "L", "NL", "LE", "NLE"};

    private static final OpcodeTable I8086 = new OpcodeTable(CpuModel.I8086);
    private static final OpcodeTable I80286 = new OpcodeTable(CpuModel.I80286);
    private static final OpcodeTable I386 = new OpcodeTable(CpuModel.I386);

    static OpcodeTable forModel(CpuModel model) {
        return switch (model) {
            case I8086 -> I8086;
            case I80286 -> I80286;
            case I386 -> I386;
        };
    }

    private OpcodeTable(CpuModel model) {
        common();
        if (model.is8086()) {
            only8086();
        } else {
            from286();
            if (model.is386()) {
                only386();
            }
        }
    }

    private void row(int op, String mnemonic, int attrs, Form.Handler h) {
        oneByte[op] = new Form(mnemonic, attrs, h);
    }

    private void row0F(int op, String mnemonic, int attrs, Form.Handler h) {
        twoByte[op] = new Form(mnemonic, attrs, h);
    }

    /** A group opcode: the one-byte (or 0F) row dispatches on ModR/M reg. */
    private void groupRow(int op, String name) {
        Form f = new Form(name, MODRM | GROUP, c -> {
            throw new IllegalStateException("group row executed");
        });
        if (op >= 0x100) {
            twoByte[op & 0xFF] = f;
        } else {
            oneByte[op] = f;
        }
    }

    private void group(int op, int reg, String mnemonic, int attrs, Form.Handler h) {
        groups[(op << 3) | reg] = new Form(mnemonic, attrs | MODRM, h);
    }

    private void common() {
        for (int i = 0; i < 8; i++) {
            int base = i << 3;
            row(base, ALU[i] + " Eb,Gb", MODRM, Alu::arithEbGb);
            row(base + 1, ALU[i] + " Ev,Gv", MODRM, Alu::arithEvGv);
            row(base + 2, ALU[i] + " Gb,Eb", MODRM, Alu::arithGbEb);
            row(base + 3, ALU[i] + " Gv,Ev", MODRM, Alu::arithGvEv);
            row(base + 4, ALU[i] + " AL,Ib", IB, Alu::arithAlIb);
            row(base + 5, ALU[i] + " eAX,Iv", IV, Alu::arithAxIv);
        }
        row(0x06, "PUSH ES", 0, Transfer::pushSeg);
        row(0x07, "POP ES", 0, Transfer::popSeg);
        row(0x0E, "PUSH CS", 0, Transfer::pushSeg);
        row(0x16, "PUSH SS", 0, Transfer::pushSeg);
        row(0x17, "POP SS", 0, Transfer::popSeg);
        row(0x1E, "PUSH DS", 0, Transfer::pushSeg);
        row(0x1F, "POP DS", 0, Transfer::popSeg);
        row(0x26, "ES:", PREFIX, Control::segmentPrefix);
        row(0x2E, "CS:", PREFIX, Control::segmentPrefix);
        row(0x36, "SS:", PREFIX, Control::segmentPrefix);
        row(0x3E, "DS:", PREFIX, Control::segmentPrefix);
        row(0x27, "DAA", 0, Alu::daa);
        row(0x2F, "DAS", 0, Alu::das);
        row(0x37, "AAA", 0, Alu::aaa);
        row(0x3F, "AAS", 0, Alu::aas);
        for (int i = 0; i < 8; i++) {
            row(0x40 + i, "INC r", 0, Alu::incReg);
            row(0x48 + i, "DEC r", 0, Alu::decReg);
            row(0x50 + i, "PUSH r", 0, Transfer::pushReg);
            row(0x58 + i, "POP r", 0, Transfer::popReg);
        }
        for (int i = 0; i < 16; i++) {
            row(0x70 + i, "J" + CONDITIONS[i] + " Jb", IBS, JCC_SHORT);
        }
        groupRow(0x80, "group1 Eb,Ib");
        groupRow(0x81, "group1 Ev,Iv");
        groupRow(0x82, "group1 Eb,Ib (alias)");
        groupRow(0x83, "group1 Ev,Ib");
        for (int i = 0; i < 8; i++) {
            group(0x80, i, ALU[i] + " Eb,Ib", IB, Alu::group1EbIb);
            group(0x81, i, ALU[i] + " Ev,Iv", IV, Alu::group1EvIv);
            group(0x82, i, ALU[i] + " Eb,Ib", IB, Alu::group1EbIb);
            group(0x83, i, ALU[i] + " Ev,Ib", IBS, Alu::group1EvIv);
        }
        row(0x84, "TEST Eb,Gb", MODRM, Alu::testEbGb);
        row(0x85, "TEST Ev,Gv", MODRM, Alu::testEvGv);
        row(0x86, "XCHG Eb,Gb", MODRM, Transfer::xchgEbGb);
        row(0x87, "XCHG Ev,Gv", MODRM, Transfer::xchgEvGv);
        row(0x88, "MOV Eb,Gb", MODRM, Transfer::movEbGb);
        row(0x89, "MOV Ev,Gv", MODRM, Transfer::movEvGv);
        row(0x8A, "MOV Gb,Eb", MODRM, Transfer::movGbEb);
        row(0x8B, "MOV Gv,Ev", MODRM, Transfer::movGvEv);
        row(0x8C, "MOV Ew,Sw", MODRM, Transfer::movEwSw);
        row(0x8D, "LEA Gv,M", MODRM, Transfer::lea);
        row(0x8E, "MOV Sw,Ew", MODRM, Transfer::movSwEw);
        groupRow(0x8F, "group1A");
        group(0x8F, 0, "POP Ev", 0, Transfer::popEv);
        row(0x90, "NOP", 0, Transfer::nop);
        for (int i = 1; i < 8; i++) {
            row(0x90 + i, "XCHG eAX,r", 0, Transfer::xchgAxReg);
        }
        row(0x98, "CBW", 0, Transfer::cbw);
        row(0x99, "CWD", 0, Transfer::cwd);
        row(0x9A, "CALL Ap", AP, Control::callFar);
        row(0x9B, "WAIT", 0, Control::fwait);
        row(0x9C, "PUSHF", 0, Transfer::pushf);
        row(0x9D, "POPF", 0, Transfer::popf);
        row(0x9E, "SAHF", 0, Transfer::sahf);
        row(0x9F, "LAHF", 0, Transfer::lahf);
        row(0xA0, "MOV AL,Ob", MOFFS, Transfer::movAlMoffs);
        row(0xA1, "MOV eAX,Ov", MOFFS, Transfer::movAxMoffs);
        row(0xA2, "MOV Ob,AL", MOFFS, Transfer::movMoffsAl);
        row(0xA3, "MOV Ov,eAX", MOFFS, Transfer::movMoffsAx);
        row(0xA4, "MOVSB", 0, Transfer::movs);
        row(0xA5, "MOVSW", 0, Transfer::movs);
        row(0xA6, "CMPSB", 0, Transfer::cmps);
        row(0xA7, "CMPSW", 0, Transfer::cmps);
        row(0xA8, "TEST AL,Ib", IB, Alu::testAlIb);
        row(0xA9, "TEST eAX,Iv", IV, Alu::testAxIv);
        row(0xAA, "STOSB", 0, Transfer::stos);
        row(0xAB, "STOSW", 0, Transfer::stos);
        row(0xAC, "LODSB", 0, Transfer::lods);
        row(0xAD, "LODSW", 0, Transfer::lods);
        row(0xAE, "SCASB", 0, Transfer::scas);
        row(0xAF, "SCASW", 0, Transfer::scas);
        for (int i = 0; i < 8; i++) {
            row(0xB0 + i, "MOV r8,Ib", IB, Transfer::movRegIb);
            row(0xB8 + i, "MOV r,Iv", IV, Transfer::movRegIv);
        }
        row(0xC2, "RET Iw", IW, Control::retImm);
        row(0xC3, "RET", 0, Control::ret);
        row(0xC4, "LES Gv,Mp", MODRM, Transfer::loadFarPointer);
        row(0xC5, "LDS Gv,Mp", MODRM, Transfer::loadFarPointer);
        groupRow(0xC6, "group11 Eb,Ib");
        groupRow(0xC7, "group11 Ev,Iv");
        group(0xC6, 0, "MOV Eb,Ib", IB, Transfer::movEbIb);
        group(0xC7, 0, "MOV Ev,Iv", IV, Transfer::movEvIv);
        row(0xCA, "RETF Iw", IW, Control::retFar);
        row(0xCB, "RETF", 0, Control::retFar);
        row(0xCC, "INT3", 0, Control::int3);
        row(0xCD, "INT Ib", IB, Control::intN);
        row(0xCE, "INTO", 0, Control::into);
        row(0xCF, "IRET", 0, Control::iret);
        groupRow(0xD0, "group2 Eb,1");
        groupRow(0xD1, "group2 Ev,1");
        groupRow(0xD2, "group2 Eb,CL");
        groupRow(0xD3, "group2 Ev,CL");
        for (int i = 0; i < 8; i++) {
            group(0xD0, i, SHIFTS[i] + " Eb,1", 0, Alu::shiftEb);
            group(0xD1, i, SHIFTS[i] + " Ev,1", 0, Alu::shiftEv);
            group(0xD2, i, SHIFTS[i] + " Eb,CL", 0, Alu::shiftEb);
            group(0xD3, i, SHIFTS[i] + " Ev,CL", 0, Alu::shiftEv);
        }
        row(0xD4, "AAM Ib", IB, Alu::aam);
        row(0xD5, "AAD Ib", IB, Alu::aad);
        row(0xD6, "SALC", 0, Alu::salc);
        row(0xD7, "XLAT", 0, Transfer::xlat);
        for (int i = 0; i < 8; i++) {
            row(0xD8 + i, "ESC", MODRM, Control::esc);
        }
        row(0xE0, "LOOPNE Jb", IBS, Control::loop);
        row(0xE1, "LOOPE Jb", IBS, Control::loop);
        row(0xE2, "LOOP Jb", IBS, Control::loop);
        row(0xE3, "JCXZ Jb", IBS, Control::jcxz);
        row(0xE4, "IN AL,Ib", IB, Transfer::inImm);
        row(0xE5, "IN eAX,Ib", IB, Transfer::inImm);
        row(0xE6, "OUT Ib,AL", IB, Transfer::outImm);
        row(0xE7, "OUT Ib,eAX", IB, Transfer::outImm);
        row(0xE8, "CALL Jv", IV, Control::callRelative);
        row(0xE9, "JMP Jv", IV, Control::jmpRelative);
        row(0xEA, "JMP Ap", AP, Control::jmpFar);
        row(0xEB, "JMP Jb", IBS, Control::jmpRelative);
        row(0xEC, "IN AL,DX", 0, Transfer::inDx);
        row(0xED, "IN eAX,DX", 0, Transfer::inDx);
        row(0xEE, "OUT DX,AL", 0, Transfer::outDx);
        row(0xEF, "OUT DX,eAX", 0, Transfer::outDx);
        row(0xF0, "LOCK", PREFIX, Control::lockPrefix);
        row(0xF2, "REPNE", PREFIX, Control::repPrefix);
        row(0xF3, "REP", PREFIX, Control::repPrefix);
        row(0xF4, "HLT", 0, Control::hlt);
        row(0xF5, "CMC", 0, Control::cmc);
        groupRow(0xF6, "group3 Eb");
        groupRow(0xF7, "group3 Ev");
        for (int reg : new int[] {0, 1}) {
            group(0xF6, reg, "TEST Eb,Ib", IB, Alu::testEbIb);
            group(0xF7, reg, "TEST Ev,Iv", IV, Alu::testEvIv);
        }
        group(0xF6, 2, "NOT Eb", 0, Alu::notEb);
        group(0xF7, 2, "NOT Ev", 0, Alu::notEv);
        group(0xF6, 3, "NEG Eb", 0, Alu::negEb);
        group(0xF7, 3, "NEG Ev", 0, Alu::negEv);
        group(0xF6, 4, "MUL Eb", 0, Alu::mulEb);
        group(0xF7, 4, "MUL Ev", 0, Alu::mulEv);
        group(0xF6, 5, "IMUL Eb", 0, Alu::imulEb);
        group(0xF7, 5, "IMUL Ev", 0, Alu::imulEv);
        group(0xF6, 6, "DIV Eb", 0, Alu::divEb);
        group(0xF7, 6, "DIV Ev", 0, Alu::divEv);
        group(0xF6, 7, "IDIV Eb", 0, Alu::idivEb);
        group(0xF7, 7, "IDIV Ev", 0, Alu::idivEv);
        row(0xF8, "CLC", 0, Control::clc);
        row(0xF9, "STC", 0, Control::stc);
        row(0xFA, "CLI", 0, Control::cli);
        row(0xFB, "STI", 0, Control::sti);
        row(0xFC, "CLD", 0, Control::cld);
        row(0xFD, "STD", 0, Control::std);
        groupRow(0xFE, "group4");
        group(0xFE, 0, "INC Eb", 0, Alu::incEb);
        group(0xFE, 1, "DEC Eb", 0, Alu::decEb);
        groupRow(0xFF, "group5");
        group(0xFF, 0, "INC Ev", 0, Alu::incEv);
        group(0xFF, 1, "DEC Ev", 0, Alu::decEv);
        group(0xFF, 2, "CALL Ev", 0, Control::callIndirect);
        group(0xFF, 3, "CALL Mp", 0, Control::callFarIndirect);
        group(0xFF, 4, "JMP Ev", 0, Control::jmpIndirect);
        group(0xFF, 5, "JMP Mp", 0, Control::jmpFarIndirect);
        group(0xFF, 6, "PUSH Ev", 0, Transfer::pushEv);
    }

    /** The 8086's undocumented aliases and its missing 186+ opcodes. */
    private void only8086() {
        row(0x0F, "POP CS", 0, Transfer::popSeg);
        for (int i = 0; i < 16; i++) {
            row(0x60 + i, "J" + CONDITIONS[i] + " Jb (alias)", IBS, JCC_SHORT);
        }
        row(0xC0, "RET Iw (alias)", IW, Control::retImm);
        row(0xC1, "RET (alias)", 0, Control::ret);
        row(0xC8, "RETF Iw (alias)", IW, Control::retFar);
        row(0xC9, "RETF (alias)", 0, Control::retFar);
        row(0xF1, "LOCK (alias)", PREFIX, Control::lockPrefix);
        // The 8086 ignores reg in 8F, C6 and C7, and FF /7 pushes like FF /6.
        for (int reg = 1; reg < 8; reg++) {
            group(0x8F, reg, "POP Ev (alias)", 0, Transfer::popEv);
            group(0xC6, reg, "MOV Eb,Ib (alias)", IB, Transfer::movEbIb);
            group(0xC7, reg, "MOV Ev,Iv (alias)", IV, Transfer::movEvIv);
        }
        group(0xFF, 7, "PUSH Ev (alias)", 0, Transfer::pushEv);
    }

    /** The 80186/80286 additions. */
    private void from286() {
        oneByte[0x0F] = ESCAPE_0F;
        row(0x60, "PUSHA", 0, Transfer::pusha);
        row(0x61, "POPA", 0, Transfer::popa);
        row(0x62, "BOUND Gv,Ma", MODRM, Control::bound);
        row(0x68, "PUSH Iv", IV, Transfer::pushIv);
        row(0x69, "IMUL Gv,Ev,Iv", MODRM | IV, Alu::imulGvEvIv);
        row(0x6A, "PUSH Ib", IBS, Transfer::pushIv);
        row(0x6B, "IMUL Gv,Ev,Ib", MODRM | IBS, Alu::imulGvEvIv);
        row(0x6C, "INSB", 0, Transfer::ins);
        row(0x6D, "INSW", 0, Transfer::ins);
        row(0x6E, "OUTSB", 0, Transfer::outs);
        row(0x6F, "OUTSW", 0, Transfer::outs);
        groupRow(0xC0, "group2 Eb,Ib");
        groupRow(0xC1, "group2 Ev,Ib");
        for (int i = 0; i < 8; i++) {
            group(0xC0, i, SHIFTS[i] + " Eb,Ib", IB, Alu::shiftEb);
            group(0xC1, i, SHIFTS[i] + " Ev,Ib", IB, Alu::shiftEv);
        }
        row(0xC8, "ENTER Iw,Ib", IW_IB, Control::enter);
        row(0xC9, "LEAVE", 0, Control::leave);
        // 0F: the 286's protected-mode system instructions.
        groupRow(0x100, "group6");
        group(0x100, 0, "SLDT Ew", 0, SystemOps::storeSystemSelector);
        group(0x100, 1, "STR Ew", 0, SystemOps::storeSystemSelector);
        group(0x100, 2, "LLDT Ew", 0, SystemOps::lldt);
        group(0x100, 3, "LTR Ew", 0, SystemOps::ltr);
        group(0x100, 4, "VERR Ew", 0, SystemOps::verify);
        group(0x100, 5, "VERW Ew", 0, SystemOps::verify);
        groupRow(0x101, "group7");
        group(0x101, 0, "SGDT Ms", 0, SystemOps::storeTableRegister);
        group(0x101, 1, "SIDT Ms", 0, SystemOps::storeTableRegister);
        group(0x101, 2, "LGDT Ms", 0, SystemOps::loadTableRegister);
        group(0x101, 3, "LIDT Ms", 0, SystemOps::loadTableRegister);
        group(0x101, 4, "SMSW Ew", 0, SystemOps::smsw);
        group(0x101, 6, "LMSW Ew", 0, SystemOps::lmsw);
        row0F(0x02, "LAR Gv,Ew", MODRM, SystemOps::larLsl);
        row0F(0x03, "LSL Gv,Ew", MODRM, SystemOps::larLsl);
        row0F(0x06, "CLTS", 0, SystemOps::clts);
    }

    /** The 386 (and the few 486/Pentium additions a Pentium-class CPUID implies). */
    private void only386() {
        row(0x64, "FS:", PREFIX, Control::segmentPrefix);
        row(0x65, "GS:", PREFIX, Control::segmentPrefix);
        row(0x66, "operand size", PREFIX, Control::operandSizePrefix);
        row(0x67, "address size", PREFIX, Control::addressSizePrefix);
        row(0xF1, "INT1", 0, Control::int1);
        group(0x101, 7, "INVLPG M", 0, SystemOps::invlpg);
        row0F(0x08, "INVD", 0, SystemOps::invalidateCaches);
        row0F(0x09, "WBINVD", 0, SystemOps::invalidateCaches);
        row0F(0x0B, "UD2", 0, SystemOps::ud2);
        row0F(0x20, "MOV Rd,Cd", MODRM, SystemOps::movFromCr);
        row0F(0x21, "MOV Rd,Dd", MODRM, SystemOps::movFromDr);
        row0F(0x22, "MOV Cd,Rd", MODRM, SystemOps::movToCr);
        row0F(0x23, "MOV Dd,Rd", MODRM, SystemOps::movToDr);
        row0F(0x31, "RDTSC", 0, SystemOps::rdtsc);
        for (int i = 0; i < 16; i++) {
            row0F(0x80 + i, "J" + CONDITIONS[i] + " Jv", IV, JCC_NEAR);
            row0F(0x90 + i, "SET" + CONDITIONS[i] + " Eb", MODRM, Control::setcc);
        }
        row0F(0xA0, "PUSH FS", 0, Transfer::pushSeg);
        row0F(0xA1, "POP FS", 0, Transfer::popSeg);
        row0F(0xA2, "CPUID", 0, SystemOps::cpuid);
        row0F(0xA3, "BT Ev,Gv", MODRM, Transfer::bitTestGv);
        row0F(0xA4, "SHLD Ev,Gv,Ib", MODRM | IB, Alu::shiftDouble);
        row0F(0xA5, "SHLD Ev,Gv,CL", MODRM, Alu::shiftDouble);
        row0F(0xA8, "PUSH GS", 0, Transfer::pushSeg);
        row0F(0xA9, "POP GS", 0, Transfer::popSeg);
        row0F(0xAB, "BTS Ev,Gv", MODRM, Transfer::bitTestGv);
        row0F(0xAC, "SHRD Ev,Gv,Ib", MODRM | IB, Alu::shiftDouble);
        row0F(0xAD, "SHRD Ev,Gv,CL", MODRM, Alu::shiftDouble);
        row0F(0xAF, "IMUL Gv,Ev", MODRM, Alu::imulGvEv);
        row0F(0xB0, "CMPXCHG Eb,Gb", MODRM, Transfer::cmpxchg);
        row0F(0xB1, "CMPXCHG Ev,Gv", MODRM, Transfer::cmpxchg);
        row0F(0xB2, "LSS Gv,Mp", MODRM, Transfer::loadFarPointer);
        row0F(0xB3, "BTR Ev,Gv", MODRM, Transfer::bitTestGv);
        row0F(0xB4, "LFS Gv,Mp", MODRM, Transfer::loadFarPointer);
        row0F(0xB5, "LGS Gv,Mp", MODRM, Transfer::loadFarPointer);
        row0F(0xB6, "MOVZX Gv,Eb", MODRM, Transfer::movzx);
        row0F(0xB7, "MOVZX Gv,Ew", MODRM, Transfer::movzx);
        groupRow(0x1BA, "group8");
        group(0x1BA, 4, "BT Ev,Ib", IB, Transfer::bitTestIb);
        group(0x1BA, 5, "BTS Ev,Ib", IB, Transfer::bitTestIb);
        group(0x1BA, 6, "BTR Ev,Ib", IB, Transfer::bitTestIb);
        group(0x1BA, 7, "BTC Ev,Ib", IB, Transfer::bitTestIb);
        row0F(0xBB, "BTC Ev,Gv", MODRM, Transfer::bitTestGv);
        row0F(0xBC, "BSF Gv,Ev", MODRM, Transfer::bitScan);
        row0F(0xBD, "BSR Gv,Ev", MODRM, Transfer::bitScan);
        row0F(0xBE, "MOVSX Gv,Eb", MODRM, Transfer::movsx);
        row0F(0xBF, "MOVSX Gv,Ew", MODRM, Transfer::movsx);
        row0F(0xC0, "XADD Eb,Gb", MODRM, Transfer::xadd);
        row0F(0xC1, "XADD Ev,Gv", MODRM, Transfer::xadd);
        for (int i = 0; i < 8; i++) {
            row0F(0xC8 + i, "BSWAP r32", 0, Transfer::bswap);
        }
    }
}
