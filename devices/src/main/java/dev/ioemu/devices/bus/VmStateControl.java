package dev.ioemu.devices.bus;

/**
 * What a device may ask of the machine that runs it: to pause the VM (QEMU's werror/rerror=stop
 * policies). The front end reports the stop (QMP STOP event) and later resumes the devices.
 */
public interface VmStateControl {
    /** Pauses the VM as soon as possible; {@code reason} is e.g. "io-error". */
    void requestStop(String reason);

    /** For devices built without a machine: stopping is refused, so the error is reported instead. */
    VmStateControl NONE = reason -> { };
}
