package dev.ioemu.cpu;

import java.nio.ByteBuffer;

import static dev.ioemu.cpu.Eflags.*;

/**
 * The software x86 CPU: an interpreter for 8086, 80286 (real mode) and 386-class CPUs in real
 * mode and 16/32-bit protected mode without paging (shared/spec/cpu.md). Decoding is driven by
 * {@link OpcodeTable}; handlers live in {@link Alu}, {@link Transfer}, {@link Control} and
 * {@link SystemOps}. Arithmetic flags are lazy: the last result and its operands are kept and
 * CF/PF/AF/ZF/SF/OF are computed only when read.
 *
 * <p>Threads: one vCPU thread owns the CPU; the register-file accessors may be called from that
 * thread between instructions or from inside an {@link IoPorts} callback (EIP then already
 * points past the OUT/IN).
 *
 * <p>Guest faults never escape as Java exceptions: a handler throws the CPU's one preallocated
 * {@link Fault}, {@link #run} catches it, rolls EIP/ESP back to the instruction start and
 * delivers the exception through the IVT or IDT.
 *
 * <p>Not modelled (a guest that needs it gets #GP or #UD, never a Java exception): paging
 * (CR0.PG is refused), task switches and TSS stack switches (so no privilege-changing
 * interrupts, IRET/RETF to an outer level or call gates), virtual-8086 mode, the I/O
 * permission bitmap, expand-down segments, x87 (ESC is a no-op or #NM), MSRs, SMM and debug
 * breakpoints (DR0-7 are stored only). The 386-class model answers CPUID as a family-5 part
 * with TSC only.
 */
public final class Cpu {
    // General registers, in ModR/M order.
    public static final int EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
    // Segment registers, in ModR/M order.
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    static final String[] SEGMENT_NAMES = {"ES", "CS", "SS", "DS", "FS", "GS"};

    // Exception vectors (Intel SDM vol. 3 table 6-1).
    public static final int DE = 0, DB = 1, NMI = 2, BP = 3, OVERFLOW = 4, BR = 5, UD = 6, NM = 7,
            DOUBLE_FAULT = 8, TS = 10, NP = 11, SS_FAULT = 12, GP = 13;

    /** CR0 bits. */
    public static final int CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20,
            CR0_PG = 0x8000_0000;

    /** Segment cache attribute bits: the descriptor's access byte plus its flags nibble << 8. */
    static final int ATTR_PRESENT = 0x80, ATTR_CODE = 0x08, ATTR_WRITABLE_OR_READABLE = 0x02,
            ATTR_BIG = 0x400, ATTR_GRANULAR = 0x800, ATTR_UNUSABLE = 0x10000;

    final CpuModel model;
    /** Segment limits exist (80286 and later; the 8086 wraps offsets in 64 KiB instead). */
    private final boolean checksLimits;
    final CpuMemory mem;
    IoPorts io = IoPorts.NONE;
    InterruptController pic = InterruptController.NONE;
    CpuListener listener;
    private boolean traceInstructions;
    /** The mode the listener last heard of. */
    private CpuMode lastMode = CpuMode.REAL;

    // ---- architectural state ----
    final int[] r = new int[8];
    int eip;
    /** EFLAGS except the bits in {@link #lazy}, which come from the last arithmetic result. */
    int flags;
    int lazy;
    int lfA, lfB, lfR, lfTop, lfMask;
    boolean lfSub;
    final int[] segSel = new int[6];
    final int[] segBase = new int[6];
    final int[] segLimit = new int[6];
    final int[] segAttr = new int[6];
    int cr0 = CR0_ET, cr2, cr3, cr4;
    final int[] dr = new int[8];
    int gdtBase, gdtLimit, idtBase, idtLimit = 0x3FF;
    int ldtSel, ldtBase, ldtLimit, trSel, trBase, trLimit;
    /** Current privilege level (CS.RPL in protected mode, 0 in real mode). */
    int cpl;

    // ---- derived mode bits, updated when CS/SS/CR0 change ----
    boolean protectedMode;
    boolean csBig;
    boolean ssBig;
    int ipMask = 0xFFFF;

    // ---- decode state of the current instruction ----
    int opcode;
    int startEip, startEsp;
    boolean o32, a32;
    int segOverride;
    /** 0, or the REP prefix byte (0xF2 REPNE, 0xF3 REP/REPE). */
    int rep;
    int instructionLength;
    int modrm, mod, reg, rm;
    int eaSeg, eaOff;
    int imm, imm2;
    /** Scratch space for handlers that must read everything before changing state (POPA). */
    final int[] scratch = new int[8];
    /** The string access in progress is a write (80286 fault bookkeeping). */
    boolean stringWriteFault;
    boolean stringFaultOnSource;
    int eaBase, eaIndex, eaScale, eaDisp;

    /** Decoded instructions per guest-physical page (null: nothing decoded there). */
    private final DecodedInstruction[][] codeCache = new DecodedInstruction[1 << (32 - CpuMemory.PAGE_SHIFT)][];
    /** Decoded instructions held per page of {@link #codeCache}. */
    private final int[] decodedCount = new int[1 << (32 - CpuMemory.PAGE_SHIFT)];
    /** Length of the longest instruction ever cached (the 8086 has no limit). */
    private int longestCached = 1;
    /** Holds an instruction that cannot be cached (crosses a page, or runs from MMIO). */
    private final DecodedInstruction scratchDecoded = new DecodedInstruction();
    /** Decode picks {@link Specialized} handlers; off only in the test that compares them with the rows' own. */
    boolean specialize = true;
    /** See {@link DecodedInstruction#next}; changes with CS, SS, CR0 and the address mask. */
    private int linkEpoch;
    /**
     * Hot paths run as compiled {@link Trace}s (386 model only; the 8086 and 80286 keep the
     * interpreter their vectors check). Default: system property {@code ioemu.cpu.translate}
     * (on unless "off").
     */
    private boolean translate;
    /** Times an instruction runs in the interpreter before a trace is compiled from it. */
    static final int HOT_THRESHOLD = 50_000;
    /**
     * {@link #HOT_THRESHOLD}, or system property {@code ioemu.cpu.translate.hot} (benchmarks);
     * lower in tests that want many traces from short runs.
     */
    int hotThreshold = Math.max(1, Integer.getInteger("ioemu.cpu.translate.hot", HOT_THRESHOLD));
    /** A store dropped decoded instructions (set by {@link #codeWritten}; compiled traces leave). */
    boolean codeChanged;
    /** Counts the times decoded instructions were dropped: a trace checked at one count is still alive. */
    int codeDrops;
    /** The trace running now, for the instruction count when a guest fault leaves it. */
    private Trace activeTrace;
    /** Traces compiled since creation (for tests and the benchmark). */
    long tracesCompiled;

    // ---- run state ----
    long instructions;
    /** Time-stamp ticks the CPU spent halted (an engine skipping idle time): RDTSC adds them. */
    long idleTscTicks;
    /** REP string iterations after each such instruction's first (see {@link #repeatedIterations}). */
    long repeatedIterations;
    boolean halted;
    /** Interrupts are blocked for one instruction after STI / MOV SS / POP SS. */
    boolean shadow;
    /** An NMI handler is running (until IRET): further NMIs are held. */
    boolean nmiBlocked;
    private boolean stopRequested;
    private StopReason haltReason;
    private final Fault fault = new Fault();
    private final Form[] table;
    private final Form[] table0F;
    private final Form[] groups;

