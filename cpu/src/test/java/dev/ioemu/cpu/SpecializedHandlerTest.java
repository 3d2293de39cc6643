package dev.ioemu.cpu;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/**
 * The handlers {@link Specialized} picks at decode time against the opcode rows' own: every
 * specialised form runs from the same random register file, flags and memory on two 386 CPUs, one
 * with specialisation off, and registers, EIP, EFLAGS and memory must end up identical. The
 * seed is printed; re-run with {@code -Dioemu.specialized.seed=N}.
 */
class SpecializedHandlerTest {
    private static final int CODE = 0x1000;
    private static final int DATA = 0x10000;
    private static final int DATA_SIZE = 0x4000;
    private static final int RAM = 0x40000;
    private static final int STATES_PER_FORM = 100;

    /** Instruction bytes (hex) of every specialised form, in flat 32-bit protected mode. */
    private static List<String> forms() {
        List<String> forms = new ArrayList<>();
        for (int op : new int[] {0, 1, 4, 5, 6, 7}) {       // ADD OR AND SUB XOR CMP
            int base = op << 3;
            for (int kind : new int[] {1, 3}) {             // Ev,Gv and Gv,Ev
                forms.add(hex(base + kind, 0xC0 | 2 << 3 | 1));             // register, EDX/ECX
                forms.add(hex(base + kind, 0xC0 | 3 << 3 | 3));             // the same register twice
                forms.add(hex(base + kind, 0x43 | 2 << 3, 0x10));           // [EBX+10h]
                forms.add(hex(0x66, base + kind, 0xC0 | 2 << 3 | 1));       // 16-bit operands: the row's handler
            }
            forms.add(hex(0x81, 0xC0 | op << 3 | 1, 0x78, 0x56, 0x34, 0x92));   // Ev,Iv register
            forms.add(hex(0x81, 0x43 | op << 3, 0x08, 0x01, 0x00, 0x00, 0x80)); // Ev,Iv [EBX+8]
            forms.add(hex(0x83, 0xC0 | op << 3 | 1, 0xF0));                     // Ev,Ib sign-extended
            forms.add(hex(0x83, 0x43 | op << 3, 0x04, 0x7F));
        }
        forms.add(hex(0x89, 0xC0 | 2 << 3 | 1));
        forms.add(hex(0x89, 0x43 | 2 << 3, 0x0C));
        forms.add(hex(0x8B, 0xC0 | 2 << 3 | 1));
        forms.add(hex(0x8B, 0x43 | 2 << 3, 0x0C));
        for (int cc = 0; cc < 16; cc++) {
            forms.add(hex(0x70 + cc, 0x20));
            forms.add(hex(0x70 + cc, 0xE0));
            forms.add(hex(0x0F, 0x80 + cc, 0x00, 0x01, 0x00, 0x00));
            forms.add(hex(0x66, 0x70 + cc, 0x20));                          // 16-bit IP wrap
        }
        for (int op : new int[] {0xA4, 0xA5, 0xAA, 0xAB, 0xAC, 0xAD}) {
            forms.add(hex(op));
            forms.add(hex(0x66, op));
            forms.add(hex(0x67, op));                                       // 16-bit SI/DI
            forms.add(hex(0x26, op));                                       // ES: source override
            forms.add(hex(0xF3, 0x67, op));                                 // REP (CX counts): the row's handler
        }
        return forms;
    }

    @Test
    void specialisedHandlersMatchTheRowsOwn() {
        long seed = Long.getLong("ioemu.specialized.seed", 20261207L);
        Random r = new Random(seed);
        Rig specialised = new Rig(true);
        Rig general = new Rig(false);
        int compared = 0;
        for (String form : forms()) {
            byte[] code = HexFormat.of().parseHex(form);
            for (int i = 0; i < STATES_PER_FORM; i++) {
                long stateSeed = r.nextLong();
                specialised.load(code, stateSeed);
                general.load(code, stateSeed);
                specialised.cpu.run(1);
                general.cpu.run(1);
                String where = "form " + form + " state " + i + " (seed " + seed + ")";
                assertEquals(general.cpu.toString(), specialised.cpu.toString(), where);
                for (int reg = 0; reg < 8; reg++) {
                    assertEquals(general.cpu.register(reg), specialised.cpu.register(reg), where + " register " + reg);
                }
                assertEquals(general.cpu.eflags(), specialised.cpu.eflags(), where + " EFLAGS");
                assertEquals(general.ram, specialised.ram, where + " memory");
                compared++;
            }
        }
        System.out.printf("SpecializedHandlerTest seed %d: %d forms x %d states compared%n",
                seed, forms().size(), STATES_PER_FORM);
        assertEquals(forms().size() * STATES_PER_FORM, compared);
    }

