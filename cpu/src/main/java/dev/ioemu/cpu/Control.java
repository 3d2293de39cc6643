package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;
import static dev.ioemu.cpu.Eflags.*;

/**
 * Handlers of control transfers (Jcc, JMP, CALL, RET, LOOP, INT, IRET, ENTER/LEAVE, BOUND), the
 * flag instructions, HLT and the prefixes.
 */
final class Control {
    private Control() {
    }

    /** The sixteen conditions of Jcc/SETcc, by the low opcode nibble. */
    static boolean condition(Cpu c, int cc) {
        boolean v = switch (cc >>> 1) {
            case 0 -> c.of();
            case 1 -> c.cf();
            case 2 -> c.zf();
            case 3 -> c.cf() || c.zf();
            case 4 -> c.sf();
            case 5 -> c.pf();
            case 6 -> c.sf() != c.of();
            default -> c.zf() || c.sf() != c.of();
        };
        return v != ((cc & 1) != 0);
    }

    private static void jumpRelative(Cpu c, int rel) {
        int target = c.eip + rel;
        c.eip = c.o32 ? target : target & 0xFFFF;
    }

    /** 70-7F (and 60-6F on the 8086): Jcc rel8. */
    static void jccShort(Cpu c) {
        if (condition(c, c.opcode & 0xF)) {
            jumpRelative(c, c.imm);
        }
    }

    /** 0F 80-8F: Jcc rel16/32. */
    static void jccNear(Cpu c) {
        if (condition(c, c.opcode & 0xF)) {
            jumpRelative(c, c.imm);
        }
    }

    /** 0F 90-9F: SETcc Eb. */
    static void setcc(Cpu c) {
        c.writeE8(condition(c, c.opcode & 0xF) ? 1 : 0);
    }

    /** EB, E9. */
    static void jmpRelative(Cpu c) {
        jumpRelative(c, c.imm);
    }

    /** E8. */
    static void callRelative(Cpu c) {
        c.pushV(c.eip);
        jumpRelative(c, c.imm);
    }

    /** FF /2: CALL Ev. */
    static void callIndirect(Cpu c) {
        int target = c.readEv();
        c.pushV(c.eip);
        c.eip = target;
    }

    /** FF /4: JMP Ev. */
    static void jmpIndirect(Cpu c) {
        c.eip = c.readEv();
    }

    /** C3 (C1 on the 8086). */
    static void ret(Cpu c) {
        c.eip = c.popV();
    }

    /** C2 iw (C0 on the 8086). */
    static void retImm(Cpu c) {
        c.eip = c.popV();
        c.adjustSp(c.imm & 0xFFFF);
    }

    /** EA: JMP ptr16:16/32. */
    static void jmpFar(Cpu c) {
        c.loadCodeSegment(c.imm2, c.imm);
    }

    /** 9A: CALL ptr16:16/32. */
    static void callFar(Cpu c) {
        farCall(c, c.imm2, c.imm);
    }

    private static void farCall(Cpu c, int selector, int offset) {
        int cs = c.segSel[CS];
        int ip = c.eip;
        if (c.protectedMode) {
            // Check the target before anything is pushed.
            long desc = c.readDescriptor(selector);
            if ((Cpu.descriptorAttributes(desc) & 0x18) != 0x18) {
                throw c.gp(selector & 0xFFFC);
            }
        }
        c.pushV(cs);
        c.pushV(ip);
        c.loadCodeSegment(selector, offset);
    }

    /** FF /3: CALL m16:16/32 (register form: #UD from the 286 on). */
    static void callFarIndirect(Cpu c) {
        farRequireMemory(c);
        int off = c.readV(c.eaSeg, c.eaOff);
        int sel = c.read16(c.eaSeg, c.eaPlus(c.opSize()));
        farCall(c, sel, off);
    }

