package dev.ioemu.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the software CPU (issue 14, "Fuzzing"): one random instruction (16 random
 * bytes) with a random register file, run in real mode or 16/32-bit protected mode on every model,
 * placed at the boundaries that matter (segment limits, 64 KiB wrap, the end of low RAM before the
 * VGA hole, the end of RAM), with data segments at the IVT, the BDA, the ROM and the end of RAM,
 * small, expand-down and read-only protected-mode segments and short IDT limits.
 *
 * <p>Invariants: no Java exception; every run returns within its instruction budget; on the 386,
 * whenever the first instruction makes the CPU deliver an exception or interrupt, the next
 * instructions are the handler the IVT/IDT names for that vector — a stub in ROM that reports its
 * vector on port 0xE1 — so the guest really gets #UD/#GP/#SS/#DE…, and an opcode the CPU reports as
 * unimplemented is delivered as #UD. The IVT, GDT, IDT and stubs live in ROM so the random code
 * cannot rewrite them. Then the random bytes after it run on for a few more instructions.
 * Replay or run long with {@code -Dioemu.fuzz.seed=N -Dioemu.fuzz.ops=N} (ops = random instructions).
 */
@Timeout(240)
class CpuFuzzTest {
    private static final int LOW_RAM_END = 0xA0000;
    private static final int ROM_BASE = 0xF0000;
    private static final int ROM_SIZE = 0x10000;
    private static final int HIGH_RAM_BASE = 0x100000;
    private static final int RAM_END = 0x110000;
    /** Handler stub of vector v at ROM_BASE + STUBS + 8v: mov al,v; out 0xE1,al; hlt. */
    private static final int STUBS = 0x100;
    private static final int VECTOR_PORT = 0xE1;
    private static final int IVT = ROM_BASE + 0x8000;
    private static final int GDT = ROM_BASE + 0x9000;
    private static final int IDT = ROM_BASE + 0xA000;
    private static final int CONTINUE_INSTRUCTIONS = 24;

    /** GDT rows: selector = 8 * index. */
    private static final long[] DESCRIPTORS = {
            0,
            0x00CF9A000000FFFFL,    // 0x08 code32 flat
            0x00CF92000000FFFFL,    // 0x10 data flat
            0x0040920200000FFFL,    // 0x18 data, base 0x20000, limit 0xFFF
            0x0040960000000FFFL,    // 0x20 data expand-down, limit 0xFFF
            0x00009A000000FFFFL,    // 0x28 code16, limit 0xFFFF
            0x00499A000000FFFFL,    // 0x30 code32, limit 0x9FFFF (ends with low RAM)
            0x00CF90000000FFFFL,    // 0x38 data read-only flat
    };
    private static final int[] DATA_SELECTORS = {0x10, 0x10, 0x18, 0x20, 0x38, 0x00};
    private static final int[] BOUNDARY_VALUES = {0, 1, 0xFFFF, 0x10000, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000,
            0xFFFE, 0xFFF, 0x1000, RAM_END - 1, LOW_RAM_END - 2, -2};
    private static final int[] REAL_MODE_SEGMENTS = {0x0000, 0x0040, 0xF000, 0xFFFF, 0x9FFF, 0xA000, 0x10F0};

    /** CI's seed (determinism: the same run every time); other seeds through -Dioemu.fuzz.seed. */
    private static final long DEFAULT_SEED = 20261207L;

    /**
     * Seed 26817468317693 (a CI run with a time-based seed), round 27852: {@code 0F 22 C1}, MOV CR0,ECX
     * with PG and PE set, refused with #GP(0) as documented (no paging), which the fuzzer took for
     * an unknown opcode delivered as #GP instead of #UD.
     */
    @Test
    void movCr0WithPagingIsARefusedFeatureNotAnUnknownOpcode() {
        new Rig(26817468317693L).go(27853);
    }

    @Test
    void randomInstructionsNeverEscapeAndFaultsReachTheGuest() {
        long seed = Long.getLong("ioemu.fuzz.seed", DEFAULT_SEED);
        // 30,000 random first instructions run on into ~400,000 executed instructions of random bytes.
        int ops = Integer.getInteger("ioemu.fuzz.ops", 30_000);
        long t0 = System.nanoTime();
        Rig rig = new Rig(seed);
        try {
            rig.go(ops);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("CpuFuzzTest failed: replay with -Dioemu.fuzz.seed=" + seed
                    + " -Dioemu.fuzz.ops=" + ops + ": " + e.getMessage(), e);
        }
        System.out.printf("CpuFuzzTest seed %d: %d random instructions, %d executed in all, %d exceptions/interrupts"
                        + " delivered and checked, %d triple faults, in %.1f s (replay with -Dioemu.fuzz.seed=%d)%n",
                seed, ops, rig.executed, rig.checkedDeliveries, rig.tripleFaults, (System.nanoTime() - t0) / 1e9, seed);
        assertTrue(rig.executed >= 100_000 || ops < 30_000, "fewer than 100,000 instructions executed: " + rig.executed);
        assertTrue(rig.checkedDeliveries > ops / 40, "the fuzzer saw too few exceptions to test delivery");
    }

