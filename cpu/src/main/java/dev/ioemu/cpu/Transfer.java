package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;
import static dev.ioemu.cpu.Eflags.*;

/**
 * Handlers of the data-movement instructions: MOV, XCHG, PUSH/POP, LEA, LDS/LES/LSS/LFS/LGS,
 * XLAT, CBW/CWD, MOVZX/MOVSX, the string instructions (with REP) and port I/O, plus the bit
 * instructions of the 386.
 */
final class Transfer {
    private Transfer() {
    }

    static void movEbGb(Cpu c) {
        c.writeE8(c.reg8(c.reg));
    }

    static void movEvGv(Cpu c) {
        c.writeEv(c.regV(c.reg));
    }

    static void movGbEb(Cpu c) {
        c.setReg8(c.reg, c.readE8());
    }

    static void movGvEv(Cpu c) {
        c.setRegV(c.reg, c.readEv());
    }

    /** B0-B7. */
    static void movRegIb(Cpu c) {
        c.setReg8(c.opcode & 7, c.imm);
    }

    /** B8-BF. */
    static void movRegIv(Cpu c) {
        c.setRegV(c.opcode & 7, c.imm);
    }

    /** C6 /0 (the 8086 ignores reg; later CPUs raise #UD for reg ≠ 0). */
    static void movEbIb(Cpu c) {
        c.writeE8(c.imm);
    }

    static void movEvIv(Cpu c) {
        c.writeEv(c.imm);
    }

    /** A0-A3: MOV AL/eAX with a memory offset. */
    static void movAlMoffs(Cpu c) {
        c.setReg8(EAX, c.read8(c.dataSegment(), c.imm));
    }

    static void movAxMoffs(Cpu c) {
        c.setRegV(EAX, c.readV(c.dataSegment(), c.imm));
    }

    static void movMoffsAl(Cpu c) {
        c.write8(c.dataSegment(), c.imm, c.reg8(EAX));
    }

    static void movMoffsAx(Cpu c) {
        c.writeV(c.dataSegment(), c.imm, c.regV(EAX));
    }

    /** Segment register named by ModR/M reg: two bits on the 8086, #UD beyond GS later. */
    private static int segmentReg(Cpu c) {
        if (c.model.is8086()) {
            return c.reg & 3;
        }
        if (c.reg > (c.model.is386() ? GS : DS)) {
            c.undefined();
        }
        return c.reg;
    }

    /** 8C: MOV Ev,Sw (a 32-bit register destination gets the selector zero-extended). */
    static void movEwSw(Cpu c) {
        int sel = c.segSel[segmentReg(c)];
        if (c.mod == 3) {
            c.setRegV(c.rm, sel);
        } else {
            c.write16(c.eaSeg, c.eaOff, sel);
        }
    }

    /** 8E: MOV Sw,Ew. Loading SS blocks interrupts for one instruction. */
    static void movSwEw(Cpu c) {
        int seg = segmentReg(c);
        if (seg == CS && !c.model.is8086()) {
            c.undefined();
        }
        int sel = c.readE16();
        if (seg == CS) {
            c.loadRealModeSegment(CS, sel);
            return;
        }
        c.loadSegment(seg, sel);
        if (seg == SS) {
            c.shadow = true;
        }
    }

    static void xchgEbGb(Cpu c) {
        int a = c.readE8();
        c.writeE8(c.reg8(c.reg));
        c.setReg8(c.reg, a);
    }

    static void xchgEvGv(Cpu c) {
        int a = c.readEv();
        c.writeEv(c.regV(c.reg));
        c.setRegV(c.reg, a);
    }

    /** 91-97: XCHG eAX,reg. */
    static void xchgAxReg(Cpu c) {
        int i = c.opcode & 7;
        int a = c.regV(EAX);
        c.setRegV(EAX, c.regV(i));
        c.setRegV(i, a);
    }

    static void nop(Cpu c) {
    }

    /** 8D LEA: the effective address itself (register form: #UD from the 286 on). */
    static void lea(Cpu c) {
        if (c.mod == 3) {
            if (c.model.is8086()) {
                return;
            }
            c.undefined();
        }
        c.setRegV(c.reg, c.eaOff);
    }

