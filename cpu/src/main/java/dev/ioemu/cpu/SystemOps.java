package dev.ioemu.cpu;

import static dev.ioemu.cpu.Cpu.*;
import static dev.ioemu.cpu.Eflags.*;

/**
 * Handlers of the system instructions: descriptor-table registers (LGDT/LIDT/SGDT/SIDT,
 * LLDT/SLDT/LTR/STR), the machine status word and control/debug registers, LAR/LSL/VERR/VERW,
 * CPUID and RDTSC (Intel SDM vol. 2/3). Paging, task switches and MSRs are not modelled.
 */
final class SystemOps {
    private SystemOps() {
    }

    /** CPUID leaf 0: highest leaf 1 and the vendor "GenuineIntel" (EBX, EDX, ECX). */
    static final int CPUID_MAX_LEAF = 1;
    static final int VENDOR_EBX = 0x756E_6547, VENDOR_EDX = 0x4965_6E69, VENDOR_ECX = 0x6C65_746E;
    /** Leaf 1 EAX: family 5 (Pentium class), model 2. */
    static final int CPUID_SIGNATURE = 0x500 | Cpu.CPUID_STEPPING;
    /** Leaf 1 EDX: TSC (bit 4) only; no FPU, no MSRs, no CMPXCHG8B. */
    static final int CPUID_FEATURES_EDX = 1 << 4;

    private static void requireCpl0(Cpu c) {
        if (c.protectedMode && c.cpl != 0) {
            throw c.gp(0);
        }
    }

    private static void requireProtectedMode(Cpu c) {
        if (!c.protectedMode) {
            c.undefined();
        }
    }

    /** MOV CR0 / LMSW: PE switches modes, PG (paging) is refused with #GP. */
    static void writeCr0(Cpu c, int value) {
        if ((value & CR0_PG) != 0) {
            if (c.listener != null) {
                c.listener.unimplementedOpcode(c.segSel[CS], c.startEip, new byte[0], 0);
            }
            throw c.gp(0);
        }
        c.cr0 = value | CR0_ET;
        boolean pm = (value & CR0_PE) != 0;
        if (pm != c.protectedMode) {
            c.updateMode();
            if (pm) {
                // Entering protected mode keeps CS's cache; CPL is CS.RPL's real-mode value, 0.
                c.cpl = 0;
            }
        }
    }

    // ---- 0F 01 group 7 ----

    /** 0F 01 /0 SGDT, /1 SIDT: limit then base (a 16-bit operand stores 24 base bits). */
    static void storeTableRegister(Cpu c) {
        c.requireMemory();
        boolean idt = c.reg == 1;
        int limit = idt ? c.idtLimit : c.gdtLimit;
        int base = idt ? c.idtBase : c.gdtBase;
        c.write16(c.eaSeg, c.eaOff, limit);
        c.write32(c.eaSeg, c.eaPlus(2), c.o32 ? base : base & 0xFF_FFFF);
    }

    /** 0F 01 /2 LGDT, /3 LIDT. */
    static void loadTableRegister(Cpu c) {
        c.requireMemory();
        requireCpl0(c);
        int limit = c.read16(c.eaSeg, c.eaOff);
        int base = c.read32(c.eaSeg, c.eaPlus(2));
        if (!c.o32) {
            base &= 0xFF_FFFF;
        }
        if (c.reg == 2) {
            c.gdtLimit = limit;
            c.gdtBase = base;
        } else {
            c.idtLimit = limit;
            c.idtBase = base;
        }
    }

    /** 0F 01 /4 SMSW. */
    static void smsw(Cpu c) {
        if (c.mod == 3) {
            c.setRegV(c.rm, c.cr0);
        } else {
            c.write16(c.eaSeg, c.eaOff, c.cr0);
        }
    }

    /** 0F 01 /6 LMSW: sets PE/MP/EM/TS; cannot clear PE. */
    static void lmsw(Cpu c) {
        requireCpl0(c);
        int v = c.readE16() & 0xF;
        int keepPe = c.cr0 & CR0_PE;
        writeCr0(c, (c.cr0 & ~0xF) | v | keepPe);
    }

