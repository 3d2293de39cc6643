package dev.ioemu.emulator.debug;

import dev.ioemu.cpu.Cpu;

/**
 * The register dump of QEMU 7.2's {@code -d cpu}, {@code -d int} and {@code -d cpu_reset}
 * ({@code x86_cpu_dump_state} of qemu-system-x86_64 outside long mode), written from the software
 * CPU's state so QEMU's and ioemu's logs can be diffed line by line.
 *
 * <p>Where ioemu has no such state the dump says what ioemu holds: the lazy-flags line shows
 * the flags already computed ({@code CCO=EFLAGS}, QEMU's own form after it materialises them),
 * EFER is zero (no long mode), and the FPU/SSE block of {@code cpu_reset} is left out (no x87 or
 * SSE registers). LDTR and TR print the attributes the CPU gives them (present LDT, busy 32-bit
 * TSS), as QEMU does.
 */
public final class CpuStateDump {
    private static final int CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, DF = 0x400, OF = 0x800;
    private static final int DESC_S = 0x10, DESC_CODE = 0x08, DESC_CONFORMING_OR_EXPAND_DOWN = 0x04,
            DESC_READABLE_OR_WRITABLE = 0x02, DESC_ACCESSED = 0x01, DESC_PRESENT = 0x80;
    /** Attribute bits of the CPU's segment cache: D/B and G in the flags nibble (<< 8). */
    private static final int ATTR_BIG = 0x400, ATTR_GRANULAR = 0x800;
    private static final String[] SEGMENT_NAMES = {"ES ", "CS ", "SS ", "DS ", "FS ", "GS "};
    /** QEMU's names of system descriptor types outside long mode. */
    private static final String[] SYSTEM_TYPES = {"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16",
            "TaskGate", "IntGate16", "TrapGate16", "Reserved", "TSS32-avl", "Reserved", "TSS32-busy", "CallGate32",
            "Reserved", "IntGate32", "TrapGate32"};
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private CpuStateDump() {
    }

    /** Appends the dump with EIP as the CPU has it, outside an interrupt shadow. */
    public static void append(StringBuilder sb, Cpu cpu) {
        append(sb, cpu, cpu.eip(), false);
    }

    /**
     * Appends the dump, showing {@code eip} as EIP (QEMU logs a software interrupt with EIP still
     * at the INT instruction, where ioemu's CPU has already moved past it) and II = 1 when the
     * instruction about to run follows MOV SS, POP SS or STI.
     */
    public static void append(StringBuilder sb, Cpu cpu, int eip, boolean interruptShadow) {
        sb.append("EAX=");
        hex(sb, cpu.register(Cpu.EAX), 8).append(" EBX=");
        hex(sb, cpu.register(Cpu.EBX), 8).append(" ECX=");
        hex(sb, cpu.register(Cpu.ECX), 8).append(" EDX=");
        hex(sb, cpu.register(Cpu.EDX), 8).append('\n').append("ESI=");
        hex(sb, cpu.register(Cpu.ESI), 8).append(" EDI=");
        hex(sb, cpu.register(Cpu.EDI), 8).append(" EBP=");
        hex(sb, cpu.register(Cpu.EBP), 8).append(" ESP=");
        hex(sb, cpu.register(Cpu.ESP), 8).append('\n');
        int fl = cpu.eflags();
        sb.append("EIP=");
        hex(sb, eip, 8).append(" EFL=");
        hex(sb, fl, 8).append(" [")
                .append((fl & DF) != 0 ? 'D' : '-').append((fl & OF) != 0 ? 'O' : '-')
                .append((fl & SF) != 0 ? 'S' : '-').append((fl & ZF) != 0 ? 'Z' : '-')
                .append((fl & AF) != 0 ? 'A' : '-').append((fl & PF) != 0 ? 'P' : '-')
                .append((fl & CF) != 0 ? 'C' : '-').append("] CPL=").append(cpu.cpl())
                .append(" II=").append(interruptShadow ? 1 : 0)
                .append(" A20=").append(cpu.memory().a20() ? 1 : 0)
                .append(" SMM=0 HLT=").append(cpu.isHalted() ? 1 : 0).append('\n');
        boolean pe = cpu.isProtectedMode();
        for (int s = 0; s < 6; s++) {
            int attr = cpu.segmentAttributes(s);
            segment(sb, SEGMENT_NAMES[s], cpu.segmentSelector(s), cpu.segmentBase(s), cpu.segmentLimit(s),
                    qemuFlags(attr, cpu.segmentLimit(s)), pe);
        }
        int[] sys = cpu.systemSegments();
        segment(sb, "LDT", sys[0], sys[1], sys[2], 0x8200, pe);
        segment(sb, "TR ", sys[3], sys[4], sys[5], 0x8b00, pe);
        sb.append("GDT=     ");
        hex(sb, cpu.gdtBase(), 8).append(' ');
        hex(sb, cpu.gdtLimit(), 8).append('\n').append("IDT=     ");
        hex(sb, cpu.idtBase(), 8).append(' ');
        hex(sb, cpu.idtLimit(), 8).append('\n').append("CR0=");
        hex(sb, cpu.controlRegister(0), 8).append(" CR2=");
        hex(sb, cpu.controlRegister(2), 8).append(" CR3=");
        hex(sb, cpu.controlRegister(3), 8).append(" CR4=");
        hex(sb, cpu.controlRegister(4), 8).append('\n');
        for (int i = 0; i < 4; i++) {
            sb.append("DR").append(i).append('=');
            hex(sb, 0, 8);
            hex(sb, cpu.debugRegister(i), 8).append(' ');
        }
        sb.append('\n').append("DR6=");
        hex(sb, 0, 8);
        hex(sb, cpu.debugRegister(6), 8).append(" DR7=");
        hex(sb, 0, 8);
        hex(sb, cpu.debugRegister(7), 8).append('\n').append("CCS=");
        hex(sb, fl & (OF | SF | ZF | AF | PF | CF), 8).append(" CCD=00000000 CCO=EFLAGS  \n");
        sb.append("EFER=0000000000000000\n");
    }

