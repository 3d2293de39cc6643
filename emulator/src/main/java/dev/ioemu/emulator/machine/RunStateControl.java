package dev.ioemu.emulator.machine;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The VM run state (QEMU's RunState) and the events its changes produce (QMP STOP, RESUME,
 * RESET, SHUTDOWN). Devices reach it through {@link VmStateControl} (werror=stop); QMP through
 * {@link #stop}, {@link #cont}. Resuming asks every machine component to retry what it stopped on
 * ({@code PiixIde.resume()}).
 *
 * <p>Thread safety: a device may request a stop from a block I/O thread, so state changes are
 * synchronized; listeners are called outside the lock, in the order of the changes.
 */
public final class RunStateControl implements VmStateControl {
    /** Receives machine events: name plus QMP "data" members (may be empty). */
    @FunctionalInterface
    public interface Listener {
        void event(String name, Map<String, Object> data);
    }

    /**
     * The engine that runs the guest's CPU (the software CPU), when one does: it stops between
     * instructions while the state is not running, and machine-wide changes run on its thread.
     */
    public interface Vcpu {
        /** Any thread: look at the run state again (stop or go at the next instruction boundary). */
        void kick();

        /** Any thread: run {@code task} on the CPU's thread between instructions. */
        void post(Runnable task);
    }

    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile Vcpu vcpu;
    private final Runnable onResume;
    private RunState state;
    /** QEMU's drive id of a backend ({@code ide0-hd0}), for BLOCK_IO_ERROR; set by the machine. */
    private volatile Function<BlockDevice, String> driveNames = b -> "";
    /** query-block's io-status per drive id after a stopping error ("failed", "nospace"); cleared by cont. */
    private final Map<String, String> ioStatus = new ConcurrentHashMap<>();

    /**
     * @param startPaused {@code -S}
     * @param onResume    run after every transition into RUNNING (resume the devices)
     */
    public RunStateControl(boolean startPaused, Runnable onResume) {
        this.state = startPaused ? RunState.PRELAUNCH : RunState.RUNNING;
        this.onResume = onResume;
    }

    /** The engine registers once it runs the guest; until then (and under qtest) there is none. */
    public void attachVcpu(Vcpu v) {
        this.vcpu = v;
    }

    /**
     * Runs {@code task} where the machine's devices may be changed: on the CPU's thread between
     * instructions when an engine runs the guest (QEMU's reset request, served by its main loop),
     * else at once on this thread.
     */
    public void onVcpuThread(Runnable task) {
        Vcpu v = vcpu;
        if (v == null) {
            task.run();
        } else {
            v.post(task);
        }
    }

    public void addListener(Listener l) {
        listeners.add(l);
    }

    public void removeListener(Listener l) {
        listeners.remove(l);
    }

    public synchronized RunState state() {
        return state;
    }

    /** A device asks to pause (werror/rerror=stop): state io-error, STOP event. */
    @Override
    public void requestStop(String reason) {
        pause("io-error".equals(reason) ? RunState.IO_ERROR : RunState.PAUSED, reason);
    }

    /** How the machine names its drives in events (QEMU's {@code device} member). */
    public void nameDrivesWith(Function<BlockDevice, String> names) {
        this.driveNames = names;
    }

    /**
     * QMP BLOCK_IO_ERROR, with QEMU 7.2's members in the order it prints them (IDE enables the I/O
     * status, so {@code nospace} is present; QEMU's {@code node-name} names an automatic node,
     * "#blockNNN", which ioemu does not have, so it is left out); a stopping error also marks the
     * drive's io-status until {@link #cont}, as QEMU's blk_error_action and qmp_cont do.
     */
    @Override
    public void blockIoError(BlockDevice drive, boolean isRead, String action, int errno) {
        String device = driveNames.apply(drive);
        boolean nospace = Math.abs(errno) == Errno.ENOSPC;
        if (action.equals("stop")) {
            ioStatus.put(device, nospace ? "nospace" : "failed");
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("device", device);
        data.put("nospace", nospace);
        data.put("reason", Errno.strerror(errno));
        data.put("operation", isRead ? "read" : "write");
        data.put("action", action);
        emit("BLOCK_IO_ERROR", data);
    }

    /** query-block's {@code io-status} of drive {@code device}: "ok", "failed" or "nospace". */
    public String ioStatus(String device) {
        return ioStatus.getOrDefault(device, "ok");
    }

    /** QMP {@code stop}. */
    public void stop() {
        pause(RunState.PAUSED, "stop");
    }

    private void pause(RunState target, String reason) {
        synchronized (this) {
            if (!state.running) {
                return;
            }
            state = target;
        }
        kick();
        trace(false, reason);
        emit("STOP", Map.of());
    }

    /** QMP {@code cont}: RUNNING, RESUME event, devices retry what stopped them. */
    public void cont() {
        ioStatus.clear();   // QEMU resets every drive's I/O status on cont, running or not
        synchronized (this) {
            if (state.running || state == RunState.SHUTDOWN) {
                return;
            }
            state = RunState.RUNNING;
        }
        kick();
        trace(true, "cont");
        onResume.run();
        emit("RESUME", Map.of());
    }

    /** After a system reset a machine that was not running is back in prelaunch (QEMU's rule). */
    public synchronized void afterReset() {
        if (!state.running && state != RunState.SHUTDOWN) {
            state = RunState.PRELAUNCH;
        }
    }

    /** Marks the machine as shutting down and sends SHUTDOWN with QEMU's reason string. */
    public void shutdown(String reason) {
        synchronized (this) {
            if (state == RunState.SHUTDOWN) {
                return;
            }
            state = RunState.SHUTDOWN;
        }
        trace(false, reason);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("guest", false);   // QEMU's member order
        data.put("reason", reason);
        emit("SHUTDOWN", data);
    }

    private void kick() {
        Vcpu v = vcpu;
        if (v != null) {
            v.kick();
        }
    }

    /** Sends an event to every listener (RESET comes from the machine). */
    public void emit(String name, Map<String, Object> data) {
        for (Listener l : listeners) {
            l.event(name, data);
        }
    }

    private static void trace(boolean running, String reason) {
        if (TraceEvent.VM_STATE_CHANGE.enabled) {
            Trace.emit(TraceEvent.VM_STATE_CHANGE, running ? 1 : 0, reason);
        }
    }
}