    // ---- code fetch: the current code page's buffer ----
    private int fetchPage = 1;          // linear page base; 1 = none (never page aligned)
    private ByteBuffer fetchBuffer;
    private int fetchOffset;

    /** A guest exception raised inside a handler; one preallocated instance per CPU. */
    static final class Fault extends RuntimeException {
        int vector;
        int errorCode;
        boolean hasErrorCode;
        /** The 8086 pushes the address after a divide error, not the faulting instruction. */
        boolean returnToNext;

        Fault() {
            super(null, null, false, false);
        }
    }

    public Cpu(CpuModel model, CpuMemory memory) {
        this.model = model;
        this.checksLimits = !model.is8086();
        this.mem = memory;
        memory.setModelMask(model.addressMask);
        memory.setCodeWriteListener(this::codeWritten);
        memory.setMappingListener(this::newLinkEpoch);
        OpcodeTable t = OpcodeTable.forModel(model);
        table = t.oneByte;
        table0F = t.twoByte;
        groups = t.groups;
        setTranslation(!"off".equals(System.getProperty("ioemu.cpu.translate", "on")));
        reset();
    }

    /**
     * Guest code changed: drop the decoded instructions that overlap the written bytes (one may
     * start up to {@link #longestCached} - 1 bytes before them), or the whole page.
     */
    private void codeWritten(int page, int offset, int length) {
        DecodedInstruction[] decoded = codeCache[page];
        if (length >= CpuMemory.PAGE_SIZE) {
            codeCache[page] = null;
            decodedCount[page] = 0;
            fetchPage = 1;
            if (decoded != null) {
                codeChanged = true;
                codeDrops++;
                for (DecodedInstruction d : decoded) {
                    if (d != null) {
                        d.cached = false;
                    }
                }
            }
            return;
        }
        if (decoded != null) {
            int from = Math.max(0, offset - (longestCached - 1));
            int to = Math.min(CpuMemory.PAGE_SIZE, offset + length);
            for (int i = from; i < to; i++) {
                DecodedInstruction d = decoded[i];
                if (d != null) {
                    d.cached = false;
                    decoded[i] = null;
                    codeChanged = true;
                    codeDrops++;
                    if (--decodedCount[page] == 0) {
                        // The page's code is all overwritten (data copied over old code): stores
                        // there stop costing a look at the decode cache until code runs there again.
                        codeCache[page] = null;
                        mem.unmarkCodePage(page);
                        fetchPage = 1;
                        return;
                    }
                }
            }
        }
    }

    /** CS, SS, CR0 or the address mask changed: links made before lead nowhere now. */
    void newLinkEpoch() {
        linkEpoch++;
    }

    int linkEpoch() {
        return linkEpoch;
    }

    /**
     * Compiled traces on or off (off: exactly the interpreter). Only the 386 model translates;
     * asking on another model leaves it off.
     */
    public void setTranslation(boolean on) {
        translate = on && model.is386();
    }

    public boolean translation() {
        return translate;
    }

    /** Traces compiled since this CPU was created. */
    public long tracesCompiled() {
        return tracesCompiled;
    }

    public void setIoPorts(IoPorts io) {
        this.io = io;
    }

    public void setInterruptController(InterruptController pic) {
        this.pic = pic;
    }

    public void setListener(CpuListener listener) {
        this.listener = listener;
        lastMode = mode();
        traceInstructions = traceInstructions && listener != null;
    }

    /**
     * Calls {@link CpuListener#instruction} before every instruction ({@code -d in_asm}-style
     * logs); off by default and free when off.
     */
    public void setInstructionTracing(boolean on) {
        traceInstructions = on && listener != null;
    }

    public CpuModel model() {
        return model;
    }

    public CpuMemory memory() {
        return mem;
    }

    /** Power-on state (Intel SDM vol. 3 §9.1.1): CS=F000 with base FFFF0000 on a 386, IP=FFF0. */
    public void reset() {
        if (listener != null) {
            listener.reset();
        }
        java.util.Arrays.fill(r, 0);
        if (model.is386()) {
            // After reset EDX holds the processor signature CPUID leaf 1 reports.
            r[EDX] = SystemOps.CPUID_SIGNATURE;
        }
        flags = model.flagsFixedOnes;
        lazy = 0;
        for (int s = 0; s < 6; s++) {
            segSel[s] = 0;
            segBase[s] = 0;
            segLimit[s] = 0xFFFF;
            segAttr[s] = ATTR_PRESENT | 0x10 | ATTR_WRITABLE_OR_READABLE | 1;
        }
        segSel[CS] = 0xF000;
        // The first fetch comes from the top of the address space: FFFFFFF0 on a 386, FFFFF0 on
        // a 286, FFFF0 on an 8086 (the machine maps its BIOS ROM there as well as below 1 MiB).
        segBase[CS] = switch (model) {
            case I8086 -> 0xF_0000;
            case I80286 -> 0xFF_0000;
            case I386 -> 0xFFFF_0000;
        };
        segAttr[CS] = ATTR_PRESENT | 0x10 | ATTR_CODE | ATTR_WRITABLE_OR_READABLE | 1;
        eip = 0xFFF0;
        cr0 = CR0_ET;
        cr2 = cr3 = cr4 = 0;
        gdtBase = 0;
        // SDM vol. 3 table 9-1: GDTR, LDTR and TR limits FFFFh, DR6 FFFF0FF0h, DR7 400h. The IDTR
        // limit stays at the 3FFh a BIOS sets (the HLE BIOS runs no LIDT of its own).
        gdtLimit = 0xFFFF;
        idtBase = 0;
        idtLimit = 0x3FF;
        ldtSel = ldtBase = trSel = trBase = 0;
        ldtLimit = trLimit = 0xFFFF;
        java.util.Arrays.fill(dr, 0);
        dr[6] = 0xFFFF0FF0;
        dr[7] = 0x400;
        halted = false;
        shadow = false;
        nmiBlocked = false;
        updateMode();
    }

    // =====================================================================================
    // Running
    // =====================================================================================

