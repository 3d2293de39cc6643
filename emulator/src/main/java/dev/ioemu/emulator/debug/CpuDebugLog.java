package dev.ioemu.emulator.debug;

import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuListener;
import dev.ioemu.cpu.CpuMode;
import dev.ioemu.cpu.disasm.Disassembler;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/**
 * QEMU's {@code -d} logs for the software CPU, and the {@code cpu_*} trace events, both fed by
 * the CPU's {@link CpuListener} hook (installed only when one of them is on, so a run without
 * them pays nothing). Output lines follow QEMU 7.2's formats:
 * <ul>
 * <li>{@code in_asm}: {@code ----------------}, {@code IN: }, one capstone-style line per
 *     instruction of a block the first time the block runs (again after its bytes change);
 * <li>{@code exec}: {@code Trace 0: ID [cs_base/pc/flags/cflags] } before each block, with
 *     QEMU's hflags; ID numbers the block (ioemu has no host code to point at);
 * <li>{@code cpu}: the register dump ({@link CpuStateDump}) before each block;
 * <li>{@code int}: {@code Servicing hardware INT=0x..}, {@code check_exception old: .. new ..},
 *     and in protected mode {@code N: v=.. e=.. i=.. cpl=.. IP=..:.. pc=.. SP=..:.. ...} with a dump;
 * <li>{@code cpu_reset}: {@code CPU Reset (CPU 0)} and the state before the reset, {@code Triple fault};
 * <li>{@code unimp}: {@code ILLOPC: pc: bytes} for an opcode the CPU model lacks.
 * </ul>
 * A block is what QEMU would translate as one: straight-line code up to a control transfer
 * or a state change that ends QEMU's blocks; with {@code -singlestep} every instruction is one.
 * Blocks are never chained here, so {@code exec} and {@code cpu} always show complete traces
 * ({@code nochain} is implied). A REP string instruction runs as one step and is logged once,
 * where QEMU logs each iteration. {@code -dfilter} selects blocks by their linear start address.
 *
 * <p>Threads: runs on the vCPU thread, inside the CPU's callbacks.
 */
public final class CpuDebugLog implements CpuListener {
    /** QEMU's hflags bits that a block's flags word shows (target/i386/cpu.h). */
    private static final int HF_INHIBIT_IRQ = 1 << 3, HF_CS32 = 1 << 4, HF_SS32 = 1 << 5, HF_ADDSEG = 1 << 6,
            HF_PE = 1 << 7, HF_MP = 1 << 9, HF_EM = 1 << 10, HF_TS = 1 << 11;
    /** EFLAGS bits QEMU copies into a block's flags: TF, IOPL, RF, VM, AC. */
    private static final int TB_EFLAGS = 0x100 | 0x3000 | 0x10000 | 0x20000 | 0x40000;
    /** cflags QEMU shows for a block that is never chained (CF_NO_GOTO_TB), cluster 0xff. */
    private static final int CFLAGS_NOCHAIN = 0xff00_0200;
    private static final int CF_COUNT_ONE = 1;
    /** QEMU stops a block at 512 instructions or the end of the page. */
    private static final int MAX_BLOCK_INSTRUCTIONS = 512;
    private static final int ATTR_BIG = 0x400;

    private final Cpu cpu;
    private final DebugLogOptions options;
    private final PrintStream out;
    private final Disassembler disassembler;
    private final boolean inAsm, exec, dumpCpu, interrupts, resets, unimp;
    private final StringBuilder sb = new StringBuilder(4096);

    /** Block start (linear, plus the code size in bit 32) → the hash of its bytes when last shown, and its id. */
    private final Map<Long, long[]> blocks = new HashMap<>();
    private long expectedNext = -1;
    /** The instruction about to run follows MOV SS, POP SS or STI. */
    private boolean inShadow;
    private long blockEnd = -1;
    private int interruptCount;
    private int pendingHardwareVector = -1;
    private int lastException = -1;
    private long lastExceptionAt = -1;

    private CpuDebugLog(Cpu cpu, DebugLogOptions options, PrintStream out) {
        this.cpu = cpu;
        this.options = options;
        this.out = out;
        this.disassembler = new Disassembler(this::codeByte);
        inAsm = options.has(LogItem.IN_ASM);
        exec = options.has(LogItem.EXEC);
        dumpCpu = options.has(LogItem.CPU);
        interrupts = options.has(LogItem.INT);
        resets = options.has(LogItem.CPU_RESET);
        unimp = options.has(LogItem.UNIMP);
    }

