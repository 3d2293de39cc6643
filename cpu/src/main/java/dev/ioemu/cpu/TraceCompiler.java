package dev.ioemu.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;

import static dev.ioemu.cpu.ClassFileWriter.*;

/**
 * Compiles a hot path of decoded instructions into a {@link Trace}: one hidden class per trace
 * whose {@code run} method does, per instruction, what {@link Cpu}'s {@code step} and
 * {@code execute} do — {@link Cpu#prepare} with the decode fields as constants, the effective
 * address computed — then calls the instruction's own handler and {@link Cpu#leavesTrace}.
 * The path follows the links the interpreter made (the way each branch went last time). Each call site has one receiver class, so the JVM can inline the
 * handler; the interpreter's per-instruction dispatch, link checks and run-loop checks are gone.
 *
 * <p>Which instructions: those that cannot change CS, SS, the interrupt or trap flags, the
 * address mask or the time-stamp counter, and do no port I/O (shared/spec/cpu.md §2.2 lists the
 * forms the workloads run); others end the trace and run in the interpreter.
 */
final class TraceCompiler {
    /**
     * Compile only paths that come back to their head (system property
     * {@code ioemu.cpu.translate.loops}, default true): on GRUB, straight paths through branchy
     * code (its LZMA decoder) cost more JIT compile time than they saved.
     */
    static final boolean LOOPS_ONLY = Boolean.parseBoolean(System.getProperty("ioemu.cpu.translate.loops", "true"));
    /** Longest trace. */
    static final int MAX_INSTRUCTIONS = 64;

    private static final String CPU = "dev/ioemu/cpu/Cpu";
    private static final String MEMORY = "dev/ioemu/cpu/CpuMemory";
    private static final String HANDLER = "dev/ioemu/cpu/Form$Handler";
    private static final String HANDLER_DESC = "L" + HANDLER + ";";
    private static final int THIS = 0, CPU_LOCAL = 1, END = 2;

    /** One-byte opcodes a trace may hold (386 decoding). */
    private static final boolean[] ONE_BYTE = new boolean[256];
    /** Two-byte opcodes (0F xx) a trace may hold. */
    private static final boolean[] TWO_BYTE = new boolean[256];

    static {
        // ADD, OR, ADC, SBB, AND, SUB, XOR, CMP in all six forms.
        for (int op = 0; op < 0x40; op += 8) {
            allow(ONE_BYTE, op, op + 5);
        }
        allow(ONE_BYTE, 0x40, 0x5F);   // INC, DEC, PUSH, POP r
        allow(ONE_BYTE, 0x68, 0x6B);   // PUSH imm, IMUL imm
        allow(ONE_BYTE, 0x70, 0x7F);   // Jcc short
        allow(ONE_BYTE, 0x80, 0x8B);   // group 1, TEST, XCHG, MOV
        allow(ONE_BYTE, 0x8D, 0x8D);   // LEA
        allow(ONE_BYTE, 0x8F, 0x8F);   // POP Ev
        allow(ONE_BYTE, 0x90, 0x99);   // NOP, XCHG eAX, CBW, CWD
        allow(ONE_BYTE, 0x9C, 0x9C);   // PUSHF (reads the flags only)
        allow(ONE_BYTE, 0x9E, 0x9F);   // SAHF, LAHF
        allow(ONE_BYTE, 0xA0, 0xBF);   // MOV moffs, string instructions, TEST, MOV imm
        allow(ONE_BYTE, 0xC0, 0xC3);   // shifts by imm, RET near
        allow(ONE_BYTE, 0xC6, 0xC9);   // MOV Ev,imm, ENTER, LEAVE
        allow(ONE_BYTE, 0xD0, 0xD3);   // shifts
        allow(ONE_BYTE, 0xD7, 0xD7);   // XLAT
        allow(ONE_BYTE, 0xE0, 0xE3);   // LOOPcc, JCXZ
        allow(ONE_BYTE, 0xE8, 0xE9);   // CALL, JMP near
        allow(ONE_BYTE, 0xEB, 0xEB);   // JMP short
        allow(ONE_BYTE, 0xF5, 0xF5);   // CMC
        allow(ONE_BYTE, 0xF6, 0xF7);   // group 3 (#DE leaves through the fault path)
        allow(ONE_BYTE, 0xF8, 0xF9);   // CLC, STC
        allow(ONE_BYTE, 0xFC, 0xFE);   // CLD, STD, group 4
        allow(ONE_BYTE, 0xFF, 0xFF);   // group 5 without the far forms (see translatable)
        allow(TWO_BYTE, 0x80, 0x9F);   // Jcc near, SETcc
        allow(TWO_BYTE, 0xA3, 0xA5);   // BT, SHLD
        allow(TWO_BYTE, 0xAB, 0xAD);   // BTS, SHRD
        allow(TWO_BYTE, 0xAF, 0xAF);   // IMUL Gv,Ev
        allow(TWO_BYTE, 0xB3, 0xB3);   // BTR
        allow(TWO_BYTE, 0xB6, 0xBF);   // MOVZX, group 8, BTC, BSF, BSR, MOVSX
        allow(TWO_BYTE, 0xC8, 0xCF);   // BSWAP
    }