    /** 0F 01 /7 INVLPG: no TLB without paging. */
    static void invlpg(Cpu c) {
        c.requireMemory();
        requireCpl0(c);
    }

    // ---- 0F 00 group 6 ----

    /** 0F 00 /0 SLDT, /1 STR. */
    static void storeSystemSelector(Cpu c) {
        requireProtectedMode(c);
        int sel = c.reg == 0 ? c.ldtSel : c.trSel;
        if (c.mod == 3) {
            c.setRegV(c.rm, sel);
        } else {
            c.write16(c.eaSeg, c.eaOff, sel);
        }
    }

    /** 0F 00 /2 LLDT. */
    static void lldt(Cpu c) {
        requireProtectedMode(c);
        requireCpl0(c);
        int sel = c.readE16();
        if ((sel & 0xFFFC) == 0) {
            c.ldtSel = 0;
            c.ldtBase = 0;
            c.ldtLimit = 0;
            return;
        }
        if ((sel & 4) != 0) {
            throw c.gp(sel & 0xFFFC);
        }
        long d = c.readDescriptor(sel);
        int attr = Cpu.descriptorAttributes(d);
        if ((attr & 0x1F) != 0x02) {
            throw c.gp(sel & 0xFFFC);
        }
        if ((attr & ATTR_PRESENT) == 0) {
            throw c.fault(NP, sel & 0xFFFC);
        }
        c.ldtSel = sel;
        c.ldtBase = Cpu.descriptorBase(d);
        c.ldtLimit = Cpu.descriptorLimit(d);
    }

    /** 0F 00 /3 LTR: loads TR and marks the TSS busy (no task switches use it). */
    static void ltr(Cpu c) {
        requireProtectedMode(c);
        requireCpl0(c);
        int sel = c.readE16();
        if ((sel & 0xFFFC) == 0 || (sel & 4) != 0) {
            throw c.gp(sel & 0xFFFC);
        }
        long d = c.readDescriptor(sel);
        int attr = Cpu.descriptorAttributes(d);
        int type = attr & 0x1F;
        if (type != 0x01 && type != 0x09) {
            throw c.gp(sel & 0xFFFC);
        }
        if ((attr & ATTR_PRESENT) == 0) {
            throw c.fault(NP, sel & 0xFFFC);
        }
        c.trSel = sel;
        c.trBase = Cpu.descriptorBase(d);
        c.trLimit = Cpu.descriptorLimit(d);
        c.mem.write8(c.gdtBase + (sel & 0xFFF8) + 5, (int) (d >>> 40) | 2);
    }

    /** 0F 00 /4 VERR, /5 VERW: ZF=1 if the segment is readable/writable at CPL. */
    static void verify(Cpu c) {
        requireProtectedMode(c);
        int sel = c.readE16();
        boolean ok = false;
        if ((sel & 0xFFFC) != 0) {
            long d = descriptorOrZero(c, sel);
            int attr = Cpu.descriptorAttributes(d);
            int dpl = (attr >>> 5) & 3;
            boolean code = (attr & 0x08) != 0;
            boolean conforming = code && (attr & 0x04) != 0;
            boolean privileged = conforming || (dpl >= c.cpl && dpl >= (sel & 3));
            if ((attr & 0x10) != 0 && privileged) {
                ok = c.reg == 4 ? !code || (attr & 0x02) != 0 : !code && (attr & 0x02) != 0;
            }
        }
        c.setFlag(ZF, ok);
    }

    private static long descriptorOrZero(Cpu c, int sel) {
        int index = sel & 0xFFF8;
        boolean local = (sel & 4) != 0;
        int limit = local ? c.ldtLimit : c.gdtLimit;
        if (index + 7 > limit) {
            return 0;
        }
        return c.readDescriptor(sel);
    }