    /** C4/C5, 0F B2/B4/B5: load a far pointer into a segment register and Gv. */
    static void loadFarPointer(Cpu c) {
        c.requireMemory();
        int seg = switch (c.opcode) {
            case 0xC4 -> ES;
            case 0xC5 -> DS;
            case 0x1B2 -> SS;
            case 0x1B4 -> FS;
            default -> GS;
        };
        int off = c.readV(c.eaSeg, c.eaOff);
        int sel = c.read16(c.eaSeg, c.eaPlus(c.opSize()));
        c.loadSegment(seg, sel);
        c.setRegV(c.reg, off);
    }

    /** D7 XLAT: AL = [seg:(E)BX + AL]. */
    static void xlat(Cpu c) {
        int off = c.r[EBX] + c.reg8(EAX);
        c.setReg8(EAX, c.read8(c.dataSegment(), c.a32 ? off : off & 0xFFFF));
    }

    /** 98: CBW / CWDE. */
    static void cbw(Cpu c) {
        if (c.o32) {
            c.r[EAX] = (short) c.r[EAX];
        } else {
            c.setReg16(EAX, (byte) c.r[EAX]);
        }
    }

    /** 99: CWD / CDQ. */
    static void cwd(Cpu c) {
        if (c.o32) {
            c.r[EDX] = c.r[EAX] >> 31;
        } else {
            c.setReg16(EDX, ((short) c.r[EAX]) >> 15);
        }
    }

    // ---- stack ----

    /** 50-57. The 8086 pushes SP after the decrement; the 286 and later push the old value. */
    static void pushReg(Cpu c) {
        int i = c.opcode & 7;
        int v = c.regV(i);
        if (i == ESP && c.model.is8086()) {
            v = (v - 2) & 0xFFFF;
        }
        c.pushV(v);
    }

    /** 58-5F. */
    static void popReg(Cpu c) {
        int v = c.popV();
        c.setRegV(c.opcode & 7, v);
    }

    static void pushIv(Cpu c) {
        c.pushV(c.imm);
    }

    /** 06/0E/16/1E, 0F A0/A8: PUSH segment register. */
    static void pushSeg(Cpu c) {
        int seg = c.opcode < 0x100 ? (c.opcode >>> 3) & 3 : c.opcode == 0x1A0 ? FS : GS;
        if (c.o32) {
            c.push32(c.segSel[seg]);
        } else {
            c.push16(c.segSel[seg]);
        }
    }

    /** 07/17/1F (0F on the 8086: POP CS), 0F A1/A9: POP segment register. */
    static void popSeg(Cpu c) {
        int seg = c.opcode < 0x100 ? (c.opcode >>> 3) & 3 : c.opcode == 0x1A1 ? FS : GS;
        int sel = c.peekV(0) & 0xFFFF;
        if (seg == CS) {
            c.loadRealModeSegment(CS, sel);
        } else {
            c.loadSegment(seg, sel);
        }
        c.adjustSp(c.opSize());
        if (seg == SS) {
            c.shadow = true;
        }
    }

    /** 8F /0: POP Ev (the 8086 ignores reg). */
    static void popEv(Cpu c) {
        int v = c.peekV(0);
        c.adjustSp(c.opSize());
        c.writeEv(v);
    }

    /** FF /6 (and FF /7 on the 8086). */
    static void pushEv(Cpu c) {
        int v = c.readEv();
        if (c.mod == 3 && c.rm == ESP && c.model.is8086()) {
            v = (v - 2) & 0xFFFF;
        }
        c.pushV(v);
    }

    /** 60 PUSHA/PUSHAD. */
    static void pusha(Cpu c) {
        int sp = c.regV(ESP);
        for (int i = 0; i < 8; i++) {
            c.pushV(i == ESP ? sp : c.regV(i));
        }
    }

