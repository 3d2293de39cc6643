package dev.ioemu.cpu;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compiled traces against the interpreter (issue 10): random loops of the forms traces hold
 * (ALU, MOV, shifts, MUL/DIV, MOVZX/SX, SETcc, PUSH/POP, string instructions with and without
 * REP, forward Jcc that change the path) run in real mode and in flat 32-bit protected mode on
 * two CPUs, translation on and off, from the same memory and registers. Some bodies divide by
 * zero or address past a segment limit (a fault in the middle of a trace), some store into
 * their own code (self-modifying code drops the trace), some read unassigned memory (a device
 * access ends the trace). The run is cut into random budgets; after each, every register,
 * EFLAGS, EIP, the segments, the instruction and REP counts and all of RAM must be the same.
 * The seed is printed; re-run with {@code -Dioemu.translate.seed=N}.
 */
class TranslatorDifferentialTest {
    private static final int RAM = 1 << 20;
    private static final int CODE = 0x7000;
    private static final int DATA = 0x3000;
    private static final int HALT_STUB = 0x500;
    /** Each CPU's RAM, compared whole after every slice. */
    private static final java.util.Map<Cpu, ByteBuffer> RAMS = new java.util.WeakHashMap<>();

    @Test
    void tracesLeaveTheSameStateAsTheInterpreter() {
        long seed = Long.getLong("ioemu.translate.seed", 20261207L);
        System.out.println("TranslatorDifferentialTest seed " + seed + " (re-run with -Dioemu.translate.seed=" + seed + ")");
        Random random = new Random(seed);
        long traces = 0;
        long compared = 0;
        int programsWithTraces = 0;
        int programs = 240;
        for (int round = 0; round < programs; round++) {
            long programSeed = random.nextLong();
            boolean pm = round % 2 == 1;
            Program p = Program.generate(new Random(programSeed), pm);
            Cpu on = p.load(true);
            Cpu off = p.load(false);
            Random budgets = new Random(programSeed);
            String where = "seed " + seed + " round " + round + " (" + (pm ? "PM32" : "real mode") + ") code "
                    + HexFormat.of().formatHex(p.code);
            for (int slice = 0; slice < 400; slice++) {
                int budget = 1 + budgets.nextInt(budgets.nextBoolean() ? 40 : 3000);
                StopReason a = on.run(budget);
                StopReason b = off.run(budget);
                assertEquals(b, a, where + ": stop reason after slice " + slice);
                assertSameState(off, on, where + " slice " + slice);
                compared++;
                if (a != StopReason.BUDGET_EXHAUSTED) {
                    break;
                }
            }
            traces += on.tracesCompiled();
            if (on.tracesCompiled() > 0) {
                programsWithTraces++;
            }
            assertEquals(0, off.tracesCompiled(), "translation off compiles nothing");
        }
        System.out.printf("TranslatorDifferentialTest: %d programs, %d with traces, %d traces, %d states compared%n",
                programs, programsWithTraces, traces, compared);
        assertTrue(programsWithTraces > programs / 2, "most programs ran compiled traces: " + programsWithTraces);
    }

    @Test
    void aStoreIntoATracesCodeDropsIt() {
        // A 32-bit loop that rewrites the immediate of its own ADD each pass: the result must be
        // the interpreter's (sum of 1..N style), not that of the code as first compiled.
        Asm a = new Asm(true);
        a.bytes(0xBD).d(1000);                          // mov ebp, 1000
        a.bytes(0x31, 0xC0);                            // xor eax, eax
        int top = a.here();
        int immediate = a.here() + 1;
        a.bytes(0x05).d(1);                             // add eax, imm32 (rewritten)
        a.bytes(0xFF, 0x05).d(CODE + immediate);        // inc dword [imm32]
        a.bytes(0x4D);                                  // dec ebp
        a.bytes(0x0F, 0x85).d(top - (a.here() + 4));    // jnz top
        a.bytes(0xF4);                                  // hlt
        Program p = new Program(a.toBytes(), true, new int[8]);
        Cpu on = p.load(true);
        Cpu off = p.load(false);
        assertEquals(StopReason.SHUTDOWN, off.run(1_000_000));
        assertEquals(StopReason.SHUTDOWN, on.run(1_000_000));
        assertSameState(off, on, "self-modifying loop");
        assertEquals(1000 * 1001 / 2, on.register(Cpu.EAX));
    }