    /** Whether the {@code -d} items or enabled trace events need the CPU's hook at all. */
    public static boolean wanted(DebugLogOptions options) {
        for (LogItem item : options.items()) {
            if (item.implemented && item != LogItem.NOCHAIN && item != LogItem.GUEST_ERRORS) {
                return true;
            }
        }
        return TraceEvent.CPU_RESET.enabled || TraceEvent.CPU_MODE_SWITCH.enabled || TraceEvent.CPU_EXCEPTION.enabled
                || TraceEvent.CPU_UNKNOWN_OPCODE.enabled || TraceEvent.CPU_TRIPLE_FAULT.enabled;
    }

    /**
     * Installs the log on {@code cpu} if anything needs it; the per-instruction hook is switched
     * on only for in_asm, exec and cpu.
     *
     * @return the installed log, or null when nothing was asked for
     */
    public static CpuDebugLog attach(Cpu cpu, DebugLogOptions options, PrintStream out) {
        if (!wanted(options)) {
            return null;
        }
        CpuDebugLog log = new CpuDebugLog(cpu, options, out);
        cpu.setListener(log);
        cpu.setInstructionTracing(log.inAsm || log.exec || log.dumpCpu);
        return log;
    }

    private int codeByte(int linear) {
        long physical = (linear & 0xFFFF_FFFFL) & (cpu.memory().a20() ? ~0L : ~(1L << 20));
        return cpu.memory().readByte(physical);
    }

    // ---- per instruction: blocks for in_asm, exec and cpu ----

    @Override
    public void instruction(int cs, int eip, String form, int length) {
        long linear = (cpu.segmentBase(Cpu.CS) + eip) & 0xFFFF_FFFFL;
        boolean start = options.singlestep() || linear != expectedNext || linear == blockEnd || inShadow;
        expectedNext = linear + length;
        boolean shadow = inShadow;
        // The next instruction runs with interrupts held: QEMU gives it a block of its own.
        inShadow = form.equals("POP SS") || form.equals("STI") || (form.equals("MOV Sw,Ew") && loadsSs(linear));
        if (!start) {
            return;
        }
        boolean big = (cpu.segmentAttributes(Cpu.CS) & ATTR_BIG) != 0;
        long id = startBlock(linear, big, shadow);
        if (!options.inFilter(linear)) {
            return;
        }
        if (exec) {
            sb.append("Trace 0: 0x");
            CpuStateDump.hex(sb, id, 12).append(" [");
            CpuStateDump.hex(sb, cpu.segmentBase(Cpu.CS) & 0xFFFF_FFFFL, 16).append('/');
            CpuStateDump.hex(sb, linear, 16).append('/');
            CpuStateDump.hex(sb, hflags(shadow), 8).append('/');
            CpuStateDump.hex(sb, CFLAGS_NOCHAIN | (options.singlestep() ? CF_COUNT_ONE : 0), 8).append("] \n");
        }
        if (dumpCpu) {
            CpuStateDump.append(sb, cpu, eip, shadow);
        }
        flush();
    }

    /**
     * Finds where the block starting here ends and prints it for in_asm when it is new or its
     * bytes changed; returns its id.
     */
    private long startBlock(long linear, boolean big, boolean shadow) {
        int maxInstructions = options.singlestep() || shadow ? 1 : MAX_BLOCK_INSTRUCTIONS;
        long pageEnd = (linear | 0xFFF) + 1;
        long at = linear;
        long hash = 1;
        int count = 0;
        Disassembler.Instruction[] listing = new Disassembler.Instruction[Math.min(maxInstructions, 64)];
        java.util.List<Disassembler.Instruction> more = null;
        while (true) {
            Disassembler.Instruction insn = disassembler.decode((int) at, big, cpu.isProtectedMode());
            for (byte b : insn.bytes()) {
                hash = hash * 31 + b;
            }
            if (count < listing.length) {
                listing[count] = insn;
            } else {
                if (more == null) {
                    more = new java.util.ArrayList<>();
                }
                more.add(insn);
            }
            count++;
            at += insn.length();
            // QEMU ends a block with a REP string instruction (it loops back to it for each further
            // iteration; ioemu runs them all in one step, so those iterations are not logged).
            if (insn.endsBlock() || insn.repeatedString() || count >= maxInstructions || at >= pageEnd) {
                break;
            }
        }
        blockEnd = at;
        long key = linear | (big ? 1L << 32 : 0);
        long[] known = blocks.get(key);
        if (known != null && known[0] == hash) {
            return known[1];
        }
        long id = known != null ? known[1] : blocks.size() + 1;
        blocks.put(key, new long[] {hash, id});
        if (inAsm && options.inFilter(linear)) {
            sb.append("----------------\nIN: \n");
            for (int i = 0; i < Math.min(count, listing.length); i++) {
                listingLine(listing[i]);
            }
            if (more != null) {
                for (Disassembler.Instruction insn : more) {
                    listingLine(insn);
                }
            }
            sb.append('\n');
        }
        return id;
    }