    /**
     * Executes up to {@code maxInstructions} instructions (a REP string instruction counts once)
     * and says why it stopped. Hardware interrupts are taken at instruction boundaries.
     */
    public StopReason run(long maxInstructions) {
        stopRequested = false;
        long end = instructions + maxInstructions;
        // The instruction that ran last, while it may still link to its successor.
        DecodedInstruction last = null;
        while (true) {
            if (halted) {
                if (!wakeFromHalt()) {
                    return haltReason;
                }
            }
            if (instructions >= end) {
                return StopReason.BUDGET_EXHAUSTED;
            }
            boolean afterShadow = shadow;
            if (shadow) {
                shadow = false;
            } else if (!nmiBlocked && pic.hasNmi()) {
                // NMI ignores IF; further NMIs wait for the handler's IRET.
                pic.acknowledgeNmi();
                nmiBlocked = true;
                takeInterrupt(NMI);
                continue;
            } else if ((flags & IF) != 0 && pic.hasPending()) {
                takeInterrupt(pic.acknowledge() & 0xFF);
                continue;
            }
            boolean trap = (flags & TF) != 0;
            try {
                if (translate && !trap && !afterShadow && listener == null) {
                    // Interrupts are not due (checked above) and cannot become due inside a trace.
                    // With a listener (-d logs, cpu_* trace events) everything is interpreted, so
                    // the logs are those of the interpreter.
                    if (stepOrTrace(last, end)) {
                        last = null;
                        if (stopRequested) {
                            return StopReason.STOP_REQUESTED;
                        }
                        continue;
                    }
                    last = lastStepped;
                } else {
                    last = step(last);
                }
                instructions++;
                if (trap && !halted) {
                    deliver(DB, false, 0, false);
                }
            } catch (Fault f) {
                last = null;
                if (activeTrace != null) {
                    // The pass ran the instructions before the faulting one; the fault counts it, as below.
                    instructions += activeTrace.indexOf(startEip);
                    activeTrace = null;
                }
                instructions++;
                if (!f.returnToNext) {
                    eip = startEip;
                    // The 386 restarts a faulting instruction with ESP as it was; the 286 keeps
                    // the stack-pointer and index updates it made before the fault (vectors
                    // of POP m16 and the string instructions show this).
                    if (model.is386()) {
                        r[ESP] = startEsp;
                    }
                }
                if (!deliverException(f.vector, f.hasErrorCode, f.errorCode)) {
                    if (listener != null) {
                        listener.tripleFault(segSel[CS], eip);
                    }
                    return StopReason.TRIPLE_FAULT;
                }
            }
            if (stopRequested) {
                return StopReason.STOP_REQUESTED;
            }
        }
    }

    private boolean wakeFromHalt() {
        if ((!nmiBlocked && pic.hasNmi()) || ((flags & IF) != 0 && pic.hasPending())) {
            halted = false;
            return true;
        }
        return false;
    }

    private void takeInterrupt(int vector) {
        if (listener != null) {
            listener.hardwareInterrupt(vector);
        }
        startEip = eip;
        startEsp = r[ESP];
        try {
            deliver(vector, false, 0, false);
        } catch (Fault f) {
            eip = startEip;
            r[ESP] = startEsp;
            deliverException(f.vector, f.hasErrorCode, f.errorCode);
        }
    }

    /** Asks {@link #run} to return {@link StopReason#STOP_REQUESTED} after the current instruction. */
    public void requestStop() {
        stopRequested = true;
    }

    /**
     * The engine skipped {@code ticks} time-stamp ticks while the CPU was halted, so RDTSC keeps
     * counting the virtual time the timers saw (one tick per retired instruction otherwise).
     */
    public void advanceIdleTsc(long ticks) {
        idleTscTicks += ticks;
    }

    /** Instructions retired since creation (virtual time; RDTSC reads it with the idle ticks). */
    public long instructionCount() {
        return instructions;
    }

    /**
     * REP string iterations beyond the first of each repeated instruction. QEMU's TCG retires
     * every iteration as one instruction, so {@code instructionCount() + repeatedIterations()} is
     * the count its plugins report (shared/spec/cpu.md §1).
     */
    public long repeatedIterations() {
        return repeatedIterations;
    }

    public boolean isHalted() {
        return halted;
    }

    void halt() {
        halted = true;
        haltReason = (flags & IF) != 0 ? StopReason.HALTED : StopReason.SHUTDOWN;
    }

    /**
     * The instruction at {@code e}: through {@code previous}'s link when it is still good, else
     * from the decode cache, linking it to {@code previous} for next time.
     */
    private DecodedInstruction fetch(DecodedInstruction previous, int e) {
        DecodedInstruction d;
        if (previous == null || (d = previous.next) == null || previous.nextEip != e
                || previous.nextEpoch != linkEpoch || !d.cached) {
            d = lookup(e);
            if (previous != null && d.cached) {
                previous.next = d;
                previous.nextEip = e;
                previous.nextEpoch = linkEpoch;
            }
        }
        return d;
    }

    /**
     * Executes one instruction: from the decoded-instruction cache when this physical address
     * was decoded before in the same code size (and still lies within the CS limit), else
     * decoded from memory, cached if it lies within one RAM/ROM page.
     */
    private DecodedInstruction step(DecodedInstruction previous) {
        int e = eip;
        startEip = e;
        startEsp = r[ESP];
        DecodedInstruction d = fetch(previous, e);
        if (traceInstructions) {
            listener.instruction(segSel[CS], startEip, d.form.mnemonic(), d.length);
        }
        execute(d);
        return d.cached ? d : null;
    }

    /** What {@link #stepOrTrace} ran when it ran one instruction (null: not linkable). */
    private DecodedInstruction lastStepped;

    /**
     * {@link #step} with compiled traces: runs the trace headed by the instruction at EIP if it
     * fits the budget and the current code segment (true: the trace counted its instructions),
     * else the one instruction (false; {@link #lastStepped} is set), compiling a trace from it
     * once it is hot.
     */
    private boolean stepOrTrace(DecodedInstruction previous, long end) {
        int e = eip;
        startEip = e;
        startEsp = r[ESP];
        DecodedInstruction d = fetch(previous, e);
        Trace t = d.trace;
        if (t != null) {
            if (!t.alive(codeDrops)) {
                d.trace = null;
                d.hits = 0;
            } else if (instructions + t.length() <= end && t.fits(this)) {
                runTraces(t, end);
                return true;
            }
        } else if (previous != null && previous.transfersControl && d.cached && ++d.hits == hotThreshold) {
            // Only the targets of jumps are counted: a loop's head is one, and the counting
            // costs the instructions in between nothing.
            d.trace = TraceCompiler.compile(this, d, e);
            if (d.trace != null) {
                tracesCompiled++;
            }
        }
        execute(d);
        lastStepped = d.cached ? d : null;
        return false;
    }

    /**
     * What {@link #step} and {@link #execute} do before a handler runs, for compiled traces: the
     * fault restart point and the decode fields, from constants ({@link TraceCompiler#pack}).
     */
    static void prepare(Cpu c, int startEip, int nextEip, int packed, int modrm, int imm, int imm2) {
        c.startEip = startEip;
        c.startEsp = c.r[ESP];
        c.o32 = (packed & 1) != 0;
        c.a32 = (packed & 2) != 0;
        c.segOverride = ((packed >>> 2) & 7) - 1;
        int rep = (packed >>> 5) & 3;
        c.rep = rep == 0 ? 0 : rep == 1 ? 0xF2 : 0xF3;
        c.mod = (packed >>> 7) & 3;
        c.reg = (packed >>> 9) & 7;
        c.rm = (packed >>> 12) & 7;
        c.instructionLength = (packed >>> 15) & 0xF;
        c.opcode = (packed >>> 19) & 0x1FF;
        c.modrm = modrm;
        c.imm = imm;
        c.imm2 = imm2;
        c.eip = nextEip;
    }

    /**
     * After an instruction of a compiled trace: it must leave when a store dropped decoded
     * code, an access went to a device, or EIP is not where the trace goes next.
     */
    static boolean leavesTrace(Cpu c, int expectedEip) {
        return c.codeChanged | c.mem.slowAccess | c.eip != expectedEip;
    }