    /** 61 POPA/POPAD (the stored SP is skipped). */
    static void popa(Cpu c) {
        // Every word is read before any register changes: a limit fault leaves them all intact.
        int size = c.opSize();
        int[] values = c.scratch;
        for (int i = 7; i >= 0; i--) {
            values[i] = c.peekV((7 - i) * size);
        }
        for (int i = 7; i >= 0; i--) {
            if (i != ESP) {
                c.setRegV(i, values[i]);
            }
        }
        c.adjustSp(8 * size);
    }

    /** 9C PUSHF/PUSHFD (VM and RF read as 0 in the pushed image). */
    static void pushf(Cpu c) {
        int f = c.getFlags();
        if (c.o32) {
            c.push32(f & ~(VM | RF));
        } else {
            c.push16(f);
        }
    }

    /** 9D POPF/POPFD: IOPL only at CPL 0, IF only at CPL ≤ IOPL; VM and RF never change. */
    static void popf(Cpu c) {
        int v = c.popV();
        c.setFlags(v, popfMask(c));
    }

    static int popfMask(Cpu c) {
        int mask = c.model.flagsWritable;
        if (c.protectedMode) {
            if (c.cpl > 0) {
                mask &= ~IOPL;
            }
            if (c.cpl > ((c.flags & IOPL) >>> 12)) {
                mask &= ~IF;
            }
        }
        if (!c.o32) {
            mask &= 0xFFFF;
        }
        return mask;
    }

    /** 9E SAHF. */
    static void sahf(Cpu c) {
        c.setFlags(c.reg8(4), SZAPC);
    }

    /** 9F LAHF. */
    static void lahf(Cpu c) {
        c.setReg8(4, c.getFlags());
    }

    // ---- string instructions ----

    private static int stringSize(Cpu c) {
        return (c.opcode & 1) == 0 ? 1 : c.opSize();
    }

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

    /**
     * Runs one string instruction, repeated while the count register is non-zero under REP.
     * Each iteration commits before the next, so a fault leaves a restartable state on the 386.
     * The 80286 behaves differently when an access faults (captured vectors): the index register
     * of every access already made or faulting has advanced, CX counts the faulting iteration,
     * and a faulting write has already decremented CX for the following one.
     */
    private static void repeat(Cpu c, StringOp op, boolean conditional) {
        if (c.rep == 0) {
            op.once(c);
            return;
        }
        boolean bulk = c.model.is386() && !c.df() && (c.opcode == 0xA4 || c.opcode == 0xA5 || c.opcode == 0xAA || c.opcode == 0xAB);
        long countBefore = Integer.toUnsignedLong(c.counter());
        long passes = 0;
        try {
            while (c.counter() != 0) {
                if (++passes > MAX_PASSES_PER_STEP) {
                    // Yield with the instruction restartable, as a 386 taking an interrupt between
                    // iterations leaves it: the next step runs it on from the committed registers.
                    c.eip = c.startEip;
                    break;
                }
                if (bulk && bulkMoveOrStore(c)) {
                    continue;
                }
                op.once(c);
                c.setCounter(c.counter() - 1);
                if (conditional && (c.zf() != (c.rep == 0xF3))) {
                    break;
                }
            }
            c.repeatedIterations += Math.max(0, countBefore - Integer.toUnsignedLong(c.counter()) - 1);
        } catch (Cpu.Fault f) {
            boolean cmpsFirstRead = (c.opcode & 0xFE) == 0xA6 && !c.stringFaultOnSource;
            if (c.model == CpuModel.I80286 && !cmpsFirstRead) {
                // CMPS faulting on its first read (ES:DI) has not yet counted the iteration.
                c.setCounter(c.counter() - (c.stringWriteFault ? 2 : 1));
            }
            throw f;
        }
    }

    /**
     * Iterations (bulk copies count once) one execution of a REP string instruction performs
     * before it yields with EIP still on the instruction, so interrupts, stop requests and the run
     * budget are seen between chunks even with ECX = 2^32 − 1 (a guest's {@code rep insw} must not
     * hold the vCPU thread for minutes). Above every 16-bit count, so real-mode code never splits.
     */
    static final long MAX_PASSES_PER_STEP = 1 << 16;

