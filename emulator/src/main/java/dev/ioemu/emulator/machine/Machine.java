package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.time.VirtualClock;

import java.util.List;

/**
 * What a front end (qtest server, QMP monitor) needs from a machine. Front ends depend on this
 * interface only, so they can be tested against a small fake.
 *
 * <p>Locking: a front end holds the machine's monitor ({@code synchronized (machine)}) while it
 * executes one command, so a qtest request and a QMP command never interleave inside devices —
 * QEMU's big lock. Block I/O completions do not take it; they use each device's own lock.
 */
public interface Machine {
    /** The x86 I/O port space. */
    IoPortBus ioBus();

    /** The guest-physical address space: the same map CPUs and every DMA engine see. */
    AddressSpace addressSpace();

    /**
     * QEMU_CLOCK_VIRTUAL: advanced by qtest's clock commands or the software CPU's instruction
     * count; the same clock the devices' timers are armed on.
     */
    VirtualClock clock();

    /** Devices a qtest client may name, with their GPIO pins. */
    List<QomDevice> qomDevices();

    /** Running/paused state and its events. */
    RunStateControl runState();

    /** System reset (QMP {@code system_reset}): every device to its reset state. */
    void reset();

    /**
     * A host-requested system reset (QMP/HMP {@code system_reset}): on the CPU's thread when an
     * engine runs the guest, so it lands between two instructions; then QEMU's run-state rule
     * (a machine that was not running is back in prelaunch) and the RESET event.
     *
     * @param reason QEMU's reset reason, e.g. "host-qmp-system-reset"
     */
    default void systemReset(String reason) {
        runState().onVcpuThread(() -> {
            reset();
            runState().afterReset();
            java.util.Map<String, Object> data = new java.util.LinkedHashMap<>();
            data.put("guest", false);   // QEMU's member order
            data.put("reason", reason);
            runState().emit("RESET", data);
        });
    }

    /**
     * Waits until every block request submitted so far has completed and its completion (status
     * update, IRQ) has run; used by {@code clock_step} so replies do not depend on host timing.
     */
    void drain();

    /** The drives, for {@code query-block}/{@code query-blockstats}. */
    List<BlockInfo> blocks();

    /** Drains, flushes every drive and releases them (quit, SIGTERM). Idempotent. */
    void shutdown();

    /**
     * Resolves a QOM path the way QEMU does: an absolute path must match exactly; a partial path
     * ({@code ioapic}) must match the end of exactly one published path.
     *
     * @return the device, or null if none or more than one matches
     */
    default QomDevice resolve(String path) {
        if (path.startsWith("/")) {
            for (QomDevice d : qomDevices()) {
                if (d.path().equals(path)) {
                    return d;
                }
            }
            return null;
        }
        QomDevice found = null;
        for (QomDevice d : qomDevices()) {
            if (d.path().endsWith("/" + path)) {
                if (found != null) {
                    return null;   // ambiguous, as QEMU's partial-path lookup
                }
                found = d;
            }
        }
        return found;
    }
}