    @Test
    void theFormsAboveGetSpecialisedHandlers() {
        OpcodeTable t = OpcodeTable.forModel(CpuModel.I386);
        for (int op : new int[] {0x01, 0x03, 0x09, 0x0B, 0x21, 0x23, 0x29, 0x2B, 0x31, 0x33, 0x39, 0x3B, 0x89, 0x8B}) {
            Form f = t.oneByte[op];
            assertNotSame(f.handler(), Specialized.choose(CpuModel.I386, f, op, 0, true, false, 2), "opcode " + op);
            assertNotSame(f.handler(), Specialized.choose(CpuModel.I386, f, op, 0, true, true, 2), "opcode " + op);
        }
        for (int reg : new int[] {0, 1, 4, 5, 6, 7}) {
            Form f = t.groups[0x81 << 3 | reg];
            assertNotSame(f.handler(), Specialized.choose(CpuModel.I386, f, 0x81, 0, true, false, reg), "81 /" + reg);
        }
        for (int op = 0x70; op < 0x80; op++) {
            Form f = t.oneByte[op];
            assertNotSame(f.handler(), Specialized.choose(CpuModel.I386, f, op, 0, false, false, 0), "Jcc " + op);
        }
        for (int op : new int[] {0xA4, 0xA5, 0xAA, 0xAB, 0xAC, 0xAD}) {
            Form f = t.oneByte[op];
            assertNotSame(f.handler(), Specialized.choose(CpuModel.I386, f, op, 0, true, false, 0), "string " + op);
        }
    }

    private static String hex(int... bytes) {
        StringBuilder sb = new StringBuilder();
        for (int b : bytes) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    /** A 386 in flat 32-bit protected mode over its own RAM. */
    private static final class Rig {
        final ByteBuffer ram = ByteBuffer.allocateDirect(RAM);
        final CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
        final Cpu cpu;

        Rig(boolean specialise) {
            memory.mapRam(0, ram);
            cpu = new Cpu(CpuModel.I386, memory);
            cpu.specialize = specialise;
        }

        /** Code at CODE, random data, registers and arithmetic flags from {@code seed}. */
        void load(byte[] code, long seed) {
            Random r = new Random(seed);
            byte[] data = new byte[DATA_SIZE];
            r.nextBytes(data);
            memory.write(DATA, data, 0, data.length);
            memory.write(CODE, code, 0, code.length);
            cpu.reset();
            cpu.setCr0(cpu.cr0() | Cpu.CR0_PE);
            for (int seg = 0; seg < 6; seg++) {
                cpu.setSegmentCache(seg, 8, 0, -1, seg == Cpu.CS ? 0xC9B : 0xC93);
            }
            for (int reg = 0; reg < 8; reg++) {
                cpu.setRegister(reg, r.nextInt());
            }
            // Pointers into the data area (EBX for ModR/M operands, ESI/EDI for strings).
            cpu.setRegister(Cpu.EBX, DATA + 0x100 + r.nextInt(0x1000));
            cpu.setRegister(Cpu.ESI, DATA + 0x100 + r.nextInt(0x1000));
            cpu.setRegister(Cpu.EDI, DATA + 0x100 + r.nextInt(0x1000));
            cpu.setRegister(Cpu.ESP, DATA + DATA_SIZE - 0x100);
            // CF PF AF ZF SF OF and DF at random; IF clear so nothing interrupts.
            cpu.setEflags(r.nextInt() & (Eflags.OSZAPC | Eflags.DF));
            cpu.setEip(CODE);
        }
    }
}