    private static void allow(boolean[] table, int from, int to) {
        for (int op = from; op <= to; op++) {
            table[op] = true;
        }
    }

    private TraceCompiler() {
    }

    /** Jumps, calls, returns, loops and REP string instructions (which may run again). */
    static boolean transfersControl(DecodedInstruction d) {
        int op = d.opcode;
        if (op >= 0x100) {
            return (op & 0xF0) == 0x80;
        }
        return (op >= 0x70 && op <= 0x7F) || (op >= 0xE0 && op <= 0xE3) || op == 0xE8 || op == 0xE9 || op == 0xEB
                || op == 0xC2 || op == 0xC3 || (op == 0xFF && (d.reg == 2 || d.reg == 4))
                || (d.rep != 0 && op >= 0xA4 && op <= 0xAF);
    }

    static boolean translatable(DecodedInstruction d) {
        int op = d.opcode;
        if (op >= 0x100) {
            return TWO_BYTE[op & 0xFF];
        }
        if (op == 0xFF) {
            // CALL far / JMP far change CS; /7 is undefined.
            return d.reg != 3 && d.reg != 5 && d.reg != 7;
        }
        if (op == 0xFE) {
            return d.reg <= 1;
        }
        return ONE_BYTE[op];
    }

    /**
     * The trace from {@code head} (at {@code headEip}, just looked up by the interpreter) along
     * the links the interpreter made, or null when the head cannot be translated or (with
     * {@link #LOOPS_ONLY}) the path does not come back to it.
     */
    static Trace compile(Cpu cpu, DecodedInstruction head, int headEip) {
        List<DecodedInstruction> path = new ArrayList<>();
        List<Integer> eips = new ArrayList<>();
        DecodedInstruction d = head;
        int eip = headEip;
        boolean loops = false;
        while (path.size() < MAX_INSTRUCTIONS && d.cached && translatable(d)
                && Integer.compareUnsigned(eip + d.length - 1, cpu.segLimit[Cpu.CS]) <= 0) {
            path.add(d);
            eips.add(eip);
            // The successor: where the instruction went last time (its link, possibly from before
            // a mode switch), or for an instruction that always falls through, the next one.
            int successor;
            if (d.next != null) {
                successor = d.nextEip;
            } else if (!transfersControl(d)) {
                successor = (eip + d.length) & cpu.ipMask;
            } else {
                break;
            }
            if (successor == headEip) {
                loops = true;
                break;
            }
            if (eips.contains(successor)) {
                break;
            }
            DecodedInstruction next = cpu.cachedAt(successor);
            if (next == null) {
                break;
            }
            eip = successor;
            d = next;
        }
        if (path.isEmpty() || (LOOPS_ONLY && !loops)) {
            return null;
        }
        for (int i = 1; i < path.size(); i++) {
            // The rest of the path got as hot as the head: it starts counting again rather than
            // compiling the same loop from each of its instructions.
            if (path.get(i).trace == null) {
                path.get(i).hits = 0;
            }
        }
        int[] at = eips.stream().mapToInt(Integer::intValue).toArray();
        Trace trace = new Trace(path.toArray(new DecodedInstruction[0]), at, loops, cpu);
        trace.code = load(trace, cpu.ipMask);
        return trace;
    }

    private static int sequence;