    /** One line as QEMU prints a capstone instruction: up to 8 bytes, then continuation lines. */
    private void listingLine(Disassembler.Instruction insn) {
        byte[] bytes = insn.bytes();
        long address = insn.address() & 0xFFFF_FFFFL;
        if (insn.mnemonic().equals("(bad)")) {
            // capstone gives up on each byte in turn: one ".byte" line per byte.
            for (int i = 0; i < bytes.length; i++) {
                sb.append("0x");
                CpuStateDump.hex(sb, address + i, 8).append(":  ");
                CpuStateDump.hex(sb, bytes[i] & 0xFF, 2).append("                       .byte    0x");
                CpuStateDump.hex(sb, bytes[i] & 0xFF, 2).append('\n');
            }
            return;
        }
        sb.append("0x");
        CpuStateDump.hex(sb, address, 8).append(": ");
        int split = 8;
        for (int i = 0; i < Math.min(bytes.length, split); i++) {
            sb.append(' ');
            CpuStateDump.hex(sb, bytes[i] & 0xFF, 2);
        }
        for (int i = bytes.length; i < split; i++) {
            sb.append("   ");
        }
        sb.append("  ").append(String.format("%-8s %s", insn.mnemonic(), insn.operands())).append('\n');
        for (int i = split; i < bytes.length; i += split) {
            sb.append("0x");
            CpuStateDump.hex(sb, address + i, 8).append(": ");
            for (int j = i; j < Math.min(i + split, bytes.length); j++) {
                sb.append(' ');
                CpuStateDump.hex(sb, bytes[j] & 0xFF, 2);
            }
            sb.append('\n');
        }
    }

    private boolean loadsSs(long linear) {
        Disassembler.Instruction insn = disassembler.decode((int) linear,
                (cpu.segmentAttributes(Cpu.CS) & ATTR_BIG) != 0, cpu.isProtectedMode());
        return insn.operands().endsWith("%ss");
    }

    /** QEMU's tb->flags for the current state: hflags plus the EFLAGS bits that change translation. */
    private int hflags(boolean shadow) {
        boolean pe = cpu.isProtectedMode();
        boolean cs32 = (cpu.segmentAttributes(Cpu.CS) & ATTR_BIG) != 0;
        boolean ss32 = (cpu.segmentAttributes(Cpu.SS) & ATTR_BIG) != 0;
        int cr0 = cpu.controlRegister(0);
        int f = cpu.cpl() | (shadow ? HF_INHIBIT_IRQ : 0) | (cs32 ? HF_CS32 : 0)
                | (ss32 ? HF_SS32 : 0) | (pe ? HF_PE : 0) | ((cr0 & Cpu.CR0_MP) != 0 ? HF_MP : 0)
                | ((cr0 & Cpu.CR0_EM) != 0 ? HF_EM : 0) | ((cr0 & Cpu.CR0_TS) != 0 ? HF_TS : 0);
        // Segment bases must be added unless the code is 32-bit protected mode with flat DS/ES/SS.
        boolean addseg = !pe || !cs32 || (cpu.segmentBase(Cpu.DS) | cpu.segmentBase(Cpu.ES) | cpu.segmentBase(Cpu.SS)) != 0;
        return f | (addseg ? HF_ADDSEG : 0) | (cpu.eflags() & TB_EFLAGS);
    }

    // ---- interrupts and exceptions ----

    @Override
    public void hardwareInterrupt(int vector) {
        pendingHardwareVector = vector;
        if (interrupts) {
            sb.append("Servicing hardware INT=0x");
            CpuStateDump.hex(sb, vector, 2).append('\n');
            flush();
        }
    }

