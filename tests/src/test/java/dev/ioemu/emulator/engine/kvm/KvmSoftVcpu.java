package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuMemory;
import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.InterruptController;
import dev.ioemu.cpu.IoPorts;
import dev.ioemu.cpu.MemoryBus;
import dev.ioemu.cpu.StopReason;
import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.RamBlock;
import dev.ioemu.devices.host.Errno;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.Semaphore;

import static dev.ioemu.emulator.engine.kvm.KvmRunLayout.*;

/**
 * A stand-in for /dev/kvm on hosts without it: the software CPU keeps the kvm_run contract the
 * engine relies on (shared/spec/kvm.md §3.2, §5.5, §8.2), so {@link KvmEngine} runs real guests
 * here. The CPU runs on its own thread; each port access hands the engine a KVM_EXIT_IO in the
 * run area (data at offset 4096, RIP already past an OUT, as kvm_pvm does) and waits for the
 * next {@link #run}; HLT is KVM_EXIT_HLT, a triple fault KVM_EXIT_SHUTDOWN; registers are copied
 * into the sync-regs area at every exit and back when the engine marks them dirty; KVM_INTERRUPT
 * queues one vector the CPU takes at its next boundary; a requested interrupt window exits as
 * soon as IF is set. Memory is the address space itself (RAM and ROM directly, the rest through
 * it: ROM writes are dropped there rather than becoming MMIO exits).
 */