    @Test
    void fixedSeedsNeverEscape() {
        for (long seed : new long[]{1, 0xDEADBEEFL, 20261207}) {
            new Rig(seed).go(5_000);
        }
    }

    private static final class Rig implements IoPorts, InterruptController, CpuListener {
        final long seed;
        final Random r;
        final ByteBuffer lowRam = ByteBuffer.allocateDirect(LOW_RAM_END);
        final ByteBuffer highRam = ByteBuffer.allocateDirect(RAM_END - HIGH_RAM_BASE);
        final ByteBuffer rom = ByteBuffer.allocateDirect(ROM_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        final List<Integer> delivered = new ArrayList<>();
        Integer unimplementedAt;
        int reportedVector = -1;
        Cpu cpu;
        long executed;
        int checkedDeliveries;
        int tripleFaults;
        int round;
        final CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
        /** One CPU per model on the shared memory, reset before every round (a CpuMemory is costly to build). */
        final Cpu[] cpus = new Cpu[CpuModel.values().length];

        Rig(long seed) {
            this.seed = seed;
            this.r = new Random(seed);
            byte[] noise = new byte[LOW_RAM_END];
            r.nextBytes(noise);
            lowRam.put(0, noise);
            r.nextBytes(noise);
            highRam.put(0, noise, 0, RAM_END - HIGH_RAM_BASE);
            for (int v = 0; v < 256; v++) {
                int stub = STUBS + 8 * v;
                rom.put(stub, (byte) 0xB0).put(stub + 1, (byte) v)
                        .put(stub + 2, (byte) 0xE6).put(stub + 3, (byte) VECTOR_PORT).put(stub + 4, (byte) 0xF4);
                rom.putInt(IVT - ROM_BASE + 4 * v, 0xF000 << 16 | stub);
                int offset = ROM_BASE + stub;
                long gate = (offset & 0xFFFF) | 0x08L << 16 | ((long) (0x8E00 | (offset & 0xFFFF0000))) << 32;
                rom.putLong(IDT - ROM_BASE + 8 * v, gate);
            }
            for (int i = 0; i < DESCRIPTORS.length; i++) {
                rom.putLong(GDT - ROM_BASE + 8 * i, DESCRIPTORS[i]);
            }
            memory.mapRam(0, lowRam);
            memory.mapRom(ROM_BASE, rom);
            memory.mapRam(HIGH_RAM_BASE, highRam);
            for (CpuModel model : CpuModel.values()) {
                Cpu c = new Cpu(model, memory);
                c.setIoPorts(this);
                c.setInterruptController(this);
                c.setListener(this);
                cpus[model.ordinal()] = c;
            }
        }

        String where() {
            return "seed " + seed + " round " + round;
        }

        int boundaryOrRandom() {
            return r.nextInt(3) == 0 ? BOUNDARY_VALUES[r.nextInt(BOUNDARY_VALUES.length)] : r.nextInt();
        }

        /** A linear address for the instruction: anywhere in RAM, or where it runs off low RAM or off RAM. */
        int codeAddress() {
            return switch (r.nextInt(6)) {
                case 0 -> LOW_RAM_END - 1 - r.nextInt(16);
                case 1 -> RAM_END - 1 - r.nextInt(16);
                case 2 -> 0x10000 - 1 - r.nextInt(16);
                default -> 0x500 + r.nextInt(LOW_RAM_END - 0x600);
            };
        }

        void go(int ops) {
            for (round = 0; round < ops; round++) {
                CpuModel model = round % 8 == 0 ? CpuModel.I8086 : round % 8 == 1 ? CpuModel.I80286 : CpuModel.I386;
                try {
                    oneRound(model);
                } catch (RuntimeException e) {
                    throw new AssertionError(where() + " " + model + ": a Java exception escaped the CPU: " + e + "\n" + cpu, e);
                }
            }
        }

        void oneRound(CpuModel model) {
            cpu = cpus[model.ordinal()];
            cpu.reset();
            delivered.clear();
            unimplementedAt = null;
            reportedVector = -1;
            int linear = codeAddress();
            byte[] code = new byte[16];
            r.nextBytes(code);
            memory.write(linear, code, 0, (int) Math.min(code.length, (linear < LOW_RAM_END ? LOW_RAM_END : RAM_END) - linear));
            for (int i = 0; i < 8; i++) {
                cpu.setRegister(i, boundaryOrRandom());
            }
            cpu.setEflags((r.nextInt() & 0x0CD5) | 0x0002);
            boolean precise = model == CpuModel.I386;
            if (precise && r.nextInt(3) == 0) {
                enterProtectedMode(linear);
            } else {
                if (precise) {
                    cpu.idtBase = IVT;
                    cpu.idtLimit = r.nextInt(8) == 0 ? r.nextInt(0x400) : 0x3FF;
                }
                int cs = linear >>> 4;
                int ip = linear & 0xF;
                if (cs >= 0xFFF && r.nextBoolean()) {
                    cs -= 0xFFF;
                    ip += 0xFFF0;    // the instruction ends at or runs over the 64 KiB segment limit
                }
                cpu.setSegmentRealMode(Cpu.CS, cs);
                cpu.setEip(ip);
                for (int seg : new int[]{Cpu.DS, Cpu.ES, Cpu.SS, Cpu.FS, Cpu.GS}) {
                    cpu.setSegmentRealMode(seg, r.nextBoolean() ? REAL_MODE_SEGMENTS[r.nextInt(REAL_MODE_SEGMENTS.length)]
                            : r.nextInt(0x10000));
                }
            }
            long startCount = cpu.instructionCount();
            StopReason first = cpu.run(1);
            if (unimplementedAt != null && !delivered.isEmpty() && precise) {
                if (delivered.get(0) != Cpu.UD) {
                    fail(where() + ": an unimplemented opcode was delivered as vector " + delivered.get(0)
                            + " (expected #UD); code " + java.util.HexFormat.of().formatHex(code) + "\n" + cpu);
                }
            }
            if (precise && !delivered.isEmpty() && first != StopReason.TRIPLE_FAULT) {
                int vector = delivered.get(delivered.size() - 1);
                StopReason handler = cpu.run(4);
                if (handler != StopReason.TRIPLE_FAULT && !laterFault(vector)) {
                    if (reportedVector != vector) {
                        fail(String.format("%s: vector %d was delivered (%s) but its handler did not run (reported %d, stop %s)%n%s",
                                where(), vector, delivered, reportedVector, handler, cpu));
                    }
                    checkedDeliveries++;
                }
            }
            StopReason why = first;
            for (int slice = 0; slice < 4 && why != StopReason.TRIPLE_FAULT && why != StopReason.SHUTDOWN
                    && why != StopReason.HALTED && why != StopReason.STOP_REQUESTED; slice++) {
                why = cpu.run(CONTINUE_INSTRUCTIONS / 4);
            }
            if (why == StopReason.TRIPLE_FAULT) {
                tripleFaults++;
            }
            long ran = cpu.instructionCount() - startCount;
            executed += ran;
            assertTrue(ran <= 1 + 4 + CONTINUE_INSTRUCTIONS,
                    where() + ": ran " + ran + " instructions on a budget of " + (5 + CONTINUE_INSTRUCTIONS));
        }

        /** The handler itself faulted (its stack was bad): a later delivery replaced the one being checked. */
        boolean laterFault(int vector) {
            return delivered.size() > 1 && delivered.get(delivered.size() - 1) != vector;
        }

        /** CR0.PE with the ROM GDT/IDT, a random code segment of the table and random data segments. */
        void enterProtectedMode(int linear) {
            cpu.gdtBase = GDT;
            cpu.gdtLimit = DESCRIPTORS.length * 8 - 1;
            cpu.idtBase = IDT;
            cpu.idtLimit = r.nextInt(8) == 0 ? r.nextInt(0x800) : 0x7FF;
            cpu.setCr0(cpu.cr0() | Cpu.CR0_PE);
            switch (r.nextInt(3)) {
                case 0 -> cpu.loadCodeSegment(0x08, linear);
                case 1 -> cpu.loadCodeSegment(linear < LOW_RAM_END ? 0x30 : 0x08, linear);
                default -> cpu.loadCodeSegment(0x28, linear & 0xFFFF);
            }
            if (cpu.segmentSelector(Cpu.CS) == 0x28 && linear >= 0x10000) {
                // A 16-bit segment at base 0: put the bytes where CS:EIP points.
                byte[] code = new byte[16];
                r.nextBytes(code);
                cpu.memory().write(linear & 0xFFFF, code, 0, code.length);
            }
            for (int seg : new int[]{Cpu.DS, Cpu.ES, Cpu.FS, Cpu.GS}) {
                cpu.loadSegment(seg, DATA_SELECTORS[r.nextInt(DATA_SELECTORS.length)]);
            }
            int[] stacks = {0x10, 0x10, 0x18, 0x20};
            cpu.loadSegment(Cpu.SS, stacks[r.nextInt(stacks.length)]);
        }

        // ---- the machine around the CPU ----

        @Override
        public int in(int port, int size) {
            return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
        }

        @Override
        public void out(int port, int size, int value) {
            if (port == VECTOR_PORT && reportedVector < 0) {
                reportedVector = value & 0xFF;
                cpu.requestStop();
            }
        }

        @Override
        public boolean hasNmi() {
            return false;
        }

        @Override
        public void acknowledgeNmi() {
        }

        @Override
        public boolean hasPending() {
            return false;
        }

        @Override
        public int acknowledge() {
            throw new IllegalStateException("no interrupt pending");
        }

        @Override
        public void unimplementedOpcode(int cs, int eip, byte[] bytes, int length) {
            // No bytes: a feature refused, not an opcode — MOV CR0 with PG set gets #GP(0), as the
            // CPU documents (no paging); only an unknown opcode must become #UD.
            if (length > 0 && unimplementedAt == null && delivered.isEmpty()) {
                unimplementedAt = eip;
            }
        }

        @Override
        public void interrupt(int vector, boolean software, int errorCode, int cs, int eip) {
            delivered.add(vector);
        }
    }
}
