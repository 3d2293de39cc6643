package dev.ioemu.devices.bus;

/**
 * One interrupt request line as a device drives it (level-triggered, as ISA IRQ 14/15 are wired
 * on the PIIX3). Front ends observe it: qtest prints "IRQ raise N", KVM injects it.
 */
public interface IrqLine {
    void set(boolean level);

    default void raise() { set(true); }

    default void lower() { set(false); }

    /** A line connected to nothing, for devices built without a platform. */
    IrqLine NONE = level -> { };
}
