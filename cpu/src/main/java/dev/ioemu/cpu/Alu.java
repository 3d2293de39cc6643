package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;
import static dev.ioemu.cpu.Eflags.*;

/**
 * Handlers of the arithmetic and logic instructions: ADD…CMP, INC/DEC, NEG/NOT, the shifts and
 * rotates, MUL/IMUL/DIV/IDIV and the BCD adjustments (Intel SDM vol. 2; 8086 and 286 differences
 * per shared/testdata/x86/README.md).
 */
final class Alu {
    private Alu() {
    }

    static final int ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;

    /** One of the eight group-1 operations; sets the flags and returns the result. */
    static int arith(Cpu c, int op, int a, int b, int size) {
        int mask = size == 4 ? -1 : (1 << (size * 8)) - 1;
        int res;
        switch (op) {
            case ADD -> {
                res = a + b;
                c.setArith(a, b, res, size, false);
            }
            case OR -> {
                res = a | b;
                c.setResultFlags(res, size, false, false, false);
            }
            case ADC -> {
                res = a + b + (c.cf() ? 1 : 0);
                c.setArith(a, b, res, size, false);
            }
            case SBB -> {
                res = a - b - (c.cf() ? 1 : 0);
                c.setArith(a, b, res, size, true);
            }
            case AND -> {
                res = a & b;
                c.setResultFlags(res, size, false, false, false);
            }
            case XOR -> {
                res = a ^ b;
                c.setResultFlags(res, size, false, false, false);
            }
            default -> {                      // SUB, CMP
                res = a - b;
                c.setArith(a, b, res, size, true);
            }
        }
        return res & mask;
    }

    private static int aluOp(Cpu c) {
        return (c.opcode >>> 3) & 7;
    }

