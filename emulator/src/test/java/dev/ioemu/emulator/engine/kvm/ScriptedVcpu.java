package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.devices.host.Errno;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * A vCPU whose exits are a script: each {@link #run} fills the run area as KVM would for the next
 * step. With the script used up it blocks like a guest spinning in KVM_RUN until kicked. It keeps
 * the vectors the engine injected and refuses KVM_INTERRUPT while the guest cannot take one.
 */
final class ScriptedVcpu implements Vcpu {
    static final int MMAP_SIZE = 12288;
    static final int DATA_OFFSET = 4096;

    private final ByteBuffer run = ByteBuffer.allocateDirect(MMAP_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    private final Queue<Consumer<ByteBuffer>> script = new ArrayDeque<>();
    private final Semaphore kicks = new Semaphore(0);
    final List<Integer> injected = new ArrayList<>();
    int runs;

    ScriptedVcpu then(Consumer<ByteBuffer> step) {
        script.add(step);
        return this;
    }

    @Override
    public ByteBuffer runArea() {
        return run;
    }

    @Override
    public int run() {
        if (run.get(KvmRunLayout.IMMEDIATE_EXIT) != 0) {
            run.put(KvmRunLayout.IMMEDIATE_EXIT, (byte) 0);
            kicks.drainPermits();
            return Errno.EINTR;
        }
        Consumer<ByteBuffer> step = script.poll();
        if (step == null) {
            kicks.acquireUninterruptibly();
            run.put(KvmRunLayout.IMMEDIATE_EXIT, (byte) 0);
            return Errno.EINTR;
        }
        runs++;
        run.putLong(KvmRunLayout.KVM_DIRTY_REGS, 0);   // the kernel consumed what the engine wrote
        step.accept(run);
        return 0;
    }

    @Override
    public int injectInterrupt(int vector) {
        injected.add(vector);
        return 0;
    }

    @Override
    public void kick() {
        run.put(KvmRunLayout.IMMEDIATE_EXIT, (byte) 1);
        kicks.release();
    }

    @Override
    public void close() {
    }

    // ---- exits as KVM lays them out (shared/spec/kvm.md §3.2.1) ----

    static Consumer<ByteBuffer> io(boolean out, int port, int size, int count, Consumer<ByteBuffer> data) {
        return r -> {
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_IO);
            r.put(KvmRunLayout.IO_DIRECTION, (byte) (out ? KvmIoctls.KVM_EXIT_IO_OUT : KvmIoctls.KVM_EXIT_IO_IN));
            r.put(KvmRunLayout.IO_SIZE, (byte) size);
            r.putShort(KvmRunLayout.IO_PORT, (short) port);
            r.putInt(KvmRunLayout.IO_COUNT, count);
            r.putLong(KvmRunLayout.IO_DATA_OFFSET, DATA_OFFSET);
            data.accept(r);
        };
    }

    static Consumer<ByteBuffer> outByte(int port, int value) {
        return io(true, port, 1, 1, r -> r.put(DATA_OFFSET, (byte) value));
    }

    static Consumer<ByteBuffer> mmio(long address, boolean write, int len, long data) {
        return r -> {
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_MMIO);
            r.putLong(KvmRunLayout.MMIO_PHYS_ADDR, address);
            r.putLong(KvmRunLayout.MMIO_DATA, data);
            r.putInt(KvmRunLayout.MMIO_LEN, len);
            r.put(KvmRunLayout.MMIO_IS_WRITE, (byte) (write ? 1 : 0));
        };
    }

    static Consumer<ByteBuffer> exit(int reason) {
        return r -> r.putInt(KvmRunLayout.EXIT_REASON, reason);
    }

    /** Real-mode CS:IP with CS base = selector × 16, as the kernel's sync regs show it. */
    static Consumer<ByteBuffer> at(int cs, int ip) {
        return r -> {
            r.putShort(KvmRunLayout.SREGS + KvmRunLayout.SEG_CS + KvmRunLayout.SEG_SELECTOR, (short) cs);
            r.putLong(KvmRunLayout.SREGS + KvmRunLayout.SEG_CS + KvmRunLayout.SEG_BASE, (long) cs << 4);
            r.putLong(KvmRunLayout.REGS + KvmRunLayout.RIP, ip);
        };
    }
}
