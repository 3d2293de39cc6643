package dev.ioemu.emulator.engine.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import sun.misc.Signal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * vCPU 0 of a {@link KvmVm}: its fd, the mmap'd {@code kvm_run} read in place through one
 * little-endian buffer, KVM_RUN with sync regs (regs + sregs copied into the run area on every
 * exit, §5.5), KVM_INTERRUPT, and the kick protocol of §5.8 (immediate_exit, then SIGUSR1 to
 * the vCPU thread, whose no-op handler makes KVM_RUN return EINTR).
 *
 * <p>Threads: created and run on the vCPU thread; {@link #kick} from any thread.
 */
final class KvmVcpu implements Vcpu {
    private static final AtomicBoolean KICK_HANDLER = new AtomicBoolean();

    private final int fd;
    private final long runAddress;
    private final int runSize;
    private final ByteBuffer run;
    private final Memory interrupt = new Memory(4);
    private final long thread;
    private final Runnable closeVm;
    private volatile boolean closed;

    /** @param closeVm closes the VM once this, its only vCPU, is closed */
    KvmVcpu(int fd, long runAddress, int runSize, Runnable closeVm) {
        this.closeVm = closeVm;
        this.fd = fd;
        this.runAddress = runAddress;
        this.runSize = runSize;
        this.run = new Pointer(runAddress).getByteBuffer(0, runSize).order(ByteOrder.LITTLE_ENDIAN);
        this.thread = KvmSyscalls.pthread_self();
        if (KICK_HANDLER.compareAndSet(false, true)) {
            // A handled (not ignored) signal is what interrupts KVM_RUN; the handler itself does nothing.
            Signal.handle(new Signal("USR1"), s -> { });
        }
        run.putLong(KvmRunLayout.KVM_VALID_REGS, KvmIoctls.KVM_SYNC_X86_REGS | KvmIoctls.KVM_SYNC_X86_SREGS);
    }

    @Override
    public ByteBuffer runArea() {
        return run;
    }

    @Override
    public int run() {
        int r = KvmSyscalls.ioctl(fd, KvmIoctls.KVM_RUN, 0);
        if (r < 0) {
            run.put(KvmRunLayout.IMMEDIATE_EXIT, (byte) 0);
            return KvmSyscalls.errno();
        }
        return 0;
    }

    @Override
    public int injectInterrupt(int vector) {
        interrupt.setInt(0, vector);
        return KvmSyscalls.ioctl(fd, KvmIoctls.KVM_INTERRUPT, Pointer.nativeValue(interrupt)) < 0 ? KvmSyscalls.errno() : 0;
    }

    @Override
    public synchronized void kick() {
        if (closed) {
            return;
        }
        run.put(KvmRunLayout.IMMEDIATE_EXIT, (byte) 1);
        KvmSyscalls.pthread_kill(thread, KvmSyscalls.SIGUSR1);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        KvmSyscalls.munmap(runAddress, runSize);
        KvmSyscalls.close(fd);
        interrupt.close();
        closeVm.run();
    }
}