    /**
     * Runs {@code t}, then the trace headed at the EIP it left at, and so on while there is
     * one. Between two traces the run loop would find nothing to do: inside a trace no
     * interrupt can become due (no port I/O, no STI/POPF/IRET) and nothing can ask the CPU to
     * stop unless an access reached a device, which ends the chain.
     */
    private void runTraces(Trace t, long end) {
        while (true) {
            codeChanged = false;
            mem.slowAccess = false;
            activeTrace = t;
            long before = instructions;
            t.code.run(this, end);
            activeTrace = null;
            if (t.ranPoorly(instructions - before)) {
                // The loop seldom goes round (its branches go other ways than when it was
                // recorded): the interpreter runs it more cheaply than the JVM compiles it.
                DecodedInstruction head = t.instructions[0];
                head.trace = null;
                head.hits = Integer.MIN_VALUE;
            }
            if (codeChanged || mem.slowAccess) {
                return;
            }
            DecodedInstruction d = cachedAt(eip);
            if (d == null || (t = d.trace) == null || !t.alive(codeDrops) || instructions + t.length() > end
                    || !t.fits(this)) {
                return;
            }
        }
    }

    /** The decoded instruction at CS:{@code eip} if the cache holds a valid one (nothing is decoded). */
    DecodedInstruction cachedAt(int eip) {
        int phys = mem.physical(segBase[CS] + eip);
        DecodedInstruction[] page = codeCache[phys >>> CpuMemory.PAGE_SHIFT];
        DecodedInstruction d;
        if (page == null || (d = page[phys & (CpuMemory.PAGE_SIZE - 1)]) == null || d.csBig != csBig
                || (checksLimits && Integer.compareUnsigned(eip + d.length - 1, segLimit[CS]) > 0)) {
            return null;
        }
        return d;
    }

    /** The decoded instruction at CS:{@code eip}: from the cache, else decoded now. */
    private DecodedInstruction lookup(int eip) {
        int lin = segBase[CS] + eip;
        int phys = mem.physical(lin);
        DecodedInstruction[] page = codeCache[phys >>> CpuMemory.PAGE_SHIFT];
        DecodedInstruction d;
        if (page == null || (d = page[phys & (CpuMemory.PAGE_SIZE - 1)]) == null || d.csBig != csBig
                || (checksLimits && Integer.compareUnsigned(eip + d.length - 1, segLimit[CS]) > 0)) {
            d = decode(lin, phys);
        }
        return d;
    }

    private void execute(DecodedInstruction d) {
        o32 = d.o32;
        a32 = d.a32;
        segOverride = d.segOverride;
        rep = d.rep;
        opcode = d.opcode;
        modrm = d.modrm;
        mod = d.mod;
        reg = d.reg;
        rm = d.rm;
        imm = d.imm;
        imm2 = d.imm2;
        instructionLength = d.length;
        eip = (startEip + d.length) & ipMask;
        if (d.memoryOperand) {
            int off = d.eaDisp;
            if (d.eaBase >= 0) {
                off += r[d.eaBase];
            }
            if (d.eaIndex >= 0) {
                off += r[d.eaIndex] << d.eaScale;
            }
            eaOff = d.a32 ? off : off & 0xFFFF;
            eaSeg = d.eaSeg;
        }
        d.handler.execute(this);
    }

    /** Decodes the instruction at CS:EIP; EIP is left at its start for {@link #execute}. */
    private DecodedInstruction decode(int lin, int phys) {
        instructionLength = 0;
        o32 = csBig;
        a32 = csBig;
        segOverride = -1;
        rep = 0;
        mod = 3;
        int b = fetch8();
        Form f = table[b];
        while (f != null && (f.attributes() & Form.PREFIX) != 0) {
            opcode = b;
            f.handler().execute(this);
            if (instructionLength >= model.maxInstructionLength) {
                throw gp(0);
            }
            b = fetch8();
            f = table[b];
        }
        opcode = b;
        if (f == null) {
            undefined();
        }
        if (f == OpcodeTable.ESCAPE_0F) {
            b = fetch8();
            opcode = 0x100 | b;
            f = table0F[b];
            if (f == null) {
                undefined();
            }
        }
        int attrs = f.attributes();
        boolean memoryOperand = false;
        if ((attrs & Form.MODRM) != 0) {
            decodeModrm();
            memoryOperand = mod != 3;
            if ((attrs & Form.GROUP) != 0) {
                f = groups[(opcode << 3) | reg];
                if (f == null) {
                    undefined();
                }
                attrs = f.attributes();
            }
        }
        if ((attrs & Form.IMM_MASK) != 0) {
            fetchImmediate(attrs & Form.IMM_MASK);
        }
        int length = instructionLength;
        boolean cacheable = (lin & (CpuMemory.PAGE_SIZE - 1)) + length <= CpuMemory.PAGE_SIZE
                && ((startEip + length) & ipMask) == startEip + length
                && mem.bufferFor(lin) != null;
        DecodedInstruction d = cacheable ? new DecodedInstruction() : scratchDecoded;
        d.form = f;
        d.handler = specialize ? Specialized.choose(model, f, opcode, rep, o32, memoryOperand, reg) : f.handler();
        d.opcode = opcode;
        d.length = length;
        d.csBig = csBig;
        d.o32 = o32;
        d.a32 = a32;
        d.segOverride = segOverride;
        d.rep = rep;
        d.memoryOperand = memoryOperand;
        d.modrm = modrm;
        d.mod = mod;
        d.reg = reg;
        d.rm = rm;
        d.eaBase = eaBase;
        d.eaIndex = eaIndex;
        d.eaScale = eaScale;
        d.eaDisp = eaDisp;
        d.eaSeg = eaSeg;
        d.imm = imm;
        d.imm2 = imm2;
        d.transfersControl = TraceCompiler.transfersControl(d);
        if (cacheable) {
            longestCached = Math.max(longestCached, length);
            int pageNumber = phys >>> CpuMemory.PAGE_SHIFT;
            DecodedInstruction[] page = codeCache[pageNumber];
            if (page == null) {
                page = new DecodedInstruction[CpuMemory.PAGE_SIZE];
                codeCache[pageNumber] = page;
                mem.markCodePage(pageNumber);
            }
            DecodedInstruction replaced = page[phys & (CpuMemory.PAGE_SIZE - 1)];
            if (replaced != null) {
                // Decoded again in the other code size or past a lower limit: links to the old one end.
                replaced.cached = false;
            } else {
                decodedCount[pageNumber]++;
            }
            page[phys & (CpuMemory.PAGE_SIZE - 1)] = d;
            d.cached = true;
        }
        eip = startEip;
        return d;
    }

    private void fetchImmediate(int kind) {
        switch (kind) {
            case Form.IB -> imm = fetch8();
            case Form.IBS -> imm = (byte) fetch8();
            case Form.IW -> imm = fetch16();
            case Form.IV -> imm = o32 ? fetch32() : fetch16();
            case Form.AP -> {
                imm = o32 ? fetch32() : fetch16();
                imm2 = fetch16();
            }
            case Form.MOFFS -> imm = a32 ? fetch32() : fetch16();
            case Form.IW_IB -> {
                imm = fetch16();
                imm2 = fetch8();
            }
            default -> throw new IllegalStateException("immediate kind " + kind);
        }
    }