    @FunctionalInterface
    private interface StringOp {
        void once(Cpu c);
    }

    /**
     * REP MOVS/STOS upwards in bulk: as many elements as fit before either operand leaves its
     * RAM page, its segment limit or the 16-bit offset range, copied with one buffer operation.
     * Returns false (do one element the slow way) when not even one element fits, an operand is
     * not RAM, or a MOVS destination overlaps the source ahead of it (byte replication).
     */
    private static boolean bulkMoveOrStore(Cpu c) {
        boolean movs = c.opcode <= 0xA5;
        int size = stringSize(c);
        long count = Integer.toUnsignedLong(c.counter());
        int di = index(c, EDI);
        int dstLin = c.segBase[ES] + di;
        java.nio.ByteBuffer dst = c.mem.writableBufferFor(dstLin);
        if (dst == null) {
            return false;
        }
        long n = Math.min(count, elementsFitting(c, ES, di, dstLin, size));
        java.nio.ByteBuffer src = null;
        int si = 0;
        int srcLin = 0;
        int seg = c.dataSegment();
        if (movs) {
            si = index(c, ESI);
            srcLin = c.segBase[seg] + si;
            src = c.mem.bufferFor(srcLin);
            if (src == null) {
                return false;
            }
            n = Math.min(n, elementsFitting(c, seg, si, srcLin, size));
        }
        if (n <= 1) {
            return false;
        }
        int bytes = (int) n * size;
        int dstOff = c.mem.bufferOffset(dstLin);
        if (movs) {
            int srcOff = c.mem.bufferOffset(srcLin);
            if (src == dst && dstOff > srcOff && dstOff < srcOff + bytes) {
                return false;
            }
            dst.put(dstOff, src, srcOff, bytes);
        } else {
            int v = c.r[EAX];
            for (int i = 0; i < bytes; i += size) {
                if (size == 1) {
                    dst.put(dstOff + i, (byte) v);
                } else if (size == 2) {
                    dst.putShort(dstOff + i, (short) v);
                } else {
                    dst.putInt(dstOff + i, v);
                }
            }
        }
        c.mem.noteWrite(dstLin);
        if (movs) {
            advanceBy(c, ESI, bytes);
        }
        advanceBy(c, EDI, bytes);
        c.setCounter((int) (count - n));
        return true;
    }

    /** Elements of {@code size} from seg:off up to the page end, the limit and the 64 KiB wrap. */
    private static long elementsFitting(Cpu c, int seg, int off, int lin, int size) {
        long room = CpuMemory.PAGE_SIZE - (c.mem.physical(lin) & (CpuMemory.PAGE_SIZE - 1));
        long offset = Integer.toUnsignedLong(off);
        if ((c.segAttr[seg] & Cpu.ATTR_UNUSABLE) != 0) {
            return 0;
        }
        room = Math.min(room, Integer.toUnsignedLong(c.segLimit[seg]) - offset + 1);
        if (!c.a32) {
            room = Math.min(room, 0x10000 - offset);
        }
        return Math.max(room, 0) / size;
    }

    private static void advanceBy(Cpu c, int i, int bytes) {
        if (c.a32) {
            c.r[i] += bytes;
        } else {
            c.setReg16(i, c.r[i] + bytes);
        }
    }

    /** The 80286 advances an index register as it issues the access (see {@link #repeat}). */
    private static boolean early(Cpu c) {
        return c.model == CpuModel.I80286;
    }

    /** Offset of the source operand DS:(E)SI; advances ESI first on the 286. */
    private static int source(Cpu c, int size) {
        int off = index(c, ESI);
        c.stringWriteFault = false;
        c.stringFaultOnSource = true;
        if (early(c)) {
            advance(c, ESI, size);
        }
        return off;
    }

    /** Offset of the destination operand ES:(E)DI; advances EDI first on the 286. */
    private static int destination(Cpu c, int size, boolean write) {
        int off = index(c, EDI);
        c.stringWriteFault = write;
        c.stringFaultOnSource = false;
        if (early(c)) {
            advance(c, EDI, size);
        }
        return off;
    }

