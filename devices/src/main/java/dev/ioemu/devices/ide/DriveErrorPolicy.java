package dev.ioemu.devices.ide;

import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.Locale;

/**
 * How one unit answers a failed command or block request: the ABRT error with ST=DRDY|ERR (ERR
 * is set exactly when the Error register is not 0), the abort of a DMA command, a guest error
 * traced before the spec's guest-visible answer (§6.4), and the drive's {@code rerror=} /
 * {@code werror=} action for a backend error (shared/spec/ide.md §6.5): report it to the guest,
 * ignore it, or stop the VM and re-issue the request when it continues.
 *
 * <p>Guarded by the controller lock, like the unit that owns it.
 */
final class DriveErrorPolicy {
    private final IdeDevice device;
    private final IdeBus bus;

    DriveErrorPolicy(IdeDevice device) {
        this.device = device;
        this.bus = device.bus;
    }

    /** ABRT: ST=DRDY|ERR, ER=ABRT, PIO stopped. The caller raises the IRQ if the command completes. */
    void abortCommand() {
        device.transferHalt();
        device.regs.status = Ata.STATUS_DRDY | Ata.STATUS_ERR;
        device.regs.error = Ata.ERR_ABRT;
    }

    /** Abort and interrupt: a failed PIO block or flush. */
    void abortAndInterrupt() {
        abortCommand();
        bus.setIrq();
    }

    /** Abort a DMA command: the engine goes inactive, the IRQ (and BM Interrupt) is raised. */
    void dmaError() {
        abortCommand();
        bus.dma.setInactive(false);
        bus.setIrq();
    }

    /** The guest asked for something out of range; the caller gives the spec's answer. */
    void guestError(String what) {
        if (TraceEvent.IDE_GUEST_ERROR.enabled) {
            Trace.emit(TraceEvent.IDE_GUEST_ERROR, bus.index, device.unit, what);
        }
    }

    /**
     * Applies the drive's rerror/werror policy to a failed request (§6.5).
     *
     * @param retry  re-issues the request when the VM continues (policy stop)
     * @param report makes the guest see the error (policy report)
     * @return false if the caller should carry on as if the request had succeeded (ignore)
     */
    boolean handleIoError(int errno, boolean isRead, String operation, Runnable retry, Runnable report) {
        ErrorPolicy policy = isRead ? device.config().rerror() : device.config().werror();
        ErrorPolicy.Action action = policy.actionFor(errno);
        if (action == ErrorPolicy.Action.STOP && !bus.controller.canStop()) {
            // Without a machine to pause (VmStateControl.NONE) the error is reported instead.
            action = ErrorPolicy.Action.REPORT;
        }
        if (TraceEvent.IDE_IO_ERROR.enabled) {
            Trace.emit(TraceEvent.IDE_IO_ERROR, bus.index, device.unit, operation, errno, action.name().toLowerCase());
        }
        bus.controller.reportIoError(device.config().block(), isRead, action.name().toLowerCase(Locale.ROOT), errno);
        switch (action) {
            case STOP -> {
                // The channel keeps one parked request; PiixIde.resume() re-issues it.
                bus.retry = retry;
                bus.controller.requestStop();
                return true;
            }
            case REPORT -> {
                report.run();
                return true;
            }
            default -> {
                return false;
            }
        }
    }
}