    @Test
    void aHotLoopRunsAsATrace() {
        Asm a = new Asm(true);
        a.bytes(0xBD).d(100_000);                        // mov ebp, 100000
        int top = a.here();
        a.bytes(0x01, 0xC8);                            // add eax, ecx
        a.bytes(0x41);                                  // inc ecx
        a.bytes(0x4D);                                  // dec ebp
        a.bytes(0x75, (top - (a.here() + 2)) & 0xFF);   // jnz top
        a.bytes(0xF4);
        Program p = new Program(a.toBytes(), true, new int[8]);
        Cpu on = p.load(true);
        Cpu off = p.load(false);
        assertEquals(StopReason.SHUTDOWN, on.run(10_000_000));
        assertEquals(StopReason.SHUTDOWN, off.run(10_000_000));
        assertSameState(off, on, "hot loop");
        assertEquals(1, on.tracesCompiled());
        assertEquals(1 + 4 * 100_000 + 1, on.instructionCount());
    }

    static void assertSameState(Cpu expected, Cpu actual, String where) {
        for (int i = 0; i < 8; i++) {
            assertEquals(expected.register(i), actual.register(i), where + ": register " + i);
        }
        assertEquals(expected.eip(), actual.eip(), where + ": EIP");
        assertEquals(expected.eflags(), actual.eflags(), where + ": EFLAGS");
        for (int s = 0; s < 6; s++) {
            assertEquals(expected.segmentSelector(s), actual.segmentSelector(s), where + ": selector " + s);
            assertEquals(expected.segmentBase(s), actual.segmentBase(s), where + ": base " + s);
        }
        assertEquals(expected.instructionCount(), actual.instructionCount(), where + ": instructions");
        assertEquals(expected.repeatedIterations(), actual.repeatedIterations(), where + ": REP iterations");
        assertEquals(expected.isHalted(), actual.isHalted(), where + ": halted");
        ByteBuffer x = RAMS.get(expected);
        ByteBuffer y = RAMS.get(actual);
        int i = x.mismatch(y);
        if (i >= 0) {
            fail(where + ": RAM differs at " + Integer.toHexString(i) + ": " + x.get(i) + " vs " + y.get(i));
        }
    }

    /** A loop program and its start state. */
    record Program(byte[] code, boolean pm, int[] registers) {
        static Program generate(Random r, boolean pm) {
            Asm a = new Asm(pm);
            a.bytes(0xBD);                              // mov ebp/bp, iterations
            if (pm) {
                a.d(300 + r.nextInt(3000));
            } else {
                a.w(300 + r.nextInt(3000));
            }
            int top = a.here();
            int length = 2 + r.nextInt(14);
            for (int i = 0; i < length; i++) {
                randomInstruction(a, r, pm, top);
            }
            a.bytes(0x4D);                              // dec ebp
            if (pm) {
                a.bytes(0x0F, 0x85).d(top - (a.here() + 4));
            } else {
                a.bytes(0x0F, 0x85).w(top - (a.here() + 2));
            }
            a.bytes(0xF4);                              // hlt (IF=0: the run stops)
            int[] regs = new int[8];
            for (int i = 0; i < 8; i++) {
                regs[i] = r.nextInt();
            }
            regs[Cpu.ESP] = pm ? 0x9000 : 0x8000;
            regs[Cpu.EBX] = DATA;
            regs[Cpu.ESI] = DATA + r.nextInt(0x400);
            regs[Cpu.EDI] = DATA + 0x800 + r.nextInt(0x400);
            if (r.nextInt(8) == 0) {
                // Strings that run into unassigned memory (PM) or wrap (real mode).
                regs[Cpu.ESI] = pm ? RAM - 8 - r.nextInt(64) : 0xFFF0;
            }
            return new Program(a.toBytes(), pm, regs);
        }