    private static void finish(Cpu c, int size, boolean si, boolean di) {
        if (!early(c)) {
            if (si) {
                advance(c, ESI, size);
            }
            if (di) {
                advance(c, EDI, size);
            }
        }
    }

    private static void movsOnce(Cpu c) {
        int size = stringSize(c);
        int v = c.readSized(c.dataSegment(), source(c, size), size);
        c.writeSized(ES, destination(c, size, true), size, v);
        finish(c, size, true, true);
    }

    private static void cmpsOnce(Cpu c) {
        int size = stringSize(c);
        // The 286 reads ES:DI before DS:SI (which index has moved when one of them faults).
        int b = c.readSized(ES, destination(c, size, false), size);
        int a = c.readSized(c.dataSegment(), source(c, size), size);
        Alu.arith(c, Alu.CMP, a, b, size);
        finish(c, size, true, true);
    }

    private static void stosOnce(Cpu c) {
        int size = stringSize(c);
        c.writeSized(ES, destination(c, size, true), size, c.r[EAX]);
        finish(c, size, false, true);
    }

    private static void lodsOnce(Cpu c) {
        int size = stringSize(c);
        int v = c.readSized(c.dataSegment(), source(c, size), size);
        if (size == 1) {
            c.setReg8(EAX, v);
        } else {
            c.setRegV(EAX, v);
        }
        finish(c, size, true, false);
    }

    private static void scasOnce(Cpu c) {
        int size = stringSize(c);
        int a = size == 1 ? c.reg8(EAX) : c.regV(EAX);
        int b = c.readSized(ES, destination(c, size, false), size);
        Alu.arith(c, Alu.CMP, a, b, size);
        finish(c, size, false, true);
    }

    private static void insOnce(Cpu c) {
        int size = stringSize(c);
        int v = c.io.in(c.reg16(EDX), size);
        c.writeSized(ES, destination(c, size, true), size, v);
        finish(c, size, false, true);
    }

    private static void outsOnce(Cpu c) {
        int size = stringSize(c);
        int v = c.readSized(c.dataSegment(), source(c, size), size);
        c.io.out(c.reg16(EDX), size, v);
        finish(c, size, true, false);
    }

    static void movs(Cpu c) {
        repeat(c, Transfer::movsOnce, false);
    }

    static void cmps(Cpu c) {
        repeat(c, Transfer::cmpsOnce, true);
    }

    static void stos(Cpu c) {
        repeat(c, Transfer::stosOnce, false);
    }

    static void lods(Cpu c) {
        repeat(c, Transfer::lodsOnce, false);
    }

    static void scas(Cpu c) {
        repeat(c, Transfer::scasOnce, true);
    }

    static void ins(Cpu c) {
        repeat(c, Transfer::insOnce, false);
    }

    static void outs(Cpu c) {
        repeat(c, Transfer::outsOnce, false);
    }

    // ---- port I/O ----

    private static int ioSize(Cpu c) {
        return (c.opcode & 1) == 0 ? 1 : c.opSize();
    }

    private static void in(Cpu c, int port) {
        int size = ioSize(c);
        int v = c.io.in(port & 0xFFFF, size);
        if (size == 1) {
            c.setReg8(EAX, v);
        } else {
            c.setRegV(EAX, v);
        }
    }

    private static void out(Cpu c, int port) {
        int size = ioSize(c);
        int mask = size == 4 ? -1 : (1 << (size * 8)) - 1;
        c.io.out(port & 0xFFFF, size, c.r[EAX] & mask);
    }

    /** E4/E5. */
    static void inImm(Cpu c) {
        in(c, c.imm & 0xFF);
    }

    /** E6/E7. */
    static void outImm(Cpu c) {
        out(c, c.imm & 0xFF);
    }

    /** EC/ED. */
    static void inDx(Cpu c) {
        in(c, c.reg16(EDX));
    }

    /** EE/EF. */
    static void outDx(Cpu c) {
        out(c, c.reg16(EDX));
    }

    // ---- 386 moves and bit instructions ----

