package dev.ioemu.emulator.engine.kvm;

import java.nio.ByteBuffer;

/**
 * What {@link KvmEngine} needs of one virtual CPU: the run area laid out as {@code struct kvm_run}
 * ({@link KvmRunLayout}, sync regs enabled) and the three vCPU operations. {@link KvmVcpu} is the
 * /dev/kvm one; tests drive the engine's exit handling through a scripted one.
 *
 * <p>Threads: {@link #run} and {@link #injectInterrupt} on the vCPU thread only; {@link #kick}
 * from any thread.
 */
interface Vcpu extends AutoCloseable {
    /** The run area (little-endian, capacity = the vCPU mmap size); valid until {@link #close}. */
    ByteBuffer runArea();

    /** KVM_RUN: 0 with an exit in the run area, or an errno (EINTR, EAGAIN after a kick). */
    int run();

    /** KVM_INTERRUPT with {@code vector}; 0 or an errno. */
    int injectInterrupt(int vector);

    /** Makes a running (or the next) {@link #run} return soon with EINTR (§5.8). */
    void kick();

    @Override
    void close();
}
