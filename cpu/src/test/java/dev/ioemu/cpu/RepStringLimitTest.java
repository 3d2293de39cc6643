package dev.ioemu.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A guest's string I/O with a count of 2^32 − 1 (issue 14, resource limits) in flat 32-bit
 * protected mode: one step of the software CPU moves at most {@link Transfer#MAX_PASSES_PER_STEP}
 * elements and leaves the instruction restartable with its registers committed, so a run budget,
 * a stop request and interrupts are seen between chunks; the instruction then goes on where it
 * stopped. Before the fix, {@code rep insw} with ECX = FFFFFFFFh held the vCPU thread for 2^32
 * port reads.
 */
class RepStringLimitTest {
    static final int RAM = 1 << 20;
    static final int GDT = 0x800;
    static final int CODE = 0x1000;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"rep insw, 66 F3 6D", "rep outsw, 66 F3 6F", "rep insd, F3 6D", "rep insb, F3 6C", "rep outsd, F3 6F", "rep lodsb, F3 AC", "rep scasb, F3 AE"})
    void aHugeRepCountYieldsEveryChunkAndResumes(String name, String hex) {
        ByteBuffer ram = ByteBuffer.allocateDirect(RAM).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        ram.putLong(GDT + 8, 0x00CF9A000000FFFFL);    // 0x08 code32 flat
        ram.putLong(GDT + 16, 0x00CF92000000FFFFL);   // 0x10 data flat
        String[] bytes = hex.split(" ");
        for (int i = 0; i < bytes.length; i++) {
            ram.put(CODE + i, (byte) Integer.parseInt(bytes[i], 16));
        }
        CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
        memory.mapRam(0, ram);
        Cpu cpu = new Cpu(CpuModel.I386, memory);
        long[] portAccesses = new long[1];
        Cpu[] self = {cpu};
        cpu.setIoPorts(new IoPorts() {
            @Override
            public int in(int port, int size) {
                portAccesses[0]++;
                return 0x5A5A5A5A;
            }

            @Override
            public void out(int port, int size, int value) {
                portAccesses[0]++;
                if (portAccesses[0] == 1000) {
                    self[0].requestStop();   // as the engine does for a QMP stop or SIGTERM
                }
            }
        });
        cpu.gdtBase = GDT;
        cpu.gdtLimit = 3 * 8 - 1;
        cpu.setCr0(cpu.cr0() | Cpu.CR0_PE);
        cpu.loadCodeSegment(0x08, CODE);
        for (int seg : new int[] {Cpu.DS, Cpu.ES, Cpu.SS, Cpu.FS, Cpu.GS}) {
            cpu.loadSegment(seg, 0x10);
        }
        cpu.setRegister(Cpu.ECX, -1);
        cpu.setRegister(Cpu.EDX, 0x1F0);
        cpu.setRegister(Cpu.EDI, 0x2000);
        cpu.setRegister(Cpu.ESI, 0x2000);

        long t0 = System.nanoTime();
        StopReason first = cpu.run(1);
        long took = System.nanoTime() - t0;
        long done = 0xFFFF_FFFFL - Integer.toUnsignedLong(cpu.register(Cpu.ECX));
        assertTrue(done > 0 && done <= Transfer.MAX_PASSES_PER_STEP, name + ": one step moved " + done);
        assertEquals(CODE, cpu.eip(), name + ": EIP stays on the instruction, which restarts");
        assertTrue(first == StopReason.BUDGET_EXHAUSTED || first == StopReason.STOP_REQUESTED, name + ": " + first);
        assertTrue(took < 2_000_000_000L, name + ": one step took " + took / 1_000_000 + " ms");

        // The next steps go on from the committed count.
        cpu.run(3);
        long after = 0xFFFF_FFFFL - Integer.toUnsignedLong(cpu.register(Cpu.ECX));
        assertTrue(after > done && after <= 4 * Transfer.MAX_PASSES_PER_STEP, name + ": resumed to " + after);
        assertEquals(CODE, cpu.eip());
        assertEquals(after, cpu.instructionCount() + cpu.repeatedIterations(),
                name + ": every iteration counts once, as QEMU's TCG retires them");
    }
}
