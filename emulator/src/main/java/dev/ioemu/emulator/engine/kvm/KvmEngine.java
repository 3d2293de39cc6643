package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.bios.BiosRom;
import dev.ioemu.bios.BiosTrapDispatcher;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.isa.InterruptController;
import dev.ioemu.devices.time.MonotonicClock;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.emulator.engine.SoftCpuEngine.Exit;
import dev.ioemu.devices.time.VirtualClock;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.ioemu.emulator.engine.kvm.KvmIoctls.*;
import static dev.ioemu.emulator.engine.kvm.KvmRunLayout.*;

/**
 * The KVM engine's vCPU loop (shared/spec/kvm.md §5.9): KVM_RUN, then the exit read in place from
 * the run area — port I/O (string I/O element by element, the BIOS trap port to the HLE BIOS)
 * to the machine's port bus, MMIO to its address space (ROM writes dropped), HLT waits for the
 * Java PIC, a triple fault resets or ends the run per {@code -no-reboot}, and internal errors end
 * it with one message holding the exit reason, the registers and the code bytes. Interrupts come
 * from the same Java 8259 pair the software CPU uses, injected with KVM_INTERRUPT when the guest
 * can take one, or after an interrupt-window exit (§8.2).
 *
 * <p>Time is the host's monotonic clock: before every KVM_RUN the machine clock is advanced to it
 * (running due PIT/RTC timers); a timer thread kicks the vCPU out of KVM_RUN when a deadline
 * passes while the guest computes, and a rising INTR kicks it too.
 *
 * <p>Threads: everything but {@link #post} and the kick runs on the thread that called
 * {@link #run} (which created the vCPU). Other threads (signals, QMP, the console reader) hand
 * work over with {@link #post}.
 */
public final class KvmEngine {
    /** Longest wait of a halted guest before the mailbox and the clock are looked at again. */
    private static final long IDLE_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** The timer thread's longest sleep, so a timer armed while it sleeps is at most this late. */
    private static final long TICKER_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** After a kick the timer thread leaves the vCPU this long to run the due timers. */
    private static final long KICK_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int CODE_BYTES = 16;

    private final Vcpu vcpu;
    private final ByteBuffer run;
    private final KvmRegisterFile regs;
    private final IoPortBus ports;
    private final AddressSpace memory;
    private final BiosTrapDispatcher traps;
    private final InterruptController pic;
    private final VirtualClock clock;
    private final MonotonicClock hostTime;
    private final Runnable machineReset;
    private final boolean noReboot;
    private final PrintStream err;
    private final ConcurrentLinkedQueue<Runnable> mailbox = new ConcurrentLinkedQueue<>();
    private final Object idle = new Object();
    private volatile boolean inRun;
    private volatile boolean stopped;
    private Exit exit;
    private boolean resetRequested;
    private boolean haltedWithIfClearReported;
    private long exits;

    /**
     * @param machineReset resets every device after a triple fault; it must lead to
     *                     {@link #machineWasReset} (the engine registers with the machine)
     * @param noReboot     {@code -no-reboot}: a guest reset ends the run with status 0
     */
    KvmEngine(Vcpu vcpu, IoPortBus ports, AddressSpace memory, BiosTrapDispatcher traps, InterruptController pic,
              VirtualClock clock, MonotonicClock hostTime, Runnable machineReset, boolean noReboot, PrintStream err) {
        this.vcpu = vcpu;
        this.run = vcpu.runArea();
        this.regs = new KvmRegisterFile(run);
        this.ports = ports;
        this.memory = memory;
        this.traps = traps;
        this.pic = pic;
        this.clock = clock;
        this.hostTime = hostTime;
        this.machineReset = machineReset;
        this.noReboot = noReboot;
        this.err = err;
        pic.setIntrListener(asserted -> {
            if (asserted) {
                wake();
            }
        });
    }

    /** Runs {@code task} on the vCPU thread at its next exit (kicks the guest out of KVM_RUN). */
    public void post(Runnable task) {
        mailbox.add(task);
        wake();
    }

    private void wake() {
        synchronized (idle) {
            idle.notifyAll();
        }
        if (inRun) {
            vcpu.kick();
        }
    }

