package dev.ioemu.cpu;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Hostile guest code: random bytes run in real mode and in 16/32-bit protected mode on every
 * model. Whatever the bytes do, the CPU must answer with a {@link StopReason} (guest faults go
 * through the IVT/IDT, a triple fault stops the run) and never throw a Java exception.
 * The seed is printed; re-run with {@code -Dioemu.fuzz.seed=N}.
 */
class RandomCodeFuzzTest {
    private static final int RAM = 2 << 20;

    @Test
    void randomCodeNeverEscapesAsAJavaException() {
        long seed = Long.getLong("ioemu.fuzz.seed", 20261207L);
        System.out.println("RandomCodeFuzzTest seed " + seed + " (re-run with -Dioemu.fuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        for (int round = 0; round < 150; round++) {
            CpuModel model = CpuModel.values()[round % 3];
            CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
            ByteBuffer ram = ByteBuffer.allocateDirect(RAM);
            byte[] noise = new byte[RAM];
            random.nextBytes(noise);
            ram.put(noise).clear();
            memory.mapRam(0, ram);
            Cpu cpu = new Cpu(model, memory);
            for (int i = 0; i < 8; i++) {
                cpu.setRegister(i, random.nextInt());
            }
            cpu.setSegmentRealMode(Cpu.CS, random.nextInt(0x10000));
            cpu.setSegmentRealMode(Cpu.SS, random.nextInt(0x10000));
            cpu.setSegmentRealMode(Cpu.DS, random.nextInt(0x10000));
            cpu.setEip(random.nextInt(0x10000));
            if (model.is386() && random.nextBoolean()) {
                enterProtectedMode(cpu, memory, random);
            }
            StopReason why = null;
            try {
                for (int i = 0; i < 20 && why != StopReason.TRIPLE_FAULT && why != StopReason.SHUTDOWN; i++) {
                    why = cpu.run(500);
                    if (why == StopReason.HALTED) {
                        break;
                    }
                }
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + " round " + round + " " + model + ": " + cpu, e);
            }
            assertNotNull(why);
        }
    }

    /** A flat GDT (random code/data sizes) and a random IDT, then CR0.PE and flat segments. */
    private static void enterProtectedMode(Cpu cpu, CpuMemory memory, Random random) {
        int gdt = 0x1000;
        memory.writeDword(gdt, 0);
        memory.writeDword(gdt + 4, 0);
        long code = random.nextBoolean() ? 0x00cf9a000000ffffL : 0x00009a000000ffffL;
        long data = 0x00cf92000000ffffL;
        for (int i = 0; i < 8; i++) {
            memory.writeByte(gdt + 8 + i, (int) (code >>> (8 * i)));
            memory.writeByte(gdt + 16 + i, (int) (data >>> (8 * i)));
        }
        cpu.gdtBase = gdt;
        cpu.gdtLimit = 23;
        cpu.idtBase = 0x2000;
        cpu.idtLimit = random.nextInt(0x800);
        cpu.setCr0(cpu.cr0() | Cpu.CR0_PE);
        cpu.loadCodeSegment(0x08, random.nextInt(0x10000));
        cpu.loadSegment(Cpu.SS, 0x10);
        cpu.loadSegment(Cpu.DS, 0x10);
        cpu.loadSegment(Cpu.ES, 0x10);
    }
}
