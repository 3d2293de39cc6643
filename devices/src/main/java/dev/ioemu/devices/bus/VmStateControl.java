package dev.ioemu.devices.bus;

import dev.ioemu.devices.block.BlockDevice;

/**
 * What a device may ask of the machine that runs it: to pause the VM (QEMU's werror/rerror=stop
 * policies). The front end reports the stop (QMP STOP event) and later resumes the devices.
 */
public interface VmStateControl {
    /** Pauses the VM as soon as possible; {@code reason} is e.g. "io-error". */
    void requestStop(String reason);

    /**
     * A drive's request failed and its rerror/werror policy chose {@code action} ("report",
     * "ignore" or "stop"): the front end tells its clients (QMP BLOCK_IO_ERROR). For "stop" it is
     * called before {@link #requestStop}, so the event comes before STOP, as QEMU sends them.
     */
    default void blockIoError(BlockDevice drive, boolean isRead, String action, int errno) {
    }

    /** For devices built without a machine: stopping is refused, so the error is reported instead. */
    VmStateControl NONE = reason -> { };
}