        Cpu load(boolean translate) {
            CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
            ByteBuffer ram = ByteBuffer.allocateDirect(RAM);
            memory.mapRam(0, ram);
            Random fill = new Random(java.util.Arrays.hashCode(code));
            byte[] data = new byte[0x1000];
            fill.nextBytes(data);
            memory.write(DATA, data, 0, data.length);
            // Every real-mode vector leads to HLT with IF=0, which ends the run.
            for (int v = 0; v < 256; v++) {
                memory.writeDword(v * 4, HALT_STUB);
            }
            memory.writeByte(HALT_STUB, 0xF4);
            memory.write(CODE, code, 0, code.length);
            Cpu cpu = new Cpu(CpuModel.I386, memory);
            RAMS.put(cpu, ram);
            cpu.setTranslation(translate);
            cpu.hotThreshold = 50;
            for (int i = 0; i < 8; i++) {
                cpu.setRegister(i, registers[i]);
            }
            cpu.setEflags(0x2);
            if (pm) {
                int gdt = 0x1000;
                long codeDescriptor = 0x00cf9a000000ffffL;
                long dataDescriptor = 0x00cf92000000ffffL;
                for (int i = 0; i < 8; i++) {
                    memory.writeByte(gdt + 8 + i, (int) (codeDescriptor >>> (8 * i)));
                    memory.writeByte(gdt + 16 + i, (int) (dataDescriptor >>> (8 * i)));
                }
                cpu.gdtBase = gdt;
                cpu.gdtLimit = 23;
                // No IDT: a fault ends in a triple fault, which stops the run with the state kept.
                cpu.idtBase = 0x2000;
                cpu.idtLimit = 0;
                cpu.setCr0(cpu.cr0() | Cpu.CR0_PE);
                cpu.loadCodeSegment(0x08, CODE);
                cpu.loadSegment(Cpu.SS, 0x10);
                cpu.loadSegment(Cpu.DS, 0x10);
                cpu.loadSegment(Cpu.ES, 0x10);
            } else {
                cpu.setSegmentRealMode(Cpu.CS, CODE >>> 4);
                cpu.setSegmentRealMode(Cpu.SS, 0);
                cpu.setSegmentRealMode(Cpu.DS, 0);
                cpu.setSegmentRealMode(Cpu.ES, 0);
                cpu.setEip(0);
            }
            return cpu;
        }
    }

    private static final int[] DESTINATIONS = {Cpu.EAX, Cpu.ECX, Cpu.EDX, Cpu.ESI, Cpu.EDI};

