package dev.ioemu.emulator.engine;

import dev.ioemu.bios.BiosRom;
import dev.ioemu.bios.BiosTrapDispatcher;
import dev.ioemu.bios.RegisterFile;
import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.InterruptController;
import dev.ioemu.cpu.IoPorts;
import dev.ioemu.cpu.StopReason;
import dev.ioemu.devices.bus.IoPortBus;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The software-CPU engine: runs the guest on the Java interpreter in slices, turns executed
 * instructions into virtual time (so PIT calibration loops, timeouts and RTC interrupts are
 * deterministic: the same disk and inputs give the same instruction stream), routes port I/O to
 * the machine's port bus and the BIOS trap port to the HLE BIOS, and skips ahead to the next
 * timer when the guest halts.
 *
 * <p>Threads: everything here — the CPU, every device access, every timer — runs on the one
 * thread that called {@link #run}. Other threads (a console reader, QMP, signals) hand work to it
 * through {@link #post}; it runs between slices.
 */
public final class SoftCpuEngine {
    /** Virtual nanoseconds per retired instruction: a 100 MHz, one-instruction-per-cycle CPU. */
    private final long nanosPerInstruction;
    /** Longest run between checks of the mailbox and the clock. */
    private static final long SLICE = 200_000;

    /** How a run ended. */
    public sealed interface Exit permits Exit.Status, Exit.Shutdown {
        /** The guest asked for an exit code (isa-debug-exit) or a reset with -no-reboot. */
        record Status(int code) implements Exit { }

        /** The host asked (signal, QMP quit). */
        record Shutdown(String reason) implements Exit { }
    }

    /** The virtual clock the engine drives (the machine's timers run when it advances). */
    public interface Timebase {
        /** The earliest armed timer deadline in ns, or -1 if none. */
        long nextDeadline();

        /** Advances to {@code target} ns, running due timers on this thread. */
        long advanceTo(long target);
    }

    private final Cpu cpu;
    private final Timebase clock;
    private final IoPortBus ports;
    private final BiosTrapDispatcher traps;
    private final RegisterFile regs;
    private final Runnable machineReset;
    private final boolean noReboot;
    private final boolean pace;
    private final LinkedBlockingQueue<Runnable> mailbox = new LinkedBlockingQueue<>();
    private long idleTicks;          // instruction times spent halted (skipped to timer deadlines)
    private long hostStart;
    private Exit exit;
    private boolean resetRequested;
    private boolean haltedWithIfClearReported;
    /** Run-state hook: while it answers false (QMP stop, -S, werror=stop) no instruction runs. */
    private volatile java.util.function.BooleanSupplier mayRun = () -> true;

    /**
     * @param machineReset resets every device after a triple fault; it must lead to
     *                     {@link #machineWasReset} (the engine registers with the machine)
     * @param noReboot     {@code -no-reboot}: a guest reset ends the run instead
     * @param pace         keep virtual time from running ahead of host time while the guest
     *                     idles (interactive use); off for tests and benchmarks
     * @param nanosPerInstruction virtual time per instruction ({@code -icount shift=N}: 2^N ns)
     */
    public SoftCpuEngine(Cpu cpu, Timebase clock, IoPortBus ports, BiosTrapDispatcher traps,
                         dev.ioemu.devices.isa.InterruptController pic, Runnable machineReset,
                         boolean noReboot, boolean pace, long nanosPerInstruction) {
        if (nanosPerInstruction <= 0) {
            throw new IllegalArgumentException("nanos per instruction: " + nanosPerInstruction);
        }
        this.nanosPerInstruction = nanosPerInstruction;
        this.cpu = cpu;
        this.clock = clock;
        this.ports = ports;
        this.traps = traps;
        this.regs = new CpuRegisterFile(cpu);
        this.machineReset = machineReset;
        this.noReboot = noReboot;
        this.pace = pace;
        cpu.setIoPorts(new PortRouter());
        cpu.setInterruptController(new InterruptController() {
            @Override public boolean hasPending() { return pic.hasPending(); }

            @Override public int acknowledge() { return pic.acknowledge(); }
        });
    }

    public Cpu cpu() {
        return cpu;
    }

    /** Runs {@code task} on the engine's thread between slices (wakes a halted guest's loop). */
    public void post(Runnable task) {
        mailbox.add(task);
    }

    /** Ends the run with {@code exit} as soon as the current instruction completes (engine thread only). */
    public void requestExit(Exit exit) {
        if (this.exit == null) {
            this.exit = exit;
        }
        cpu.requestStop();
    }

    /**
     * The machine's devices were reset (i8042 pulse, port 92h, QMP system_reset, or this engine
     * after a triple fault): the CPU follows at the next instruction boundary, or the run ends
     * with status 0 under {@code -no-reboot}. Engine thread only.
     */
    public void machineWasReset() {
        resetRequested = true;
        cpu.requestStop();
    }

    /**
     * Run-state hook (RunStateControl): while {@code mayRun} answers false the CPU stays between
     * instructions and virtual time stands still; whoever changes its answer calls {@link #kick}.
     */
    public void setRunGate(java.util.function.BooleanSupplier mayRun) {
        this.mayRun = mayRun;
    }

    /** Any thread: makes the engine look at the run gate again at the next slice boundary. */
    public void kick() {
        post(() -> { });
    }

    /**
     * Virtual time as the instruction count and the skipped idle periods give it: one clock for
     * the timers (PIT, RTC) and the time-stamp counter, which counts the same ticks, so a guest
     * calibrating its TSC against the PIT or waiting on the TSC after a HLT sees one time.
     */
    private long virtualNow() {
        return (cpu.instructionCount() + idleTicks) * nanosPerInstruction;
    }

    private void syncClock() {
        clock.advanceTo(virtualNow());
    }

    /** Runs the guest from the CPU's current state until an exit; returns why it ended. */
    public Exit run() {
        hostStart = System.nanoTime();
        while (exit == null) {
            drainMailbox();
            if (exit == null && resetRequested) {
                applyReset();   // a reset posted from outside (QMP system_reset) before any instruction
            }
            if (exit != null) {
                break;
            }
            if (!mayRun.getAsBoolean()) {
                parkWhileStopped();
                continue;
            }
            syncClock();
            StopReason why = cpu.run(sliceLength());
            syncClock();
            if (resetRequested) {
                applyReset();
                continue;
            }
            switch (why) {
                case BUDGET_EXHAUSTED, STOP_REQUESTED -> { }
                case HALTED -> idle(true);
                case SHUTDOWN -> {
                    if (!haltedWithIfClearReported) {
                        haltedWithIfClearReported = true;
                        System.err.printf("ioemu: guest halted with interrupts disabled at %04x:%08x%n",
                                cpu.segmentSelector(Cpu.CS), cpu.eip());
                    }
                    idle(false);
                }
                case TRIPLE_FAULT -> {
                    System.err.printf("ioemu: triple fault at %04x:%08x: %s%n",
                            cpu.segmentSelector(Cpu.CS), cpu.eip(), noReboot ? "exiting (-no-reboot)" : "resetting");
                    machineReset.run();
                    // The reset takes effect now: no guest instruction may run after a triple fault.
                    if (resetRequested) {
                        applyReset();
                    }
                }
            }
        }
        return exit;
    }

    /** The machine was reset: the CPU goes to its reset vector, or the run ends under -no-reboot. */
    private void applyReset() {
        resetRequested = false;
        if (noReboot) {
            requestExit(new Exit.Status(0));
        } else {
            cpu.reset();
        }
    }

    /**
     * The VM is stopped: wait for the host (cont, reset, quit) without running instructions or
     * skipping idle time, so virtual time stands still. The host time spent here is taken out
     * of the pacing base, so a resumed guest does not catch up on it (QEMU's virtual clock
     * stops while the VM is stopped).
     */
    private void parkWhileStopped() {
        long parkedAt = System.nanoTime();
        awaitMail(TimeUnit.SECONDS.toNanos(1));
        hostStart += System.nanoTime() - parkedAt;
    }

    /** Instructions until the next timer is due, so interrupts arrive on time. */
    private long sliceLength() {
        long next = clock.nextDeadline();
        if (next < 0) {
            return SLICE;
        }
        long until = (next - virtualNow()) / nanosPerInstruction + 1;
        return Math.max(1, Math.min(SLICE, until));
    }

    /**
     * The guest waits. With interrupts enabled, skip virtual time to the next timer (pacing it
     * against host time when asked); otherwise only the host can end the wait.
     */
    private void idle(boolean interruptible) {
        long next = interruptible ? clock.nextDeadline() : -1;
        long waitNanos;
        if (next >= 0) {
            long skip = Math.max(0, next - virtualNow());
            waitNanos = pace ? (hostStart + next) - System.nanoTime() : 0;
            if (waitNanos > 0 && awaitMail(waitNanos)) {
                return;   // something arrived for the guest before the timer: run it first
            }
            // Whole ticks, rounded up so the timer is due when the clock gets there.
            long ticks = (skip + nanosPerInstruction - 1) / nanosPerInstruction;
            idleTicks += ticks;
            cpu.advanceIdleTsc(ticks);
            syncClock();
        } else {
            awaitMail(TimeUnit.SECONDS.toNanos(1));
        }
    }

    /** Waits up to {@code nanos} for a posted task and runs it; true if one ran. */
    private boolean awaitMail(long nanos) {
        try {
            Runnable r = mailbox.poll(nanos, TimeUnit.NANOSECONDS);
            if (r == null) {
                return false;
            }
            r.run();
            drainMailbox();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            requestExit(new Exit.Shutdown("interrupted"));
            return true;
        }
    }

    private void drainMailbox() {
        Runnable r;
        while ((r = mailbox.poll()) != null) {
            r.run();
        }
    }

    /** Port I/O from the guest: the BIOS trap port to the HLE BIOS, everything else to the bus. */
    private final class PortRouter implements IoPorts {
        @Override
        public int in(int port, int size) {
            syncClock();
            return ports.read(port, size);
        }

        @Override
        public void out(int port, int size, int value) {
            syncClock();
            if (port == BiosRom.TRAP_PORT && size == 1 && traps != null) {
                // An OUT from an address that is not one of our stubs is a guest bug: the
                // dispatcher traces and ignores it, as the port decodes nothing else.
                traps.trap(regs);
                return;
            }
            ports.write(port, size, value);
        }
    }
}