final class KvmSoftVcpu implements Vcpu {
    private static final int DATA = 4096;
    private static final long SLICE = 20_000;
    private static final int[] GPR_OFFSET = {RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI};
    private static final int[] SEG_OFFSET = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};

    private final ByteBuffer run = ByteBuffer.allocateDirect(12288).order(ByteOrder.LITTLE_ENDIAN);
    private final Cpu cpu;
    private final Semaphore toGuest = new Semaphore(0);
    private final Semaphore toEngine = new Semaphore(0);
    private volatile boolean kicked;
    private volatile int pendingVector = -1;
    private int result;
    private boolean started;
    long exits;

    KvmSoftVcpu(AddressSpace space) {
        CpuMemory memory = new CpuMemory(new MemoryBus() {
            @Override public int read(long a, int size) {
                return size == 1 ? space.readByte(a) : size == 2 ? space.readWord(a) : space.readDword(a);
            }

            @Override public void write(long a, int size, int v) {
                switch (size) {
                    case 1 -> space.writeByte(a, v);
                    case 2 -> space.writeWord(a, v);
                    default -> space.writeDword(a, v);
                }
            }
        });
        for (AddressSpace.Mapping m : space.mappings()) {
            if (m.kind() == AddressSpace.Kind.MMIO || m.start() >= (1L << 32)) {
                continue;
            }
            RamBlock.Chunk chunk = m.block().chunkAt(m.blockOffset());
            int in = (int) (m.blockOffset() - chunk.offset());
            ByteBuffer slice = chunk.buffer().duplicate().position(in).limit(in + (int) m.size()).slice();
            if (m.kind() == AddressSpace.Kind.RAM) {
                memory.mapRam(m.start(), slice);
            } else {
                memory.mapRom(m.start(), slice);
            }
        }
        space.addRamWriteListener(memory::invalidateCode);
        memory.setA20(true);   // KVM has no A20 gate (kvm.md §6.3)
        cpu = new Cpu(CpuModel.I386, memory);
        cpu.setIoPorts(new IoPorts() {
            @Override public int in(int port, int size) {
                ioExit(false, port, size, 0);
                return switch (size) {
                    case 1 -> run.get(DATA) & 0xFF;
                    case 2 -> run.getShort(DATA) & 0xFFFF;
                    default -> run.getInt(DATA);
                };
            }

            @Override public void out(int port, int size, int value) {
                ioExit(true, port, size, value);
            }
        });
        cpu.setInterruptController(new InterruptController() {
            @Override public boolean hasPending() { return pendingVector >= 0; }

            @Override public int acknowledge() {
                int v = pendingVector;
                pendingVector = -1;
                return v;
            }
        });
        cpu.reset();
        run.putLong(KVM_VALID_REGS, 3);
    }

    @Override
    public ByteBuffer runArea() {
        return run;
    }

    @Override
    public int run() {
        if (run.get(IMMEDIATE_EXIT) != 0) {
            run.put(IMMEDIATE_EXIT, (byte) 0);
            kicked = false;
            return Errno.EINTR;
        }
        if (!started) {
            started = true;
            Thread t = new Thread(this::guest, "soft-vcpu");
            t.setDaemon(true);
            t.start();
        } else {
            toGuest.release();
        }
        toEngine.acquireUninterruptibly();
        return result;
    }

    @Override
    public int injectInterrupt(int vector) {
        if (pendingVector >= 0) {
            return Errno.EEXIST;
        }
        pendingVector = vector;
        return 0;
    }

    @Override
    public void kick() {
        run.put(IMMEDIATE_EXIT, (byte) 1);
        kicked = true;
    }

    @Override
    public void close() {
        kick();
    }

    // ---- the guest thread ----

    private void guest() {
        while (true) {
            loadDirtyRegisters();
            if (run.get(REQUEST_INTERRUPT_WINDOW) != 0 && interruptible()) {
                exit(KvmIoctls.KVM_EXIT_IRQ_WINDOW_OPEN, 0);
                continue;
            }
            StopReason why = cpu.run(SLICE);
            switch (why) {
                case HALTED, SHUTDOWN -> exit(KvmIoctls.KVM_EXIT_HLT, 0);
                case TRIPLE_FAULT -> exit(KvmIoctls.KVM_EXIT_SHUTDOWN, 0);
                default -> {
                    if (kicked) {
                        kicked = false;
                        run.put(IMMEDIATE_EXIT, (byte) 0);
                        exit(KvmIoctls.KVM_EXIT_INTR, Errno.EINTR);
                    }
                }
            }
        }
    }

    private boolean interruptible() {
        return (cpu.eflags() & 0x200) != 0 && pendingVector < 0;
    }

    private void ioExit(boolean out, int port, int size, int value) {
        run.putInt(EXIT_REASON, KvmIoctls.KVM_EXIT_IO);
        run.put(IO_DIRECTION, (byte) (out ? KvmIoctls.KVM_EXIT_IO_OUT : KvmIoctls.KVM_EXIT_IO_IN));
        run.put(IO_SIZE, (byte) size);
        run.putShort(IO_PORT, (short) port);
        run.putInt(IO_COUNT, 1);
        run.putLong(IO_DATA_OFFSET, DATA);
        run.putInt(DATA, value);
        handOver(0);
        loadDirtyRegisters();
    }

    /** Ends one KVM_RUN with {@code reason} and waits for the next. */
    private void exit(int reason, int errno) {
        run.putInt(EXIT_REASON, reason);
        handOver(errno);
    }

    private void handOver(int errno) {
        exits++;
        storeRegisters();
        run.put(IF_FLAG, (byte) ((cpu.eflags() & 0x200) != 0 ? 1 : 0));
        run.put(READY_FOR_INTERRUPT_INJECTION, (byte) (interruptible() ? 1 : 0));
        result = errno;
        toEngine.release();
        toGuest.acquireUninterruptibly();
    }

    private void storeRegisters() {
        for (int i = 0; i < 8; i++) {
            run.putLong(REGS + GPR_OFFSET[i], cpu.register(i) & 0xFFFF_FFFFL);
        }
        run.putLong(REGS + RIP, cpu.eip() & 0xFFFF_FFFFL);
        run.putLong(REGS + RFLAGS, cpu.eflags() & 0xFFFF_FFFFL);
        for (int s = 0; s < 6; s++) {
            run.putShort(SREGS + SEG_OFFSET[s] + SEG_SELECTOR, (short) cpu.segmentSelector(s));
            run.putLong(SREGS + SEG_OFFSET[s] + SEG_BASE, cpu.segmentBase(s) & 0xFFFF_FFFFL);
        }
        run.putLong(SREGS + CR0, cpu.cr0() & 0xFFFF_FFFFL);
        run.putLong(KVM_DIRTY_REGS, 0);
    }

    private void loadDirtyRegisters() {
        long dirty = run.getLong(KVM_DIRTY_REGS);
        if ((dirty & KvmIoctls.KVM_SYNC_X86_SREGS) != 0) {
            int cs = run.getShort(SREGS + SEG_CS + SEG_SELECTOR) & 0xFFFF;
            if (cs == 0xF000 && run.getLong(SREGS + SEG_CS + SEG_BASE) == 0xFFFF0000L) {
                cpu.reset();   // the engine wrote the power-on state after a reset
                run.putLong(KVM_DIRTY_REGS, 0);
                return;
            }
            for (int s = 0; s < 6; s++) {
                int sel = run.getShort(SREGS + SEG_OFFSET[s] + SEG_SELECTOR) & 0xFFFF;
                if (sel != cpu.segmentSelector(s) || run.getLong(SREGS + SEG_OFFSET[s] + SEG_BASE) != (cpu.segmentBase(s) & 0xFFFF_FFFFL)) {
                    cpu.setSegmentRealMode(s, sel);
                }
            }
        }
        if ((dirty & KvmIoctls.KVM_SYNC_X86_REGS) != 0) {
            for (int i = 0; i < 8; i++) {
                cpu.setRegister(i, (int) run.getLong(REGS + GPR_OFFSET[i]));
            }
            cpu.setEip((int) run.getLong(REGS + RIP));
            cpu.setEflags((int) run.getLong(REGS + RFLAGS));
        }
        run.putLong(KVM_DIRTY_REGS, 0);
    }
}