    /** 0F 02 LAR / 0F 03 LSL: ZF=1 and the access rights or limit if the selector is visible. */
    static void larLsl(Cpu c) {
        requireProtectedMode(c);
        int sel = c.readE16();
        long d = (sel & 0xFFFC) == 0 ? 0 : descriptorOrZero(c, sel);
        int attr = Cpu.descriptorAttributes(d);
        boolean valid = d != 0 && ((attr & 0x10) != 0 || isListedSystemType(attr & 0x1F, c.opcode == 0x103));
        if (!valid) {
            c.setFlag(ZF, false);
            return;
        }
        c.setFlag(ZF, true);
        if (c.opcode == 0x102) {
            c.setRegV(c.reg, (int) (d >>> 32) & 0x00F0_FF00);
        } else {
            c.setRegV(c.reg, Cpu.descriptorLimit(d));
        }
    }

    private static boolean isListedSystemType(int type, boolean lsl) {
        return switch (type) {
            case 0x01, 0x02, 0x03, 0x09, 0x0B -> true;
            case 0x04, 0x05, 0x0C -> !lsl;
            default -> false;
        };
    }

    /** 0F 06 CLTS. */
    static void clts(Cpu c) {
        requireCpl0(c);
        c.cr0 &= ~CR0_TS;
    }

    // ---- control and debug registers ----

    /** 0F 20: MOV r32, CRn. */
    static void movFromCr(Cpu c) {
        requireCpl0(c);
        int v = switch (c.reg) {
            case 0 -> c.cr0;
            case 2 -> c.cr2;
            case 3 -> c.cr3;
            case 4 -> c.cr4;
            default -> {
                c.undefined();
                yield 0;
            }
        };
        c.r[c.rm] = v;
    }

    /** 0F 22: MOV CRn, r32. */
    static void movToCr(Cpu c) {
        requireCpl0(c);
        int v = c.r[c.rm];
        switch (c.reg) {
            case 0 -> writeCr0(c, v);
            case 2 -> c.cr2 = v;
            case 3 -> c.cr3 = v;
            case 4 -> {
                if (v != 0) {
                    // No CR4 feature (PSE, PAE, VME…) is offered by CPUID.
                    throw c.gp(0);
                }
                c.cr4 = v;
            }
            default -> c.undefined();
        }
    }

    /** 0F 21: MOV r32, DRn (DR4/5 alias DR6/7). */
    static void movFromDr(Cpu c) {
        requireCpl0(c);
        int n = c.reg == 4 || c.reg == 5 ? c.reg + 2 : c.reg;
        c.r[c.rm] = c.dr[n];
    }

    /** 0F 23: MOV DRn, r32 (stored; breakpoints are not armed). */
    static void movToDr(Cpu c) {
        requireCpl0(c);
        int n = c.reg == 4 || c.reg == 5 ? c.reg + 2 : c.reg;
        c.dr[n] = c.r[c.rm];
    }

    // ---- identification and time ----

    /** 0F A2 CPUID. */
    static void cpuid(Cpu c) {
        int leaf = c.r[EAX];
        switch (leaf) {
            case 0 -> {
                c.r[EAX] = CPUID_MAX_LEAF;
                c.r[EBX] = VENDOR_EBX;
                c.r[EDX] = VENDOR_EDX;
                c.r[ECX] = VENDOR_ECX;
            }
            case 1 -> {
                c.r[EAX] = CPUID_SIGNATURE;
                c.r[EBX] = 0;
                c.r[ECX] = 0;
                c.r[EDX] = CPUID_FEATURES_EDX;
            }
            default -> {
                // Leaves above the maximum return zeros (no extended leaves either).
                c.r[EAX] = 0;
                c.r[EBX] = 0;
                c.r[ECX] = 0;
                c.r[EDX] = 0;
            }
        }
    }

    /** 0F 31 RDTSC: retired instructions plus the ticks skipped while halted (deterministic virtual time). */
    static void rdtsc(Cpu c) {
        if ((c.cr4 & 4) != 0 && c.protectedMode && c.cpl != 0) {
            throw c.gp(0);
        }
        long t = c.instructions + c.idleTscTicks;
        c.r[EAX] = (int) t;
        c.r[EDX] = (int) (t >>> 32);
    }

    /** 0F 08 INVD, 0F 09 WBINVD: there are no caches to flush. */
    static void invalidateCaches(Cpu c) {
        requireCpl0(c);
    }

    /** 0F 0B UD2. */
    static void ud2(Cpu c) {
        throw c.fault(UD);
    }
}