    private static Trace.Code load(Trace trace, int ipMask) {
        String name = "dev/ioemu/cpu/CompiledTrace" + (sequence++);
        byte[] bytes = generate(name, trace, ipMask);
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(bytes, true);
            Form.Handler[] handlers = new Form.Handler[trace.instructions.length];
            for (int i = 0; i < handlers.length; i++) {
                handlers[i] = trace.instructions[i].handler;
            }
            return (Trace.Code) hidden.findConstructor(hidden.lookupClass(),
                    MethodType.methodType(void.class, Form.Handler[].class)).invoke(handlers);
        } catch (Throwable e) {
            throw new IllegalStateException("compiled trace " + name + " could not be loaded: " + e, e);
        }
    }

    /** The class file: fields h0…hN-1 (the handlers), a constructor taking them, and run(Cpu, long). */
    static byte[] generate(String name, Trace trace, int ipMask) {
        ClassFileWriter w = new ClassFileWriter(name, "java/lang/Object", "dev/ioemu/cpu/Trace$Code");
        int n = trace.instructions.length;
        for (int i = 0; i < n; i++) {
            w.field(ACC_FINAL, "h" + i, HANDLER_DESC);
        }
        ClassFileWriter.Code init = w.new Code(3, 2);
        init.load(ALOAD, THIS).invokeSpecial("java/lang/Object", "<init>", "()V");
        for (int i = 0; i < n; i++) {
            init.load(ALOAD, THIS).load(ALOAD, 1).iconst(i).op(AALOAD).putField(name, "h" + i, HANDLER_DESC);
        }
        init.op(RETURN);
        w.method(ACC_PUBLIC, "<init>", "([" + HANDLER_DESC + ")V", init);
        w.method(ACC_PUBLIC, "run", "(L" + CPU + ";J)V", runMethod(w, name, trace, ipMask));
        return w.toByteArray();
    }

    /** The decode fields of {@code d} in one int, as {@link Cpu#prepare} unpacks them. */
    static int pack(DecodedInstruction d) {
        int rep = d.rep == 0 ? 0 : d.rep == 0xF2 ? 1 : 2;
        return (d.o32 ? 1 : 0) | (d.a32 ? 2 : 0) | (d.segOverride + 1) << 2 | rep << 5 | d.mod << 7 | d.reg << 9
                | d.rm << 12 | d.length << 15 | d.opcode << 19;
    }

    private static ClassFileWriter.Code runMethod(ClassFileWriter w, String name, Trace trace, int ipMask) {
        ClassFileWriter.Code c = w.new Code(8, 4);
        int n = trace.instructions.length;
        ClassFileWriter.Label top = c.label();
        // Exits by how many instructions of the pass ran (1…n).
        ClassFileWriter.Label[] exits = new ClassFileWriter.Label[n + 1];
        ClassFileWriter.Label back = c.label();
        c.place(top);
        for (int i = 0; i < n; i++) {
            DecodedInstruction d = trace.instructions[i];
            int eip = trace.eips[i];
            int nextEip = (eip + d.length) & ipMask;
            // What run's step and execute do before the handler, from constants.
            c.load(ALOAD, CPU_LOCAL).iconst(eip).iconst(nextEip).iconst(pack(d)).iconst(d.modrm).iconst(d.imm)
                    .iconst(d.imm2).invokeStatic(CPU, "prepare", "(L" + CPU + ";IIIIII)V");
            if (d.memoryOperand) {
                c.load(ALOAD, CPU_LOCAL).iconst(d.eaDisp);
                if (d.eaBase >= 0) {
                    c.load(ALOAD, CPU_LOCAL).getField(CPU, "r", "[I").iconst(d.eaBase).op(IALOAD).op(IADD);
                }
                if (d.eaIndex >= 0) {
                    c.load(ALOAD, CPU_LOCAL).getField(CPU, "r", "[I").iconst(d.eaIndex).op(IALOAD)
                            .iconst(d.eaScale).op(ISHL).op(IADD);
                }
                if (!d.a32) {
                    c.iconst(0xFFFF).op(IAND);
                }
                c.putField(CPU, "eaOff", "I");
                c.load(ALOAD, CPU_LOCAL).iconst(d.eaSeg).putField(CPU, "eaSeg", "I");
            }
            c.load(ALOAD, THIS).getField(name, "h" + i, HANDLER_DESC).load(ALOAD, CPU_LOCAL)
                    .invokeInterface(HANDLER, "execute", "(L" + CPU + ";)V", 1);
            // Leave when a store dropped decoded code, an access reached a device, or the
            // instruction went elsewhere than when the path was recorded.
            ClassFileWriter.Label exit = exits[i + 1] = c.label();
            boolean last = i == n - 1;
            int expected = last ? trace.eips[0] : trace.eips[i + 1];
            c.load(ALOAD, CPU_LOCAL).iconst(expected).invokeStatic(CPU, "leavesTrace", "(L" + CPU + ";I)Z")
                    .branch(IFNE, exit);
            if (last) {
                c.branch(GOTO, trace.loops ? back : exit);
            }
        }
        if (trace.loops) {
            // A full pass: count it; go round again while the budget allows another.
            c.place(back);
            addInstructions(c, n);
            ClassFileWriter.Label done = c.label();
            c.load(ALOAD, CPU_LOCAL).getField(CPU, "instructions", "J").lconst(n).op(LADD).load(LLOAD, END).op(LCMP)
                    .branch(IFGT, done);
            c.branch(GOTO, top);
            c.place(done).op(RETURN);
        }
        for (int k = 1; k <= n; k++) {
            c.place(exits[k]);
            addInstructions(c, k);
            c.op(RETURN);
        }
        return c;
    }

    private static void addInstructions(ClassFileWriter.Code c, int k) {
        c.load(ALOAD, CPU_LOCAL).op(DUP).getField(CPU, "instructions", "J").lconst(k).op(LADD)
                .putField(CPU, "instructions", "J");
    }
}
