package dev.ioemu.cpu.bench;

import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuMemory;
import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.IoPorts;
import dev.ioemu.cpu.MemoryBus;
import dev.ioemu.cpu.StopReason;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * The fixed CPU-bound boot-sector benchmark of shared/spec/cpu.md §1 ("bench.img"), run on the
 * software CPU without firmware: a real-mode loop of 10 M × 7 instructions (16-bit load, add,
 * store, and, inc, 32-bit dec, jnz), then a switch to flat 32-bit protected mode and a loop of
 * 40 M × 8 instructions (byte load, table XOR, store, add, inc, and, dec, jnz), ending with
 * OUT 0xF4 (isa-debug-exit). Prints instructions per second per phase; a benchmark, not a test.
 * {@code --boot-sector FILE} writes the same program as a 512-byte MBR for a peer to boot.
 */
public final class CpuLoopBenchmark {
    /** nasm output of the program described above, loaded at 0000:7C00. */
    private static final String PROGRAM = "fa31c08ed88ed0bc007066b980969800be001031db8b0401d8890481e3ff0043664975f1"
            + "0f0116877c0f20c00c010f22c0ea367c080066b810008ed88ec08ed0bc00000900b9005a6202be0000020031d231c0"
            + "0fb6041632800000030088041601c34281e2ff0f00004975e7e6f4f40000000000000000ffff0000009acf00ffff"
            + "00000092cf0017006f7c0000";
    /** The program ends with OUT 0xF4, AL: QEMU's isa-debug-exit port, so QEMU can run the same sector. */
    private static final int ISA_DEBUG_EXIT = 0xF4;
    private static final int CHUNK = 1_000_000;

    private CpuLoopBenchmark() {
    }

    public static void main(String[] args) throws java.io.IOException {
        if (args.length == 2 && args[0].equals("--boot-sector")) {
            byte[] sector = new byte[512];
            byte[] code = HexFormat.of().parseHex(PROGRAM);
            System.arraycopy(code, 0, sector, 0, code.length);
            sector[510] = 0x55;
            sector[511] = (byte) 0xAA;
            java.nio.file.Files.write(java.nio.file.Path.of(args[1]), sector);
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        for (int round = 1; round <= rounds; round++) {
            runOnce(round);
        }
    }

    private static void runOnce(int round) {
        CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
        memory.mapRam(0, ByteBuffer.allocateDirect(4 << 20));
        byte[] code = HexFormat.of().parseHex(PROGRAM);
        memory.write(0x7C00, code, 0, code.length);
        Cpu cpu = new Cpu(CpuModel.I386, memory);
        boolean[] done = {false};
        cpu.setIoPorts(new IoPorts() {
            @Override
            public int in(int port, int size) {
                return -1;
            }

            @Override
            public void out(int port, int size, int value) {
                if (port == ISA_DEBUG_EXIT) {
                    done[0] = true;
                    cpu.requestStop();
                }
            }
        });
        cpu.setSegmentRealMode(Cpu.CS, 0);
        cpu.setEip(0x7C00);
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        long switchTime = 0;
        long switchCount = 0;
        while (!done[0]) {
            StopReason why = cpu.run(CHUNK);
            if (switchTime == 0 && cpu.isProtectedMode()) {
                switchTime = System.nanoTime();
                switchCount = cpu.instructionCount();
            }
            if (why != StopReason.BUDGET_EXHAUSTED && why != StopReason.STOP_REQUESTED) {
                System.out.println("cpu-loop: stopped early: " + why + " " + cpu);
                return;
            }
        }
        long end = System.nanoTime();
        double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        long total = cpu.instructionCount();
        double seconds = (end - start) / 1e9;
        double realRate = switchCount / ((switchTime - start) / 1e9) / 1e6;
        double pmRate = (total - switchCount) / ((end - switchTime) / 1e9) / 1e6;
        // Per CPU-second as well: on a shared host the wall clock includes time other processes ran.
        System.out.printf("cpu-loop round %d: %,d instructions in %.2f s wall = %.1f M instructions/s "
                        + "(real-mode loop %.1f M/s, flat 32-bit loop %.1f M/s); %.2f s CPU = %.1f M instructions per CPU-second; "
                        + "translation %s (%d traces)%n",
                round, total, seconds, total / seconds / 1e6, realRate, pmRate, cpuSeconds, total / cpuSeconds / 1e6,
                cpu.translation() ? "on" : "off", cpu.tracesCompiled());
    }
}