    /** One instruction of a trace's kind; destinations avoid EBP (the counter), EBX (the base) and ESP. */
    private static void randomInstruction(Asm a, Random r, boolean pm, int top) {
        int dst = DESTINATIONS[r.nextInt(DESTINATIONS.length)];
        int src = r.nextInt(8);
        int alu = r.nextInt(8);
        int mem = pm ? 0x43 : 0x47;     // mod=01 [ebx+disp8] / [bx+disp8]
        int disp = r.nextInt(0x80);
        int kind = r.nextInt(24);
        if (r.nextInt(4) == 0 && kind != 18) {
            a.bytes(0x66);                              // the other operand size (not before an Iv)
        }
        switch (kind) {
            case 0 -> a.bytes(0x01 | alu << 3, 0xC0 | src << 3 | dst);                 // ALU Ev,Gv reg
            case 1 -> a.bytes(0x03 | alu << 3, 0xC0 | dst << 3 | src);                 // ALU Gv,Ev reg
            case 2 -> a.bytes(0x01 | alu << 3, mem | src << 3, disp);                  // ALU Ev,Gv mem
            case 3 -> a.bytes(0x03 | alu << 3, mem | dst << 3, disp);                  // ALU Gv,Ev mem
            case 4 -> a.bytes(0x83, 0xC0 | alu << 3 | dst, r.nextInt(256));            // ALU Ev,Ib
            case 5 -> a.bytes(0x89, mem | src << 3, disp);                             // MOV Ev,Gv mem
            case 6 -> a.bytes(0x8B, mem | dst << 3, disp);                             // MOV Gv,Ev mem
            case 7 -> a.bytes(0x8D, mem | dst << 3, disp);                             // LEA
            case 8 -> a.bytes(0xC1, 0xC0 | r.nextInt(8) << 3 | dst, r.nextInt(40));    // shift/rotate imm
            case 9 -> a.bytes(0xD3, 0xC0 | r.nextInt(8) << 3 | dst);                   // shift/rotate CL
            case 10 -> a.bytes(0xF7, 0xC0 | (2 + r.nextInt(3)) << 3 | dst);            // NOT, NEG, MUL
            case 11 -> a.bytes(0xF7, 0xC0 | (6 + r.nextInt(2)) << 3 | src);            // DIV, IDIV: #DE
            case 12 -> a.bytes(0x0F, 0xAF, 0xC0 | dst << 3 | src);                      // IMUL Gv,Ev
            case 13 -> a.bytes(0x0F, 0xB6 + r.nextInt(2) * 8, 0xC0 | dst << 3 | src);  // MOVZX/MOVSX Gv,Eb
            case 14 -> a.bytes(0x0F, 0x90 | r.nextInt(16), 0xC0 | dst);                // SETcc (low byte regs)
            case 15 -> a.bytes(0x40 + dst);                                            // INC
            case 16 -> a.bytes(0x50 + src, 0x58 + dst);                                // PUSH, POP
            case 17 -> a.bytes(new int[] {0xA4, 0xA5, 0xAA, 0xAB, 0xAC, 0xAD, 0xA6, 0xAE}[r.nextInt(8)]);
            case 18 -> {                                                               // REP string, short count
                a.bytes(0xB9);
                if (pm) {
                    a.d(r.nextInt(20));
                } else {
                    a.w(r.nextInt(20));
                }
                a.bytes(r.nextBoolean() ? 0xF3 : 0xF2, new int[] {0xA4, 0xA5, 0xAA, 0xAB, 0xA6, 0xAE}[r.nextInt(6)]);
            }
            case 19 -> a.bytes(0x70 | r.nextInt(16), 1, 0x90);                         // Jcc over a NOP
            case 20 -> a.bytes(0x85, 0xC0 | src << 3 | dst);                           // TEST
            case 21 -> a.bytes(0x87, 0xC0 | src << 3 | dst);                           // XCHG
            case 22 -> {
                if (r.nextInt(3) == 0) {
                    // A store into the loop's own code.
                    a.bytes(0x80, (pm ? 0x05 : 0x06) | r.nextInt(8) << 3);             // ALU byte [abs], imm8
                    int target = CODE + top + r.nextInt(Math.max(1, a.here() - top));
                    if (pm) {
                        a.d(target);
                    } else {
                        a.w(target);
                    }
                    a.bytes(r.nextInt(256));
                } else if (pm) {
                    a.bytes(0x8B, 0x83 | dst << 3).d(0x10000 + r.nextInt(0x100));       // MOV Gv,[ebx+disp32]
                } else {
                    a.bytes(0x67, 0x8B, 0x83 | dst << 3).d(0x10000 + r.nextInt(0x100)); // past 64 KiB: #GP
                }
            }
            default -> a.bytes(0xF8 + r.nextInt(2));                                   // CLC, STC
        }
    }

    /** A little code buffer. */
    static final class Asm {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final boolean big;

        Asm(boolean big) {
            this.big = big;
        }

        Asm bytes(int... b) {
            for (int x : b) {
                out.write(x);
            }
            return this;
        }

        Asm w(int v) {
            return bytes(v & 0xFF, (v >>> 8) & 0xFF);
        }

        Asm d(int v) {
            return bytes(v & 0xFF, (v >>> 8) & 0xFF, (v >>> 16) & 0xFF, v >>> 24);
        }

        int here() {
            return out.size();
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }
}