    /** 00/08/…/38: op Eb,Gb. */
    static void arithEbGb(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.readE8(), c.reg8(c.reg), 1);
        if (op != CMP) {
            c.writeE8(res);
        }
    }

    /** 01/09/…/39: op Ev,Gv. */
    static void arithEvGv(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.readEv(), c.regV(c.reg), c.opSize());
        if (op != CMP) {
            c.writeEv(res);
        }
    }

    /** 02/0A/…/3A: op Gb,Eb. */
    static void arithGbEb(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.reg8(c.reg), c.readE8(), 1);
        if (op != CMP) {
            c.setReg8(c.reg, res);
        }
    }

    /** 03/0B/…/3B: op Gv,Ev. */
    static void arithGvEv(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.regV(c.reg), c.readEv(), c.opSize());
        if (op != CMP) {
            c.setRegV(c.reg, res);
        }
    }

    /** 04/0C/…/3C: op AL,Ib. */
    static void arithAlIb(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.reg8(EAX), c.imm & 0xFF, 1);
        if (op != CMP) {
            c.setReg8(EAX, res);
        }
    }

    /** 05/0D/…/3D: op eAX,Iv. */
    static void arithAxIv(Cpu c) {
        int op = aluOp(c);
        int res = arith(c, op, c.regV(EAX), c.imm, c.opSize());
        if (op != CMP) {
            c.setRegV(EAX, res);
        }
    }

    /** 80/82: group 1 Eb,Ib. */
    static void group1EbIb(Cpu c) {
        int res = arith(c, c.reg, c.readE8(), c.imm & 0xFF, 1);
        if (c.reg != CMP) {
            c.writeE8(res);
        }
    }

    /** 81/83: group 1 Ev,Iv (83: the imm8 is sign-extended). */
    static void group1EvIv(Cpu c) {
        int size = c.opSize();
        int b = size == 2 ? c.imm & 0xFFFF : c.imm;
        int res = arith(c, c.reg, c.readEv(), b, size);
        if (c.reg != CMP) {
            c.writeEv(res);
        }
    }

    static void testEbGb(Cpu c) {
        arith(c, AND, c.readE8(), c.reg8(c.reg), 1);
    }

    static void testEvGv(Cpu c) {
        arith(c, AND, c.readEv(), c.regV(c.reg), c.opSize());
    }

    static void testAlIb(Cpu c) {
        arith(c, AND, c.reg8(EAX), c.imm & 0xFF, 1);
    }

    static void testAxIv(Cpu c) {
        arith(c, AND, c.regV(EAX), c.imm, c.opSize());
    }

    static void testEbIb(Cpu c) {
        arith(c, AND, c.readE8(), c.imm & 0xFF, 1);
    }

    static void testEvIv(Cpu c) {
        arith(c, AND, c.readEv(), c.o32 ? c.imm : c.imm & 0xFFFF, c.opSize());
    }

    // ---- INC / DEC: CF is kept ----

    private static int incDec(Cpu c, int v, int size, boolean dec) {
        boolean carry = c.cf();
        int res = dec ? v - 1 : v + 1;
        c.setArith(v, 1, res, size, dec);
        c.lazy &= ~CF;
        c.flags = carry ? c.flags | CF : c.flags & ~CF;
        return size == 4 ? res : res & ((1 << (size * 8)) - 1);
    }

    /** 40-47. */
    static void incReg(Cpu c) {
        int i = c.opcode & 7;
        c.setRegV(i, incDec(c, c.regV(i), c.opSize(), false));
    }

    /** 48-4F. */
    static void decReg(Cpu c) {
        int i = c.opcode & 7;
        c.setRegV(i, incDec(c, c.regV(i), c.opSize(), true));
    }

    static void incEb(Cpu c) {
        c.writeE8(incDec(c, c.readE8(), 1, false));
    }

    static void decEb(Cpu c) {
        c.writeE8(incDec(c, c.readE8(), 1, true));
    }

    static void incEv(Cpu c) {
        c.writeEv(incDec(c, c.readEv(), c.opSize(), false));
    }

    static void decEv(Cpu c) {
        c.writeEv(incDec(c, c.readEv(), c.opSize(), true));
    }

    // ---- group 3 ----

    static void notEb(Cpu c) {
        c.writeE8(~c.readE8());
    }

    static void notEv(Cpu c) {
        c.writeEv(~c.readEv());
    }

    static void negEb(Cpu c) {
        c.writeE8(arith(c, SUB, 0, c.readE8(), 1));
    }

    static void negEv(Cpu c) {
        c.writeEv(arith(c, SUB, 0, c.readEv(), c.opSize()));
    }

    /** The 8086 negates a product or quotient when a REP prefix precedes MUL/IMUL/DIV/IDIV. */
    private static boolean negateResult(Cpu c) {
        return c.model.is8086() && c.rep != 0;
    }

    static void mulEb(Cpu c) {
        int res = c.reg8(EAX) * c.readE8();
        c.setReg16(EAX, res);
        boolean high = (res & 0xFF00) != 0;
        c.setResultFlags(res, 1, high, high, false);
    }

    static void mulEv(Cpu c) {
        if (c.o32) {
            long res = Integer.toUnsignedLong(c.r[EAX]) * Integer.toUnsignedLong(c.readEv());
            c.r[EAX] = (int) res;
            c.r[EDX] = (int) (res >>> 32);
            boolean high = (res >>> 32) != 0;
            c.setResultFlags((int) res, 4, high, high, false);
        } else {
            int res = c.reg16(EAX) * c.readE16();
            c.setReg16(EAX, res);
            c.setReg16(EDX, res >>> 16);
            boolean high = (res >>> 16) != 0;
            c.setResultFlags(res, 2, high, high, false);
        }
    }

    static void imulEb(Cpu c) {
        int res = (byte) c.reg8(EAX) * (byte) c.readE8();
        if (negateResult(c)) {
            res = -res;
        }
        c.setReg16(EAX, res);
        boolean overflow = res != (byte) res;
        c.setResultFlags(res, 1, overflow, overflow, false);
    }

    static void imulEv(Cpu c) {
        if (c.o32) {
            long res = (long) c.r[EAX] * (long) c.readEv();
            c.r[EAX] = (int) res;
            c.r[EDX] = (int) (res >>> 32);
            boolean overflow = res != (int) res;
            c.setResultFlags((int) res, 4, overflow, overflow, false);
        } else {
            int res = (short) c.reg16(EAX) * (short) c.readE16();
            if (negateResult(c)) {
                res = -res;
            }
            c.setReg16(EAX, res);
            c.setReg16(EDX, res >>> 16);
            boolean overflow = res != (short) res;
            c.setResultFlags(res, 2, overflow, overflow, false);
        }
    }

    /** 69/6B, 0F AF: IMUL Gv,Ev(,imm). */
    static int imulTruncating(Cpu c, int a, int b) {
        if (c.o32) {
            long res = (long) a * (long) b;
            boolean overflow = res != (int) res;
            c.setResultFlags((int) res, 4, overflow, overflow, false);
            return (int) res;
        }
        int res = (short) a * (short) b;
        boolean overflow = res != (short) res;
        c.setResultFlags(res, 2, overflow, overflow, false);
        return res;
    }

    static void imulGvEvIv(Cpu c) {
        c.setRegV(c.reg, imulTruncating(c, c.readEv(), c.imm));
    }

    static void imulGvEv(Cpu c) {
        c.setRegV(c.reg, imulTruncating(c, c.regV(c.reg), c.readEv()));
    }

    static void divEb(Cpu c) {
        int divisor = c.readE8();
        if (divisor == 0) {
            throw c.divideError();
        }
        int dividend = c.reg16(EAX);
        int q = dividend / divisor;
        if (q > 0xFF) {
            throw c.divideError();
        }
        c.setReg16(EAX, (dividend % divisor) << 8 | q);
    }

    static void divEv(Cpu c) {
        if (c.o32) {
            long divisor = Integer.toUnsignedLong(c.readEv());
            if (divisor == 0) {
                throw c.divideError();
            }
            long dividend = Integer.toUnsignedLong(c.r[EDX]) << 32 | Integer.toUnsignedLong(c.r[EAX]);
            long q = Long.divideUnsigned(dividend, divisor);
            if ((q >>> 32) != 0) {
                throw c.divideError();
            }
            c.r[EAX] = (int) q;
            c.r[EDX] = (int) Long.remainderUnsigned(dividend, divisor);
            return;
        }
        int divisor = c.readE16();
        if (divisor == 0) {
            throw c.divideError();
        }
        long dividend = (long) c.reg16(EDX) << 16 | c.reg16(EAX);
        long q = dividend / divisor;
        if (q > 0xFFFF) {
            throw c.divideError();
        }
        c.setReg16(EAX, (int) q);
        c.setReg16(EDX, (int) (dividend % divisor));
    }

    /** Smallest quotient IDIV accepts: the 8086 faults on -0x80 / -0x8000 too. */
    private static int minQuotient(Cpu c, int bits) {
        return c.model.is8086() ? -(1 << (bits - 1)) + 1 : -(1 << (bits - 1));
    }

    static void idivEb(Cpu c) {
        int divisor = (byte) c.readE8();
        if (divisor == 0) {
            throw c.divideError();
        }
        int dividend = (short) c.reg16(EAX);
        int q = dividend / divisor;
        int rem = dividend % divisor;
        if (negateResult(c)) {
            q = -q;
        }
        if (q > 127 || q < minQuotient(c, 8)) {
            throw c.divideError();
        }
        c.setReg16(EAX, (rem & 0xFF) << 8 | (q & 0xFF));
    }

    static void idivEv(Cpu c) {
        if (c.o32) {
            long divisor = c.readEv();
            if (divisor == 0) {
                throw c.divideError();
            }
            long dividend = (long) c.r[EDX] << 32 | Integer.toUnsignedLong(c.r[EAX]);
            if (dividend == Long.MIN_VALUE && divisor == -1) {
                throw c.divideError();
            }
            long q = dividend / divisor;
            if (q != (int) q) {
                throw c.divideError();
            }
            c.r[EAX] = (int) q;
            c.r[EDX] = (int) (dividend % divisor);
            return;
        }
        int divisor = (short) c.readE16();
        if (divisor == 0) {
            throw c.divideError();
        }
        int dividend = c.reg16(EDX) << 16 | c.reg16(EAX);
        if (dividend == Integer.MIN_VALUE && divisor == -1) {
            throw c.divideError();
        }
        int q = dividend / divisor;
        int rem = dividend % divisor;
        if (negateResult(c)) {
            q = -q;
        }
        if (q > 32767 || q < minQuotient(c, 16)) {
            throw c.divideError();
        }
        c.setReg16(EAX, q);
        c.setReg16(EDX, rem);
    }

    // ---- shifts and rotates (group 2) ----

    static final int ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL_OR_SETMO = 6, SAR = 7;

    /** Shifts or rotates {@code v} by {@code count} (already masked per model); sets flags. */
    static int shift(Cpu c, int op, int v, int count, int size) {
        if (count == 0) {
            return v;
        }
        int bits = size * 8;
        int mask = size == 4 ? -1 : (1 << bits) - 1;
        int top = bits - 1;
        v &= mask;
        int res;
        switch (op) {
            case ROL -> {
                int n = count % bits;
                res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
                boolean carry = (res & 1) != 0;
                setCarryOverflow(c, carry, (((res >>> top) & 1) != 0) != carry);
                return res;
            }
            case ROR -> {
                int n = count % bits;
                res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
                boolean carry = ((res >>> top) & 1) != 0;
                setCarryOverflow(c, carry, (((res ^ (res << 1)) >>> top) & 1) != 0);
                return res;
            }
            case RCL -> {
                int n = count % (bits + 1);
                boolean carry = c.cf();
                res = v;
                for (int i = 0; i < n; i++) {
                    boolean out = ((res >>> top) & 1) != 0;
                    res = ((res << 1) | (carry ? 1 : 0)) & mask;
                    carry = out;
                }
                setCarryOverflow(c, carry, (((res >>> top) & 1) != 0) != carry);
                return res;
            }
            case RCR -> {
                int n = count % (bits + 1);
                boolean carry = c.cf();
                res = v;
                for (int i = 0; i < n; i++) {
                    boolean out = (res & 1) != 0;
                    res = (res >>> 1) | (carry ? 1 << top : 0);
                    carry = out;
                }
                setCarryOverflow(c, carry, (((res ^ (res << 1)) >>> top) & 1) != 0);
                return res;
            }
            case SHL, SAL_OR_SETMO -> {
                if (op == SAL_OR_SETMO && c.model.is8086()) {
                    // SETMO/SETMOC: the 8086 sets the operand to all ones.
                    c.setResultFlags(mask, size, false, false, false);
                    return mask;
                }
                res = count >= 32 ? 0 : (v << count) & mask;
                boolean carry = count <= bits && ((v >>> (bits - count)) & 1) != 0;
                c.setResultFlags(res, size, carry, (((res >>> top) & 1) != 0) != carry, false);
                return res;
            }
            case SHR -> {
                res = count >= 32 ? 0 : v >>> count;
                boolean carry = count <= bits && ((v >>> (count - 1)) & 1) != 0;
                c.setResultFlags(res, size, carry, (((res ^ (res << 1)) >>> top) & 1) != 0, false);
                return res;
            }
            default -> {                      // SAR
                int signed = (v << (32 - bits)) >> (32 - bits);
                int n = Math.min(count, bits);
                res = (signed >> Math.min(n, 31)) & mask;
                boolean carry = ((signed >> Math.min(n - 1, 31)) & 1) != 0;
                c.setResultFlags(res, size, carry, false, false);
                return res;
            }
        }
    }

    private static void setCarryOverflow(Cpu c, boolean carry, boolean overflow) {
        c.setFlag(CF, carry);
        c.setFlag(OF, overflow);
    }

    private static int maskCount(Cpu c, int count) {
        return count & c.model.shiftCountMask;
    }

    /** D0/D1: by 1; D2/D3: by CL; C0/C1: by imm8. */
    static void shiftEb(Cpu c) {
        c.writeE8(shift(c, c.reg, c.readE8(), shiftCount(c), 1));
    }

    static void shiftEv(Cpu c) {
        c.writeEv(shift(c, c.reg, c.readEv(), shiftCount(c), c.opSize()));
    }

    private static int shiftCount(Cpu c) {
        int op = c.opcode;
        if (op == 0xD0 || op == 0xD1) {
            return 1;
        }
        if (op == 0xD2 || op == 0xD3) {
            return maskCount(c, c.reg8(ECX));
        }
        return maskCount(c, c.imm & 0xFF);
    }

    /** 0F A4/A5/AC/AD: SHLD/SHRD Ev,Gv,Ib|CL. */
    static void shiftDouble(Cpu c) {
        boolean left = c.opcode == 0x1A4 || c.opcode == 0x1A5;
        int count = ((c.opcode & 1) != 0 ? c.reg8(ECX) : c.imm) & 0x1F;
        if (count == 0) {
            return;
        }
        int size = c.opSize();
        int bits = size * 8;
        long dst = Integer.toUnsignedLong(c.readEv());
        long src = Integer.toUnsignedLong(c.regV(c.reg));
        int res;
        boolean carry;
        if (left) {
            long wide = (dst << bits) | src;
            if (bits == 16 && count > 16) {
                wide = (dst << 32) | (src << 16) | dst;
                long w = wide << count;
                res = (int) (w >>> 32) & 0xFFFF;
                carry = ((w >>> 48) & 1) != 0;
            } else {
                long w = wide << count;
                res = (int) (w >>> bits);
                carry = ((w >>> (2 * bits)) & 1) != 0;
            }
        } else {
            long wide = (src << bits) | dst;
            long w = wide >>> (count - 1);
            carry = (w & 1) != 0;
            res = (int) (w >>> 1);
        }
        int mask = size == 4 ? -1 : 0xFFFF;
        res &= mask;
        int top = bits - 1;
        boolean overflow = (((res ^ (int) dst) >>> top) & 1) != 0;
        c.setResultFlags(res, size, carry, overflow, false);
        c.writeEv(res);
    }

    // ---- BCD ----

    /** 27 DAA. */
    static void daa(Cpu c) {
        int al = c.reg8(EAX);
        boolean oldCf = c.cf();
        boolean af = c.af();
        boolean originalAf = af;
        boolean carry = false;
        int res = al;
        if ((al & 0x0F) > 9 || af) {
            res = al + 6;
            carry = oldCf || res > 0xFF;
            af = true;
        } else {
            af = false;
        }
        if (al > highAdjustLimit(c, originalAf) || oldCf) {
            res += 0x60;
            carry = true;
        }
        res &= 0xFF;
        c.setReg8(EAX, res);
        c.setResultFlags(res, 1, carry, false, af);
        bcdOverflow(c, al, res, false);
    }

    /** 2F DAS. */
    static void das(Cpu c) {
        int al = c.reg8(EAX);
        boolean oldCf = c.cf();
        boolean af = c.af();
        boolean originalAf = af;
        boolean carry = false;
        int res = al;
        if ((al & 0x0F) > 9 || af) {
            res = al - 6;
            // The 8086 does not take the borrow of this first step into CF.
            carry = oldCf || (res < 0 && !c.model.is8086());
            af = true;
        } else {
            af = false;
        }
        if (al > highAdjustLimit(c, originalAf) || oldCf) {
            res -= 0x60;
            carry = true;
        }
        res &= 0xFF;
        c.setReg8(EAX, res);
        c.setResultFlags(res, 1, carry, false, af);
        bcdOverflow(c, al, res, true);
    }

    /** The 8086 adjusts the high digit above 9F, not 99, when the low digit was adjusted. */
    private static int highAdjustLimit(Cpu c, boolean lowAdjusted) {
        return c.model.is8086() && lowAdjusted ? 0x9F : 0x99;
    }

    /** OF after DAA/DAS is undefined; the chips leave it as the signed overflow of the adjustment. */
    private static void bcdOverflow(Cpu c, int before, int after, boolean sub) {
        boolean overflow = sub ? (before & 0x80) != 0 && (after & 0x80) == 0
                : (before & 0x80) == 0 && (after & 0x80) != 0;
        c.setFlag(OF, overflow);
    }

    /** 37 AAA. */
    static void aaa(Cpu c) {
        int ax = c.reg16(EAX);
        boolean adjust = (ax & 0x0F) > 9 || c.af();
        if (adjust) {
            if (c.model.is8086()) {
                ax = ((ax + 0x100) & 0xFF00) | ((ax + 6) & 0xFF);
            } else {
                ax += 0x106;
            }
        }
        ax &= 0xFF0F;
        c.setReg16(EAX, ax);
        c.setResultFlags(ax & 0xFF, 1, adjust, false, adjust);
    }

    /** 3F AAS. */
    static void aas(Cpu c) {
        int ax = c.reg16(EAX);
        boolean adjust = (ax & 0x0F) > 9 || c.af();
        if (adjust) {
            if (c.model.is8086()) {
                ax = ((ax - 0x100) & 0xFF00) | ((ax - 6) & 0xFF);
            } else {
                ax = ((ax - 6) & 0xFFFF) - 0x100;
            }
        }
        ax &= 0xFF0F;
        c.setReg16(EAX, ax);
        c.setResultFlags(ax & 0xFF, 1, adjust, false, adjust);
    }

    /** D4 AAM ib: #DE on a zero base. */
    static void aam(Cpu c) {
        int base = c.imm & 0xFF;
        int al = c.reg8(EAX);
        if (base == 0) {
            // The flags (undefined) the captured chips leave before the #DE: the 8086 those of
            // a zero result, the 80286 those of AL >> 1.
            if (c.model.is8086()) {
                c.setResultFlags(0, 1, false, false, false);
            } else if (c.model == CpuModel.I80286) {
                c.setResultFlags(al >>> 1, 1, false, false, false);
            }
            throw c.divideError();
        }
        int res = al % base;
        c.setReg16(EAX, (al / base) << 8 | res);
        c.setResultFlags(res, 1, false, false, false);
    }

    /** D5 AAD ib: AL = AL + AH × base, flags as the final 8-bit add. */
    static void aad(Cpu c) {
        int base = c.imm & 0xFF;
        int al = c.reg8(EAX);
        int product = (c.reg8(4) * base) & 0xFF;
        int res = arith(c, ADD, al, product, 1);
        c.setReg16(EAX, res);
    }

    /** D6 SALC (undocumented): AL = CF ? FF : 00. */
    static void salc(Cpu c) {
        c.setReg8(EAX, c.cf() ? 0xFF : 0);
    }
}