    /** An opcode this model lacks: the listener hears the bytes, the guest gets #UD. */
    void undefined() {
        if (listener != null) {
            byte[] bytes = new byte[Math.max(instructionLength, 1)];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) mem.read8(segBase[CS] + ((startEip + i) & ipMask));
            }
            listener.unimplementedOpcode(segSel[CS], startEip, bytes, bytes.length);
        }
        throw fault(UD);
    }

    // =====================================================================================
    // Faults and interrupt delivery
    // =====================================================================================

    Fault fault(int vector) {
        fault.vector = vector;
        fault.hasErrorCode = false;
        fault.errorCode = 0;
        fault.returnToNext = false;
        return fault;
    }

    Fault fault(int vector, int errorCode) {
        Fault f = fault(vector);
        // Real mode pushes no error codes.
        f.hasErrorCode = protectedMode;
        f.errorCode = errorCode;
        return f;
    }

    /** #DE: the 8086 returns to the next instruction, later CPUs to the faulting one. */
    Fault divideError() {
        Fault f = fault(DE);
        f.returnToNext = model.is8086();
        return f;
    }

    Fault gp(int errorCode) {
        return fault(GP, errorCode);
    }

    /** Delivers a fault; escalates to #DF and reports false on a triple fault. */
    private boolean deliverException(int vector, boolean hasError, int error) {
        int depth = 0;
        while (true) {
            try {
                deliver(vector, false, error, hasError);
                return true;
            } catch (Fault f) {
                depth++;
                if (depth >= 2 || vector == DOUBLE_FAULT) {
                    return false;
                }
                vector = DOUBLE_FAULT;
                hasError = protectedMode;
                error = 0;
                eip = startEip;
                r[ESP] = startEsp;
            }
        }
    }

    /**
     * Enters an interrupt or exception handler: through the IVT in real mode (FLAGS, CS, IP
     * pushed, IF and TF cleared), through an interrupt or trap gate of the IDT in protected mode.
     */
    void deliver(int vector, boolean software, int errorCode, boolean hasErrorCode) {
        if (listener != null) {
            listener.interrupt(vector, software, errorCode, segSel[CS], eip);
        }
        halted = false;
        if (!protectedMode) {
            int entry = vector * 4;
            if (entry + 3 > idtLimit) {
                throw gp(0);
            }
            int newIp = mem.read16(idtBase + entry);
            int newCs = mem.read16(idtBase + entry + 2);
            int fl = getFlags();
            push16(fl);
            push16(segSel[CS]);
            push16(eip);
            flags = (flags & ~(IF | TF | AC | RF));
            loadRealModeSegment(CS, newCs);
            eip = newIp;
            return;
        }
        int entry = vector * 8;
        int ext = software ? 0 : 1;
        if (entry + 7 > idtLimit) {
            throw gp(entry + 2 + ext);
        }
        int lo = mem.read32(idtBase + entry);
        int hi = mem.read32(idtBase + entry + 4);
        int type = (hi >>> 8) & 0x1F;
        int dpl = (hi >>> 13) & 3;
        boolean present = (hi & 0x8000) != 0;
        if (type != 0x06 && type != 0x07 && type != 0x0E && type != 0x0F) {
            // Task gates (type 5) need a task switch, which this CPU does not model.
            throw gp(entry + 2 + ext);
        }
        if (software && dpl < cpl) {
            throw gp(entry + 2);
        }
        if (!present) {
            throw fault(NP, entry + 2 + ext);
        }
        int selector = lo >>> 16;
        int offset = (lo & 0xFFFF) | (hi & 0xFFFF_0000);
        boolean gate32 = (type & 8) != 0;
        if (!gate32) {
            offset &= 0xFFFF;
        }
        long desc = readDescriptor(selector);
        int attr = descriptorAttributes(desc);
        if ((attr & 0x18) != 0x18 || (attr & ATTR_PRESENT) == 0) {
            throw (attr & 0x18) != 0x18 ? gp(selector & 0xFFFC) : fault(NP, selector & 0xFFFC);
        }
        int targetDpl = (attr >>> 5) & 3;
        if (targetDpl < cpl && (attr & 0x04) == 0) {
            // An inner-privilege handler needs a stack from the TSS; not modelled (CPL 0 only).
            throw gp(selector & 0xFFFC);
        }
        int fl = getFlags();
        if (gate32) {
            push32(fl);
            push32(segSel[CS]);
            push32(eip);
            if (hasErrorCode) {
                push32(errorCode);
            }
        } else {
            push16(fl);
            push16(segSel[CS]);
            push16(eip);
            if (hasErrorCode) {
                push16(errorCode);
            }
        }
        setCodeSegment((selector & 0xFFFC) | cpl, desc);
        eip = offset;
        flags &= ~(TF | NT | RF | VM);
        if ((type & 1) == 0) {
            flags &= ~IF;
        }
    }

    // =====================================================================================
    // Flags
    // =====================================================================================

    /** EFLAGS as the guest sees it (PUSHF). */
    public int getFlags() {
        int f = flags;
        int l = lazy;
        if (l != 0) {
            f &= ~l;
            if ((l & CF) != 0 && lazyCf()) {
                f |= CF;
            }
            if ((l & PF) != 0 && parity(lfR)) {
                f |= PF;
            }
            if ((l & AF) != 0 && ((lfA ^ lfB ^ lfR) & 0x10) != 0) {
                f |= AF;
            }
            if ((l & ZF) != 0 && (lfR & lfMask) == 0) {
                f |= ZF;
            }
            if ((l & SF) != 0 && ((lfR >>> lfTop) & 1) != 0) {
                f |= SF;
            }
            if ((l & OF) != 0 && lazyOf()) {
                f |= OF;
            }
        }
        return (f & ~0x28) | model.flagsFixedOnes;
    }

    /** Replaces the bits of {@code mask} with those of {@code value}. */
    void setFlags(int value, int mask) {
        int f = getFlags();
        lazy = 0;
        flags = ((f & ~mask) | (value & mask) & ~0x28) | model.flagsFixedOnes;
    }

    /** Sets EFLAGS from outside (firmware traps, tests): every bit the model can hold (no VM: no virtual-8086 mode). */
    public void setEflags(int value) {
        setFlags(value, model.flagsWritable | (model.is386() ? RF : 0));
    }

    private static boolean parity(int v) {
        return (Integer.bitCount(v & 0xFF) & 1) == 0;
    }

    private boolean lazyCf() {
        int a = lfA, b = lfB, res = lfR;
        int c = lfSub ? (~a & b) | (~(a ^ b) & res) : (a & b) | ((a ^ b) & ~res);
        return ((c >>> lfTop) & 1) != 0;
    }

    private boolean lazyOf() {
        int a = lfA, b = lfB, res = lfR;
        int o = lfSub ? (a ^ b) & (a ^ res) : (a ^ res) & (b ^ res);
        return ((o >>> lfTop) & 1) != 0;
    }

    boolean cf() {
        return (lazy & CF) != 0 ? lazyCf() : (flags & CF) != 0;
    }

    boolean zf() {
        return (lazy & ZF) != 0 ? (lfR & lfMask) == 0 : (flags & ZF) != 0;
    }

    boolean sf() {
        return (lazy & SF) != 0 ? ((lfR >>> lfTop) & 1) != 0 : (flags & SF) != 0;
    }

    boolean of() {
        return (lazy & OF) != 0 ? lazyOf() : (flags & OF) != 0;
    }

    boolean pf() {
        return (lazy & PF) != 0 ? parity(lfR) : (flags & PF) != 0;
    }

    boolean af() {
        return (lazy & AF) != 0 ? ((lfA ^ lfB ^ lfR) & 0x10) != 0 : (flags & AF) != 0;
    }

    boolean df() {
        return (flags & DF) != 0;
    }

    /** Result of an ADD/ADC/SUB/SBB/CMP/NEG: all six status flags lazy. */
    void setArith(int a, int b, int res, int size, boolean sub) {
        lfA = a;
        lfB = b;
        lfR = res;
        lfTop = size * 8 - 1;
        lfMask = size == 4 ? -1 : (1 << (size * 8)) - 1;
        lfSub = sub;
        lazy = OSZAPC;
    }

    /** SF, ZF and PF from {@code res}; CF, OF, AF given. */
    void setResultFlags(int res, int size, boolean carry, boolean overflow, boolean aux) {
        lfR = res;
        lfTop = size * 8 - 1;
        lfMask = size == 4 ? -1 : (1 << (size * 8)) - 1;
        lazy = SF | ZF | PF;
        int f = flags & ~(CF | OF | AF);
        if (carry) {
            f |= CF;
        }
        if (overflow) {
            f |= OF;
        }
        if (aux) {
            f |= AF;
        }
        flags = f;
    }

    /** Sets or clears one flag, materialising it if it was lazy. */
    void setFlag(int bit, boolean on) {
        if ((lazy & bit) != 0) {
            flags = getFlags();
            lazy = 0;
        }
        flags = on ? flags | bit : flags & ~bit;
    }

    // =====================================================================================
    // Registers
    // =====================================================================================

    int reg8(int i) {
        return i < 4 ? r[i] & 0xFF : (r[i - 4] >>> 8) & 0xFF;
    }

    void setReg8(int i, int v) {
        if (i < 4) {
            r[i] = (r[i] & ~0xFF) | (v & 0xFF);
        } else {
            r[i - 4] = (r[i - 4] & ~0xFF00) | ((v & 0xFF) << 8);
        }
    }

    int reg16(int i) {
        return r[i] & 0xFFFF;
    }

    void setReg16(int i, int v) {
        r[i] = (r[i] & 0xFFFF_0000) | (v & 0xFFFF);
    }

    /** A general register at the current operand size. */
    int regV(int i) {
        return o32 ? r[i] : r[i] & 0xFFFF;
    }

    void setRegV(int i, int v) {
        if (o32) {
            r[i] = v;
        } else {
            r[i] = (r[i] & 0xFFFF_0000) | (v & 0xFFFF);
        }
    }

    int opSize() {
        return o32 ? 4 : 2;
    }

    /** The count register of string ops and LOOP: CX or ECX by address size. */
    int counter() {
        return a32 ? r[ECX] : r[ECX] & 0xFFFF;
    }

    void setCounter(int v) {
        if (a32) {
            r[ECX] = v;
        } else {
            setReg16(ECX, v);
        }
    }

    // =====================================================================================
    // Segments and memory
    // =====================================================================================

    /** Recomputes mode bits after CR0, CS or SS change. */
    void updateMode() {
        protectedMode = (cr0 & CR0_PE) != 0;
        csBig = (segAttr[CS] & ATTR_BIG) != 0;
        ssBig = (segAttr[SS] & ATTR_BIG) != 0;
        ipMask = csBig ? -1 : 0xFFFF;
        linkEpoch++;
        if (!protectedMode) {
            cpl = 0;
        }
        fetchPage = 1;
        if (listener != null && mode() != lastMode) {
            CpuMode from = lastMode;
            lastMode = mode();
            listener.modeChanged(from, lastMode);
        }
    }

    /** The execution mode the code segment and CR0 give. */
    public CpuMode mode() {
        return !protectedMode ? CpuMode.REAL : csBig ? CpuMode.PM32 : CpuMode.PM16;
    }

    /** Real-mode segment load: selector and base change, the cached limit and attributes stay (unreal mode). */
    void loadRealModeSegment(int seg, int selector) {
        selector &= 0xFFFF;
        segSel[seg] = selector;
        segBase[seg] = selector << 4;
        segAttr[seg] &= ~ATTR_UNUSABLE;
        if (seg == CS || seg == SS) {
            updateMode();
        }
    }

    /** MOV/POP/LxS into a data or stack segment register, with protected-mode checks. */
    void loadSegment(int seg, int selector) {
        selector &= 0xFFFF;
        if (!protectedMode || (flags & VM) != 0) {
            loadRealModeSegment(seg, selector);
            return;
        }
        if ((selector & 0xFFFC) == 0) {
            if (seg == SS) {
                throw gp(0);
            }
            segSel[seg] = selector;
            segBase[seg] = 0;
            segLimit[seg] = 0;
            segAttr[seg] = ATTR_UNUSABLE;
            return;
        }
        long desc = readDescriptor(selector);
        int attr = descriptorAttributes(desc);
        int dpl = (attr >>> 5) & 3;
        int rpl = selector & 3;
        if ((attr & 0x10) == 0) {
            throw gp(selector & 0xFFFC);
        }
        if (seg == SS) {
            if ((attr & ATTR_CODE) != 0 || (attr & ATTR_WRITABLE_OR_READABLE) == 0 || rpl != cpl || dpl != cpl) {
                throw gp(selector & 0xFFFC);
            }
            if ((attr & ATTR_PRESENT) == 0) {
                throw fault(SS_FAULT, selector & 0xFFFC);
            }
        } else {
            if ((attr & ATTR_CODE) != 0 && (attr & ATTR_WRITABLE_OR_READABLE) == 0) {
                throw gp(selector & 0xFFFC);
            }
            if ((attr & ATTR_PRESENT) == 0) {
                throw fault(NP, selector & 0xFFFC);
            }
        }
        setAccessed(selector, desc);
        segSel[seg] = selector;
        segBase[seg] = descriptorBase(desc);
        segLimit[seg] = descriptorLimit(desc);
        // The cache holds the descriptor as it is after setAccessed: accessed bit (type bit 0) set.
        segAttr[seg] = attr | 1;
        if (seg == SS) {
            updateMode();
        }
    }

    /** Loads CS from a code-segment descriptor already checked by the caller. */
    void setCodeSegment(int selector, long desc) {
        segSel[CS] = selector & 0xFFFF;
        segBase[CS] = descriptorBase(desc);
        segLimit[CS] = descriptorLimit(desc);
        segAttr[CS] = descriptorAttributes(desc);
        cpl = selector & 3;
        updateMode();
    }

    /** Far JMP/CALL/RET target: real mode loads CS directly; protected mode checks the descriptor. */
    void loadCodeSegment(int selector, int offset) {
        selector &= 0xFFFF;
        if (!protectedMode || (flags & VM) != 0) {
            loadRealModeSegment(CS, selector);
            eip = offset & ipMask;
            return;
        }
        if ((selector & 0xFFFC) == 0) {
            throw gp(0);
        }
        long desc = readDescriptor(selector);
        int attr = descriptorAttributes(desc);
        if ((attr & 0x18) != 0x18) {
            // System descriptors (call gates, TSS, task gates) are not modelled.
            throw gp(selector & 0xFFFC);
        }
        int dpl = (attr >>> 5) & 3;
        boolean conforming = (attr & 0x04) != 0;
        if (conforming ? dpl > cpl : ((selector & 3) > cpl || dpl != cpl)) {
            throw gp(selector & 0xFFFC);
        }
        if ((attr & ATTR_PRESENT) == 0) {
            throw fault(NP, selector & 0xFFFC);
        }
        int limit = descriptorLimit(desc);
        if (Integer.compareUnsigned(offset, limit) > 0) {
            throw gp(0);
        }
        setAccessed(selector, desc);
        setCodeSegment((selector & 0xFFFC) | cpl, desc);
        eip = offset;
    }

    /** Reads the 8-byte descriptor of {@code selector} from the GDT or LDT. */
    long readDescriptor(int selector) {
        int index = selector & 0xFFF8;
        boolean local = (selector & 4) != 0;
        int base = local ? ldtBase : gdtBase;
        int limit = local ? ldtLimit : gdtLimit;
        if (index + 7 > limit || (local && (ldtSel & 0xFFFC) == 0)) {
            throw gp(selector & 0xFFFC);
        }
        int lo = mem.read32(base + index);
        int hi = mem.read32(base + index + 4);
        return (lo & 0xFFFF_FFFFL) | ((long) hi << 32);
    }

    private void setAccessed(int selector, long desc) {
        if ((desc & (1L << 40)) == 0) {
            int base = (selector & 4) != 0 ? ldtBase : gdtBase;
            mem.write8(base + (selector & 0xFFF8) + 5, (int) (desc >>> 40) | 1);
        }
    }

    static int descriptorBase(long d) {
        return (int) ((d >>> 16) & 0xFF_FFFF) | (int) ((d >>> 56) & 0xFF) << 24;
    }

    static int descriptorLimit(long d) {
        int limit = (int) (d & 0xFFFF) | (int) ((d >>> 48) & 0xF) << 16;
        return (d & (1L << 55)) != 0 ? limit << 12 | 0xFFF : limit;
    }

    static int descriptorAttributes(long d) {
        return (int) ((d >>> 40) & 0xFF) | (int) ((d >>> 52) & 0xF) << 8;
    }

    /** Segment limit check; real mode on the 8086 has none (offsets wrap in 64 KiB). */
    private void checkLimit(int seg, int off, int size) {
        int limit = segLimit[seg];
        if ((segAttr[seg] & ATTR_UNUSABLE) != 0
                || Integer.toUnsignedLong(off) + size - 1 > Integer.toUnsignedLong(limit)) {
            throw seg == SS && protectedMode ? fault(SS_FAULT, 0) : gp(0);
        }
    }

    int read8(int seg, int off) {
        if (checksLimits) {
            checkLimit(seg, off, 1);
        }
        return mem.read8(segBase[seg] + off);
    }

    int read16(int seg, int off) {
        if (!checksLimits) {
            int base = segBase[seg];
            return mem.read8(base + (off & 0xFFFF)) | mem.read8(base + ((off + 1) & 0xFFFF)) << 8;
        }
        checkLimit(seg, off, 2);
        return mem.read16(segBase[seg] + off);
    }

    int read32(int seg, int off) {
        checkLimit(seg, off, 4);
        return mem.read32(segBase[seg] + off);
    }

    void write8(int seg, int off, int v) {
        if (checksLimits) {
            checkLimit(seg, off, 1);
        }
        mem.write8(segBase[seg] + off, v);
    }

    void write16(int seg, int off, int v) {
        if (!checksLimits) {
            int base = segBase[seg];
            mem.write8(base + (off & 0xFFFF), v);
            mem.write8(base + ((off + 1) & 0xFFFF), v >>> 8);
            return;
        }
        checkLimit(seg, off, 2);
        mem.write16(segBase[seg] + off, v);
    }

    void write32(int seg, int off, int v) {
        checkLimit(seg, off, 4);
        mem.write32(segBase[seg] + off, v);
    }

    int readV(int seg, int off) {
        return o32 ? read32(seg, off) : read16(seg, off);
    }

    void writeV(int seg, int off, int v) {
        if (o32) {
            write32(seg, off, v);
        } else {
            write16(seg, off, v);
        }
    }

    int readSized(int seg, int off, int size) {
        return size == 1 ? read8(seg, off) : size == 2 ? read16(seg, off) : read32(seg, off);
    }

    void writeSized(int seg, int off, int size, int v) {
        if (size == 1) {
            write8(seg, off, v);
        } else if (size == 2) {
            write16(seg, off, v);
        } else {
            write32(seg, off, v);
        }
    }

    /** The data segment of a string source or memory offset: DS unless overridden. */
    int dataSegment() {
        return segOverride >= 0 ? segOverride : DS;
    }

    // ---- code fetch ----

    int fetch8() {
        int off = eip;
        if (++instructionLength > model.maxInstructionLength) {
            throw gp(0);
        }
        if (checksLimits && Integer.compareUnsigned(off, segLimit[CS]) > 0) {
            throw gp(0);
        }
        eip = (off + 1) & ipMask;
        int lin = segBase[CS] + off;
        if ((lin & ~0xFFF) == fetchPage) {
            return fetchBuffer.get(fetchOffset + (lin & 0xFFF)) & 0xFF;
        }
        return fetchSlow(lin);
    }

    private int fetchSlow(int lin) {
        ByteBuffer b = mem.bufferFor(lin);
        if (b != null) {
            fetchBuffer = b;
            fetchOffset = mem.bufferOffset(lin & ~0xFFF);
            fetchPage = lin & ~0xFFF;
            return b.get(fetchOffset + (lin & 0xFFF)) & 0xFF;
        }
        fetchPage = 1;
        return mem.read8(lin);
    }

    int fetch16() {
        int lo = fetch8();
        return lo | fetch8() << 8;
    }

    int fetch32() {
        int lo = fetch16();
        return lo | fetch16() << 16;
    }

    // ---- ModR/M ----

    /** Reads ModR/M (and SIB, displacement) into the address parts {@link #execute} combines. */
    void decodeModrm() {
        int m = fetch8();
        modrm = m;
        mod = m >>> 6;
        reg = (m >>> 3) & 7;
        rm = m & 7;
        if (mod == 3) {
            return;
        }
        if (a32) {
            decodeModrm32();
        } else {
            decodeModrm16();
        }
        if (segOverride >= 0) {
            eaSeg = segOverride;
        }
    }

    /** 16-bit forms: [BX+SI], [BX+DI], [BP+SI], [BP+DI], [SI], [DI], [BP]/disp16, [BX]. */
    private static final int[] BASE16 = {EBX, EBX, EBP, EBP, -1, -1, EBP, EBX};
    private static final int[] INDEX16 = {ESI, EDI, ESI, EDI, ESI, EDI, -1, -1};

    private void decodeModrm16() {
        eaBase = BASE16[rm];
        eaIndex = INDEX16[rm];
        eaScale = 0;
        eaSeg = eaBase == EBP ? SS : DS;
        if (mod == 0 && rm == 6) {
            eaBase = -1;
            eaSeg = DS;
            eaDisp = fetch16();
        } else if (mod == 1) {
            eaDisp = (byte) fetch8();
        } else if (mod == 2) {
            eaDisp = fetch16();
        } else {
            eaDisp = 0;
        }
    }

    private void decodeModrm32() {
        int seg = DS;
        eaIndex = -1;
        eaScale = 0;
        eaDisp = 0;
        if (rm == 4) {
            int sib = fetch8();
            int index = (sib >>> 3) & 7;
            int base = sib & 7;
            eaScale = sib >>> 6;
            if (index != 4) {
                eaIndex = index;
            }
            if (base == 5 && mod == 0) {
                eaBase = -1;
                eaDisp = fetch32();
            } else {
                eaBase = base;
                if (base == ESP || base == EBP) {
                    seg = SS;
                }
            }
        } else if (rm == 5 && mod == 0) {
            eaBase = -1;
            eaDisp = fetch32();
        } else {
            eaBase = rm;
            if (rm == EBP) {
                seg = SS;
            }
        }
        if (mod == 1) {
            eaDisp += (byte) fetch8();
        } else if (mod == 2) {
            eaDisp += fetch32();
        }
        eaSeg = seg;
    }

    /** Offset of a memory operand {@code delta} bytes past the effective address (address-size wrap). */
    int eaPlus(int delta) {
        return a32 ? eaOff + delta : (eaOff + delta) & 0xFFFF;
    }

    int readE8() {
        return mod == 3 ? reg8(rm) : read8(eaSeg, eaOff);
    }

    void writeE8(int v) {
        if (mod == 3) {
            setReg8(rm, v);
        } else {
            write8(eaSeg, eaOff, v);
        }
    }

    int readE16() {
        return mod == 3 ? r[rm] & 0xFFFF : read16(eaSeg, eaOff);
    }

    void writeE16(int v) {
        if (mod == 3) {
            setReg16(rm, v);
        } else {
            write16(eaSeg, eaOff, v);
        }
    }

    int readEv() {
        if (mod == 3) {
            return o32 ? r[rm] : r[rm] & 0xFFFF;
        }
        return o32 ? read32(eaSeg, eaOff) : read16(eaSeg, eaOff);
    }

    void writeEv(int v) {
        if (mod == 3) {
            setRegV(rm, v);
        } else if (o32) {
            write32(eaSeg, eaOff, v);
        } else {
            write16(eaSeg, eaOff, v);
        }
    }

    int readE(int size) {
        return size == 1 ? readE8() : readEv();
    }

    void writeE(int size, int v) {
        if (size == 1) {
            writeE8(v);
        } else {
            writeEv(v);
        }
    }

    int readG(int size) {
        return size == 1 ? reg8(reg) : regV(reg);
    }

    void writeG(int size, int v) {
        if (size == 1) {
            setReg8(reg, v);
        } else {
            setRegV(reg, v);
        }
    }

    /** A handler that needs a memory operand got a register one. */
    void requireMemory() {
        if (mod == 3) {
            undefined();
        }
    }

    // ---- stack ----

    private int sp() {
        return ssBig ? r[ESP] : r[ESP] & 0xFFFF;
    }

    private void setSp(int v) {
        if (ssBig) {
            r[ESP] = v;
        } else {
            setReg16(ESP, v);
        }
    }

    private int stackOffset(int v) {
        return ssBig ? v : v & 0xFFFF;
    }

    void push16(int v) {
        int off = stackOffset(sp() - 2);
        write16(SS, off, v);
        setSp(off);
    }

    void push32(int v) {
        int off = stackOffset(sp() - 4);
        write32(SS, off, v);
        setSp(off);
    }

    void pushV(int v) {
        if (o32) {
            push32(v);
        } else {
            push16(v);
        }
    }

    int pop16() {
        int off = sp();
        int v = read16(SS, off);
        setSp(stackOffset(off + 2));
        return v;
    }

    int pop32() {
        int off = sp();
        int v = read32(SS, off);
        setSp(stackOffset(off + 4));
        return v;
    }

    int popV() {
        return o32 ? pop32() : pop16();
    }

    /** Reads the stack {@code depth} bytes above SP without popping. */
    int peekV(int depth) {
        return o32 ? read32(SS, stackOffset(sp() + depth)) : read16(SS, stackOffset(sp() + depth));
    }

    void adjustSp(int delta) {
        setSp(stackOffset(sp() + delta));
    }

    // =====================================================================================
    // The register file, for the machine (firmware traps, reset, debuggers)
    // =====================================================================================

    /** A 32-bit general register ({@link #EAX} … {@link #EDI}). */
    public int register(int index) {
        return r[index];
    }

    public void setRegister(int index, int value) {
        r[index] = value;
    }

    public int eip() {
        return eip;
    }

    public void setEip(int value) {
        eip = value;
    }

    public int eflags() {
        return getFlags();
    }

    public int segmentSelector(int seg) {
        return segSel[seg];
    }

    public int segmentBase(int seg) {
        return segBase[seg];
    }

    public int segmentLimit(int seg) {
        return segLimit[seg];
    }

    /** The cached attributes: descriptor access byte | flags nibble << 8. */
    public int segmentAttributes(int seg) {
        return segAttr[seg];
    }

    /**
     * Loads a segment register as real mode does (base = selector × 16, limit and attributes
     * kept). Outside real mode use {@link #setSegmentCache}.
     */
    public void setSegmentRealMode(int seg, int selector) {
        loadRealModeSegment(seg, selector);
    }

    /** Sets a segment register's selector and hidden cache directly (firmware, LOADALL-style set-up). */
    public void setSegmentCache(int seg, int selector, int base, int limit, int attributes) {
        segSel[seg] = selector & 0xFFFF;
        segBase[seg] = base;
        segLimit[seg] = limit;
        segAttr[seg] = attributes;
        if (seg == CS) {
            cpl = protectedMode ? selector & 3 : 0;
        }
        updateMode();
    }

    public int cr0() {
        return cr0;
    }

    /** Writes CR0 as MOV CR0 does (PE switches modes; PG is refused: no paging). */
    public void setCr0(int value) {
        SystemOps.writeCr0(this, value);
    }

    public int gdtBase() {
        return gdtBase;
    }

    public int gdtLimit() {
        return gdtLimit;
    }

    public int idtBase() {
        return idtBase;
    }

    public int idtLimit() {
        return idtLimit;
    }

    public boolean isProtectedMode() {
        return protectedMode;
    }

    /** CR2, CR3, CR4 (stored only: no paging). */
    public int controlRegister(int index) {
        return switch (index) {
            case 0 -> cr0;
            case 2 -> cr2;
            case 3 -> cr3;
            case 4 -> cr4;
            default -> throw new IllegalArgumentException("CR" + index + " (expected: 0, 2, 3 or 4)");
        };
    }

    /** DR0-DR7 as last written. */
    public int debugRegister(int index) {
        return dr[index];
    }

    /** The LDTR and TR: selector, base, limit (attributes are fixed: present LDT, busy 32-bit TSS). */
    public int[] systemSegments() {
        return new int[] {ldtSel, ldtBase, ldtLimit, trSel, trBase, trLimit};
    }

    public int cpl() {
        return cpl;
    }

    /** Interrupts are held for one instruction (after STI, MOV SS, POP SS). */
    public boolean interruptShadow() {
        return shadow;
    }

    /** Raises an interrupt from outside as if INT n ran (firmware reflecting a call back). */
    public void raiseSoftwareInterrupt(int vector) {
        deliver(vector, true, 0, false);
    }

    /** The stepping in EDX after reset and in CPUID leaf 1 (family 5, model 2: a Pentium-class part). */
    static final int CPUID_STEPPING = 0x23;

    @Override
    public String toString() {
        return String.format("EAX=%08x EBX=%08x ECX=%08x EDX=%08x ESI=%08x EDI=%08x EBP=%08x ESP=%08x EIP=%08x EFL=%08x "
                        + "CS=%04x DS=%04x ES=%04x SS=%04x CR0=%08x",
                r[EAX], r[EBX], r[ECX], r[EDX], r[ESI], r[EDI], r[EBP], r[ESP], eip, getFlags(),
                segSel[CS], segSel[DS], segSel[ES], segSel[SS], cr0);
    }
}