    @Override
    public void interrupt(int vector, boolean software, int errorCode, int cs, int eip) {
        boolean hardware = !software && vector == pendingHardwareVector;
        pendingHardwareVector = -1;
        boolean exception = !software && !hardware;
        if (exception && TraceEvent.CPU_EXCEPTION.enabled) {
            Trace.emit(TraceEvent.CPU_EXCEPTION, vector, errorCode, cs, eip);
        }
        if (!interrupts) {
            return;
        }
        if (exception) {
            // A second exception while the first is delivered (no instruction retired in between).
            long now = cpu.instructionCount();
            int old = lastExceptionAt == now ? lastException : -1;
            sb.append("check_exception old: 0x").append(Integer.toHexString(old))
                    .append(" new 0x").append(Integer.toHexString(vector)).append('\n');
            lastException = vector;
            lastExceptionAt = now;
        }
        if (cpu.isProtectedMode()) {
            // QEMU logs a software interrupt with EIP still at the INT instruction.
            int shownEip = software ? eip - softwareInterruptLength(vector, eip) : eip;
            long base = cpu.segmentBase(Cpu.CS) & 0xFFFF_FFFFL;
            sb.append(String.format("%6d: v=%02x e=%04x i=%d cpl=%d IP=%04x:%016x pc=%016x SP=%04x:%016x"
                            + " env->regs[R_EAX]=%016x%n", interruptCount++, vector, errorCode, software ? 1 : 0,
                    cpu.cpl(), cs, shownEip & 0xFFFF_FFFFL, (base + shownEip) & 0xFFFF_FFFFL,
                    cpu.segmentSelector(Cpu.SS), cpu.register(Cpu.ESP) & 0xFFFF_FFFFL,
                    cpu.register(Cpu.EAX) & 0xFFFF_FFFFL));
            CpuStateDump.append(sb, cpu, shownEip, false);
        }
        flush();
    }

    /** INT3 and INTO are one byte (CC, CE), INT n two (CD n). */
    private int softwareInterruptLength(int vector, int eip) {
        int linear = cpu.segmentBase(Cpu.CS) + eip;
        int previous = codeByte(linear - 1);
        if ((vector == 3 && previous == 0xCC) || (vector == 4 && previous == 0xCE)) {
            return 1;
        }
        return 2;
    }

    @Override
    public void unimplementedOpcode(int cs, int eip, byte[] bytes, int length) {
        if (TraceEvent.CPU_UNKNOWN_OPCODE.enabled) {
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < length; i++) {
                CpuStateDump.hex(hex.append(i == 0 ? "" : " "), bytes[i] & 0xFF, 2);
            }
            Trace.emit(TraceEvent.CPU_UNKNOWN_OPCODE, cs, eip, hex.toString());
        }
        if (unimp) {
            sb.append("ILLOPC: ");
            CpuStateDump.hex(sb, (cpu.segmentBase(Cpu.CS) + eip) & 0xFFFF_FFFFL, 16).append(':');
            for (int i = 0; i < length; i++) {
                CpuStateDump.hex(sb.append(' '), bytes[i] & 0xFF, 2);
            }
            sb.append('\n');
            flush();
        }
    }

    // ---- reset, mode switches, triple fault ----

    @Override
    public void reset() {
        if (TraceEvent.CPU_RESET.enabled) {
            Trace.emit(TraceEvent.CPU_RESET, cpu.segmentSelector(Cpu.CS), cpu.eip(), cpu.instructionCount());
        }
        expectedNext = -1;
        if (resets) {
            sb.append("CPU Reset (CPU 0)\n");
            CpuStateDump.append(sb, cpu);
            flush();
        }
    }

    @Override
    public void modeChanged(CpuMode from, CpuMode to) {
        if (TraceEvent.CPU_MODE_SWITCH.enabled) {
            Trace.emit(TraceEvent.CPU_MODE_SWITCH, from.label, to.label, cpu.segmentSelector(Cpu.CS), cpu.eip(),
                    cpu.controlRegister(0));
        }
    }

    @Override
    public void tripleFault(int cs, int eip) {
        if (TraceEvent.CPU_TRIPLE_FAULT.enabled) {
            Trace.emit(TraceEvent.CPU_TRIPLE_FAULT, cs, eip);
        }
        if (resets) {
            sb.append("Triple fault\n");
            flush();
        }
    }

    private void flush() {
        if (sb.length() > 0) {
            synchronized (out) {
                out.append(sb);
            }
            sb.setLength(0);
        }
    }
}