    /** 0F B6/B7: MOVZX. */
    static void movzx(Cpu c) {
        int v = c.opcode == 0x1B6 ? c.readE8() : c.readE16();
        c.setRegV(c.reg, v);
    }

    /** 0F BE/BF: MOVSX. */
    static void movsx(Cpu c) {
        int v = c.opcode == 0x1BE ? (byte) c.readE8() : (short) c.readE16();
        c.setRegV(c.reg, v);
    }

    static final int BT = 0, BTS = 1, BTR = 2, BTC = 3;

    /** BT/BTS/BTR/BTC with a register bit offset: memory operands reach beyond the addressed word. */
    private static void bitTest(Cpu c, int op, int bitOffset, boolean registerOffset) {
        int size = c.opSize();
        int bits = size * 8;
        int bit;
        int seg = c.eaSeg;
        int off = c.eaOff;
        int v;
        if (c.mod == 3) {
            bit = bitOffset & (bits - 1);
            v = c.regV(c.rm);
        } else {
            if (registerOffset) {
                int signed = size == 2 ? (short) bitOffset : bitOffset;
                off = c.eaPlus((signed >> (size == 2 ? 4 : 5)) * size);
            }
            bit = bitOffset & (bits - 1);
            v = c.readV(seg, off);
        }
        boolean set = ((v >>> bit) & 1) != 0;
        c.setFlag(CF, set);
        if (op == BT) {
            return;
        }
        int res = switch (op) {
            case BTS -> v | (1 << bit);
            case BTR -> v & ~(1 << bit);
            default -> v ^ (1 << bit);
        };
        if (c.mod == 3) {
            c.setRegV(c.rm, res);
        } else {
            c.writeV(seg, off, res);
        }
    }

    /** 0F A3/AB/B3/BB: BT/BTS/BTR/BTC Ev,Gv. */
    static void bitTestGv(Cpu c) {
        int op = switch (c.opcode) {
            case 0x1A3 -> BT;
            case 0x1AB -> BTS;
            case 0x1B3 -> BTR;
            default -> BTC;
        };
        bitTest(c, op, c.regV(c.reg), true);
    }

    /** 0F BA /4-7: BT/BTS/BTR/BTC Ev,Ib. */
    static void bitTestIb(Cpu c) {
        bitTest(c, c.reg - 4, c.imm & 0xFF, false);
    }

    /** 0F BC BSF / 0F BD BSR: ZF=1 and the destination unchanged for a zero source. */
    static void bitScan(Cpu c) {
        int v = c.readEv();
        if (v == 0) {
            c.setResultFlags(0, c.opSize(), false, false, false);
            return;
        }
        int idx = c.opcode == 0x1BC ? Integer.numberOfTrailingZeros(v) : 31 - Integer.numberOfLeadingZeros(v);
        c.setResultFlags(1, c.opSize(), false, false, false);
        c.setRegV(c.reg, idx);
    }

    /** 0F C8-CF BSWAP. */
    static void bswap(Cpu c) {
        int i = c.opcode & 7;
        c.r[i] = Integer.reverseBytes(c.r[i]);
    }

    /** 0F C0/C1 XADD. */
    static void xadd(Cpu c) {
        int size = c.opcode == 0x1C0 ? 1 : c.opSize();
        int dst = c.readE(size);
        int src = c.readG(size);
        int sum = Alu.arith(c, Alu.ADD, dst, src, size);
        c.writeG(size, dst);
        c.writeE(size, sum);
    }

    /** 0F B0/B1 CMPXCHG. */
    static void cmpxchg(Cpu c) {
        int size = c.opcode == 0x1B0 ? 1 : c.opSize();
        int dst = c.readE(size);
        int acc = size == 1 ? c.reg8(EAX) : c.regV(EAX);
        Alu.arith(c, Alu.CMP, acc, dst, size);
        if (acc == dst) {
            c.writeE(size, c.readG(size));
        } else {
            c.writeE(size, dst);
            if (size == 1) {
                c.setReg8(EAX, dst);
            } else {
                c.setRegV(EAX, dst);
            }
        }
    }
}