    /** QEMU keeps the descriptor's high dword: access byte at bits 8-15, limit 19:16 and flags above. */
    private static int qemuFlags(int attr, int limit) {
        int rawLimit = (attr & ATTR_GRANULAR) != 0 ? limit >>> 12 : limit;
        return (attr & 0xFF) << 8 | ((rawLimit >>> 16) & 0xF) << 16 | ((attr >> 8) & 0xF) << 20;
    }

    private static void segment(StringBuilder sb, String name, int selector, int base, int limit, int flags, boolean pe) {
        sb.append(name).append('=');
        hex(sb, selector, 4).append(' ');
        hex(sb, base, 8).append(' ');
        hex(sb, limit, 8).append(' ');
        hex(sb, flags & 0x00FF_FF00, 8);
        int access = flags >> 8;
        if (pe && (access & DESC_PRESENT) != 0) {
            sb.append(" DPL=").append((access >> 5) & 3).append(' ');
            if ((access & DESC_S) != 0) {
                boolean big = (flags & (ATTR_BIG << 12)) != 0;
                if ((access & DESC_CODE) != 0) {
                    sb.append(big ? "CS32" : "CS16").append(" [")
                            .append((access & DESC_CONFORMING_OR_EXPAND_DOWN) != 0 ? 'C' : '-')
                            .append((access & DESC_READABLE_OR_WRITABLE) != 0 ? 'R' : '-');
                } else {
                    sb.append(big ? "DS  " : "DS16").append(" [")
                            .append((access & DESC_CONFORMING_OR_EXPAND_DOWN) != 0 ? 'E' : '-')
                            .append((access & DESC_READABLE_OR_WRITABLE) != 0 ? 'W' : '-');
                }
                sb.append((access & DESC_ACCESSED) != 0 ? 'A' : '-').append(']');
            } else {
                sb.append(SYSTEM_TYPES[access & 0xF]);
            }
        }
        sb.append('\n');
    }

    /** Appends {@code digits} lower-case hex digits of {@code v}. */
    static StringBuilder hex(StringBuilder sb, long v, int digits) {
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
            sb.append(HEX[(int) (v >>> shift) & 0xF]);
        }
        return sb;
    }
}