    /** FF /5: JMP m16:16/32. */
    static void jmpFarIndirect(Cpu c) {
        farRequireMemory(c);
        int off = c.readV(c.eaSeg, c.eaOff);
        int sel = c.read16(c.eaSeg, c.eaPlus(c.opSize()));
        c.loadCodeSegment(sel, off);
    }

    /** The 8086 has no #UD: a far transfer through a register uses the last bus value; treat as memory at offset 0. */
    private static void farRequireMemory(Cpu c) {
        if (c.mod == 3) {
            if (!c.model.is8086()) {
                c.undefined();
            }
        }
    }

    /** CB (C9 on the 8086): RETF; CA iw (C8 on the 8086): RETF imm16. */
    static void retFar(Cpu c) {
        int ip = c.peekV(0);
        int cs = c.peekV(c.opSize()) & 0xFFFF;
        if (c.protectedMode && (cs & 3) != c.cpl) {
            // A return to an outer privilege level needs the caller's stack; not modelled.
            throw c.gp(cs & 0xFFFC);
        }
        c.loadCodeSegment(cs, ip);
        c.adjustSp(2 * c.opSize());
        if ((c.opcode & 1) == 0) {
            c.adjustSp(c.imm & 0xFFFF);
        }
    }

    /** E0 LOOPNE, E1 LOOPE, E2 LOOP. */
    static void loop(Cpu c) {
        int count = c.counter() - 1;
        c.setCounter(count);
        if (!c.a32) {
            count &= 0xFFFF;
        }
        boolean go = count != 0;
        if (c.opcode == 0xE0) {
            go &= !c.zf();
        } else if (c.opcode == 0xE1) {
            go &= c.zf();
        }
        if (go) {
            jumpRelative(c, c.imm);
        }
    }

    /** E3 JCXZ/JECXZ. */
    static void jcxz(Cpu c) {
        if (c.counter() == 0) {
            jumpRelative(c, c.imm);
        }
    }

    // ---- interrupts ----

    /** CC INT3. */
    static void int3(Cpu c) {
        c.deliver(BP, true, 0, false);
    }

    /** CD INT n. */
    static void intN(Cpu c) {
        c.deliver(c.imm & 0xFF, true, 0, false);
    }

    /** CE INTO. */
    static void into(Cpu c) {
        if (c.of()) {
            c.deliver(OVERFLOW, true, 0, false);
        }
    }

    /** F1 INT1 (ICEBP) on 386-class CPUs. */
    static void int1(Cpu c) {
        c.deliver(DB, false, 0, false);
    }

    /** CF IRET/IRETD: real mode and same-privilege protected mode (no task return, no VM86). */
    static void iret(Cpu c) {
        int size = c.opSize();
        int ip = c.peekV(0);
        int cs = c.peekV(size) & 0xFFFF;
        int fl = c.peekV(2 * size);
        if (c.protectedMode) {
            if ((c.flags & NT) != 0 || (c.o32 && (fl & VM) != 0) || (cs & 3) != c.cpl) {
                // Task returns, returns to VM86 and to outer privilege levels are not modelled.
                throw c.gp(0);
            }
            c.loadCodeSegment(cs, ip);
        } else {
            c.loadRealModeSegment(CS, cs);
            c.eip = ip & c.ipMask;
        }
        c.adjustSp(3 * size);
        int mask = Transfer.popfMask(c);
        c.setFlags(fl, mask);
        c.nmiBlocked = false;
    }

    /** 62 BOUND Gv,Ma: #BR if the index is outside [lower, upper]. */
    static void bound(Cpu c) {
        if (c.mod == 3) {
            c.undefined();
        }
        int index;
        int lower;
        int upper;
        if (c.o32) {
            index = c.r[c.reg];
            lower = c.read32(c.eaSeg, c.eaOff);
            upper = c.read32(c.eaSeg, c.eaPlus(4));
        } else {
            index = (short) c.r[c.reg];
            lower = (short) c.read16(c.eaSeg, c.eaOff);
            upper = (short) c.read16(c.eaSeg, c.eaPlus(2));
        }
        if (index < lower || index > upper) {
            throw c.fault(BR);
        }
    }