    /** Ends the run with {@code exit} before the guest runs again (vCPU thread only). */
    public void requestExit(Exit exit) {
        if (this.exit == null) {
            this.exit = exit;
        }
    }

    /**
     * The machine's devices were reset (i8042 pulse, port 92h, a triple fault, or QMP
     * {@code system_reset} on a monitor thread): the vCPU follows before it runs again. Any thread.
     */
    public void machineWasReset() {
        post(() -> resetRequested = true);
    }

    /** Userspace exits handled so far. */
    public long exits() {
        return exits;
    }

    /** Runs the guest from its reset state until an exit; returns why it ended. */
    public Exit run() {
        Thread ticker = new Thread(this::tick, "kvm-timer");
        ticker.setDaemon(true);
        ticker.start();
        try {
            while (true) {
                drainMailbox();
                if (resetRequested) {
                    resetRequested = false;
                    if (noReboot) {
                        requestExit(new Exit.Status(0));
                    } else {
                        regs.resetToPowerOn();
                    }
                }
                if (exit != null) {
                    break;
                }
                clock.advanceTo(hostTime.nanos());
                inRun = true;
                offerInterrupt();
                int errno = vcpu.run();
                inRun = false;
                if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
                    continue;   // a kick: the mailbox, the clock or an interrupt wants the vCPU
                }
                if (errno != 0) {
                    fail("KVM_RUN: " + Errno.name(errno));
                    continue;
                }
                exits++;
                handleExit();
            }
        } finally {
            stopped = true;
            LockSupport.unpark(ticker);
            try {
                ticker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return exit;
    }

    /**
     * Injects the 8259's interrupt when the guest can take it now, else asks KVM for an
     * interrupt-window exit (QEMU's kvm_arch_pre_run for a userspace PIC).
     */
    private void offerInterrupt() {
        if (!pic.hasPending()) {
            run.put(REQUEST_INTERRUPT_WINDOW, (byte) 0);
            return;
        }
        if (run.get(READY_FOR_INTERRUPT_INJECTION) != 0 && run.get(IF_FLAG) != 0) {
            int vector = pic.acknowledge();
            if (TraceEvent.KVM_INTERRUPT.enabled) {
                Trace.emit(TraceEvent.KVM_INTERRUPT, vector);
            }
            int errno = vcpu.injectInterrupt(vector);
            if (errno != 0) {
                fail("KVM_INTERRUPT vector 0x" + Integer.toHexString(vector) + ": " + Errno.name(errno));
            }
            // Another request may be pending behind this one: keep asking for the next window.
            run.put(REQUEST_INTERRUPT_WINDOW, (byte) (pic.hasPending() ? 1 : 0));
        } else {
            run.put(REQUEST_INTERRUPT_WINDOW, (byte) 1);
        }
    }

    private void handleExit() {
        int reason = run.getInt(EXIT_REASON);
        if (TraceEvent.KVM_RUN_EXIT.enabled) {
            Trace.emit(TraceEvent.KVM_RUN_EXIT, 0, reason);
        }
        switch (reason) {
            case KVM_EXIT_IO -> portIo();
            case KVM_EXIT_MMIO -> mmio();
            case KVM_EXIT_HLT -> halt();
            case KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_INTR -> { }
            case KVM_EXIT_SHUTDOWN -> tripleFault();
            case KVM_EXIT_SYSTEM_EVENT -> systemEvent();
            case KVM_EXIT_INTERNAL_ERROR -> fail(exitName(reason) + " (" + internalErrorName(run.getInt(INTERNAL_SUBERROR))
                    + internalData() + ")");
            case KVM_EXIT_FAIL_ENTRY -> fail(exitName(reason) + String.format(" (hardware entry failure reason 0x%x)",
                    run.getLong(FAIL_ENTRY_REASON)));
            case KVM_EXIT_UNKNOWN -> fail(exitName(reason) + String.format(" (hardware exit reason 0x%x)",
                    run.getLong(HW_EXIT_REASON)));
            default -> fail(exitName(reason) + " (not handled by ioemu)");
        }
    }

    /**
     * KVM_EXIT_IO: {@code count} elements of {@code size} bytes in the run area's data page, one
     * device access each (a string OUT of a huge count arrives as page-sized exits; KVM never
     * puts more than the mapping holds, and a layout that claims more is refused, not copied).
     */
    private void portIo() {
        boolean out = run.get(IO_DIRECTION) == KVM_EXIT_IO_OUT;
        int size = run.get(IO_SIZE);
        int port = run.getShort(IO_PORT) & 0xFFFF;
        long count = run.getInt(IO_COUNT) & 0xFFFF_FFFFL;
        long offset = run.getLong(IO_DATA_OFFSET);
        if ((size != 1 && size != 2 && size != 4) || offset < SIZE || offset > run.capacity()
                || count > (run.capacity() - offset) / size) {
            fail(String.format("%s with a bad layout: port 0x%x size %d count %d data offset %d (expected: "
                    + "count × size bytes inside the %d-byte run area)", exitName(KVM_EXIT_IO), port, size, count, offset,
                    run.capacity()));
            return;
        }
        if (TraceEvent.KVM_IO_EXIT.enabled) {
            Trace.emit(TraceEvent.KVM_IO_EXIT, port, size, count, out ? "out" : "in");
        }
        int at = (int) offset;
        if (out && port == BiosRom.TRAP_PORT && size == 1 && count == 1 && traps != null) {
            // OUT 0xE0, AL from a ROM stub: the dispatcher finds the service by RIP (on or after the OUT).
            traps.trap(regs);
            return;
        }
        for (int i = 0; i < count; i++, at += size) {
            if (out) {
                ports.write(port, size, read(at, size));
            } else {
                write(at, size, ports.read(port, size));
            }
        }
    }

    /** KVM_EXIT_MMIO: unassigned space, MMIO devices, or a write to a read-only (ROM) slot — dropped. */
    private void mmio() {
        long address = run.getLong(MMIO_PHYS_ADDR);
        int len = run.getInt(MMIO_LEN);
        boolean write = run.get(MMIO_IS_WRITE) != 0;
        if (len < 1 || len > 8) {
            fail(String.format("%s with a bad length: addr 0x%x len %d (expected: 1 to 8)", exitName(KVM_EXIT_MMIO),
                    address, len));
            return;
        }
        if (TraceEvent.KVM_MMIO_EXIT.enabled) {
            Trace.emit(TraceEvent.KVM_MMIO_EXIT, address, len, write ? "write" : "read");
        }
        AddressSpace.Mapping m = memory.find(address);
        if (write && m != null && m.kind() == AddressSpace.Kind.ROM) {
            if (TraceEvent.KVM_MMIO_ROM_WRITE.enabled) {
                Trace.emit(TraceEvent.KVM_MMIO_ROM_WRITE, address, len);
            }
            return;
        }
        for (int done = 0; done < len; ) {
            int step = len - done >= 4 && len != 6 ? 4 : len - done >= 2 ? 2 : 1;
            long a = address + done;
            int at = MMIO_DATA + done;
            if (write) {
                int value = read(at, step);
                switch (step) {
                    case 1 -> memory.writeByte(a, value);
                    case 2 -> memory.writeWord(a, value);
                    default -> memory.writeDword(a, value);
                }
            } else {
                write(at, step, switch (step) {
                    case 1 -> memory.readByte(a);
                    case 2 -> memory.readWord(a);
                    default -> memory.readDword(a);
                });
            }
            done += step;
        }
    }

    private int read(int at, int size) {
        return switch (size) {
            case 1 -> run.get(at) & 0xFF;
            case 2 -> run.getShort(at) & 0xFFFF;
            default -> run.getInt(at);
        };
    }

    private void write(int at, int size, int value) {
        switch (size) {
            case 1 -> run.put(at, (byte) value);
            case 2 -> run.putShort(at, (short) value);
            default -> run.putInt(at, value);
        }
    }

    /**
     * HLT (no in-kernel irqchip, so it exits): wait on the host clock until the 8259 has a request,
     * the host posts work, or — with IF=0, which no interrupt can end — only the host.
     */
    private void halt() {
        boolean interruptible = run.get(IF_FLAG) != 0;
        if (!interruptible && !haltedWithIfClearReported) {
            haltedWithIfClearReported = true;
            err.printf("ioemu: guest halted with interrupts disabled at %04x:%08x%n", regs.selector(Segment.CS), regs.eip());
        }
        while (exit == null && !resetRequested && mailbox.isEmpty()) {
            clock.advanceTo(hostTime.nanos());
            if (interruptible && pic.hasPending()) {
                return;
            }
            long next = interruptible ? clock.nextDeadline() : -1;
            long wait = next < 0 ? IDLE_SLICE_NANOS : Math.min(IDLE_SLICE_NANOS, next - hostTime.nanos());
            if (wait > 0) {
                synchronized (idle) {
                    if (mailbox.isEmpty() && !(interruptible && pic.hasPending())) {
                        try {
                            idle.wait(wait / 1_000_000, (int) (wait % 1_000_000));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            requestExit(new Exit.Shutdown("interrupted"));
                        }
                    }
                }
            }
        }
    }

    /** KVM_EXIT_SHUTDOWN: a triple fault resets the machine (or ends the run under -no-reboot), as on the software CPU. */
    private void tripleFault() {
        err.printf("ioemu: triple fault at %04x:%08x: %s%n", regs.selector(Segment.CS), regs.eip(),
                noReboot ? "exiting (-no-reboot)" : "resetting");
        machineReset.run();
    }

    private void systemEvent() {
        int type = run.getInt(SYSTEM_EVENT_TYPE);
        if (type == KVM_SYSTEM_EVENT_RESET) {
            machineReset.run();
        } else if (type == KVM_SYSTEM_EVENT_SHUTDOWN) {
            requestExit(new Exit.Status(0));
        } else {
            fail(exitName(KVM_EXIT_SYSTEM_EVENT) + " type " + type);
        }
    }

    private String internalData() {
        int n = Math.min(run.getInt(INTERNAL_NDATA), INTERNAL_DATA_MAX);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? ", data" : "").append(String.format(" %x", run.getLong(INTERNAL_DATA + 8 * i)));
        }
        return sb.toString();
    }

    /**
     * The guest cannot go on: one line with what KVM said, the registers and the code bytes at
     * CS:EIP, then the run ends with status 1 (drives are flushed by the caller as for any exit).
     */
    private void fail(String what) {
        String message = "KVM: " + what + " at " + regs.describe() + "; code at " + codeBytes();
        if (TraceEvent.KVM_FAILURE.enabled) {
            Trace.emit(TraceEvent.KVM_FAILURE, message);
        }
        err.println("ioemu: " + message);
        requestExit(new Exit.Status(1));
    }

    /** Up to 16 bytes at CS.base + EIP from RAM or ROM (never MMIO: reading a device has side effects). */
    private String codeBytes() {
        long linear = (regs.segmentBase(Segment.CS) + (regs.protectedMode() ? regs.eip() & 0xFFFF_FFFFL : regs.ip()))
                & 0xFFFF_FFFFL;
        StringBuilder sb = new StringBuilder(String.format("%08x:", linear));
        for (int i = 0; i < CODE_BYTES; i++) {
            AddressSpace.Mapping m = memory.find(linear + i);
            if (m == null || m.kind() == AddressSpace.Kind.MMIO) {
                sb.append(i == 0 ? " (not RAM or ROM)" : "");
                break;
            }
            sb.append(String.format(" %02x", memory.readByte(linear + i)));
        }
        return sb.toString();
    }

    private void drainMailbox() {
        Runnable r;
        while ((r = mailbox.poll()) != null) {
            r.run();
        }
    }

    /**
     * The timer thread: sleeps until the machine clock's next deadline in host time and then
     * kicks the vCPU out of KVM_RUN, so PIT and RTC interrupts arrive while the guest computes.
     */
    private void tick() {
        while (!stopped) {
            long next = clock.nextDeadline();
            long wait = next < 0 ? TICKER_SLICE_NANOS : Math.min(TICKER_SLICE_NANOS, next - hostTime.nanos());
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            if (inRun) {
                vcpu.kick();
            }
            LockSupport.parkNanos(KICK_GAP_NANOS);
        }
    }
}