    /** C8 ENTER iw, ib. */
    static void enter(Cpu c) {
        int size = c.opSize();
        int frameSize = c.imm & 0xFFFF;
        int level = c.imm2 & 0x1F;
        c.pushV(c.regV(EBP));
        int frame = c.ssBig ? c.r[ESP] : c.r[ESP] & 0xFFFF;
        if (level > 0) {
            int bp = c.ssBig ? c.r[EBP] : c.r[EBP] & 0xFFFF;
            for (int i = 1; i < level; i++) {
                bp = c.ssBig ? bp - size : (bp - size) & 0xFFFF;
                c.pushV(c.readV(SS, bp));
            }
            c.pushV(frame);
        }
        c.setRegV(EBP, frame);
        c.adjustSp(-frameSize);
    }

    /** C9 LEAVE. */
    static void leave(Cpu c) {
        // Read the saved frame pointer first: a limit fault leaves SP and BP unchanged.
        int bp = c.ssBig ? c.r[EBP] : c.r[EBP] & 0xFFFF;
        int saved = c.readV(SS, bp);
        int size = c.opSize();
        if (c.ssBig) {
            c.r[ESP] = bp + size;
        } else {
            c.setReg16(ESP, bp + size);
        }
        c.setRegV(EBP, saved);
    }

    // ---- flags ----

    static void clc(Cpu c) {
        c.setFlag(CF, false);
    }

    static void stc(Cpu c) {
        c.setFlag(CF, true);
    }

    static void cmc(Cpu c) {
        c.setFlag(CF, !c.cf());
    }

    static void cld(Cpu c) {
        c.flags &= ~DF;
    }

    static void std(Cpu c) {
        c.flags |= DF;
    }

    private static void checkIopl(Cpu c) {
        if (c.protectedMode && c.cpl > ((c.flags & IOPL) >>> 12)) {
            throw c.gp(0);
        }
    }

    static void cli(Cpu c) {
        checkIopl(c);
        c.flags &= ~IF;
    }

    /** FB STI: interrupts stay blocked until after the next instruction. */
    static void sti(Cpu c) {
        checkIopl(c);
        if ((c.flags & IF) == 0) {
            c.shadow = true;
        }
        c.flags |= IF;
    }

    /** F4 HLT. */
    static void hlt(Cpu c) {
        if (c.protectedMode && c.cpl != 0) {
            throw c.gp(0);
        }
        c.halt();
    }

    /** 9B WAIT: no coprocessor, nothing to wait for (#NM if CR0.MP and TS). */
    static void fwait(Cpu c) {
        if ((c.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) {
            throw c.fault(NM);
        }
    }

    /** D8-DF ESC: no FPU is fitted; with CR0.EM or TS the guest gets #NM, else nothing happens. */
    static void esc(Cpu c) {
        if (c.model.is386() && (c.cr0 & (CR0_EM | CR0_TS)) != 0) {
            throw c.fault(NM);
        }
        if (c.model == CpuModel.I80286 && c.mod != 3) {
            // The 286 still runs the operand's bus cycles: a word at the segment limit faults.
            c.read16(c.eaSeg, c.eaOff);
        }
    }

    // ---- prefixes ----

    static void segmentPrefix(Cpu c) {
        c.segOverride = switch (c.opcode) {
            case 0x26 -> ES;
            case 0x2E -> CS;
            case 0x36 -> SS;
            case 0x3E -> DS;
            case 0x64 -> FS;
            default -> GS;
        };
    }

    static void operandSizePrefix(Cpu c) {
        c.o32 = !c.csBig;
    }

    static void addressSizePrefix(Cpu c) {
        c.a32 = !c.csBig;
    }

    static void lockPrefix(Cpu c) {
    }

    static void repPrefix(Cpu c) {
        c.rep = c.opcode;
    }
}
