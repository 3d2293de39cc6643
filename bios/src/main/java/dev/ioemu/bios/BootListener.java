package dev.ioemu.bios;

/** Machine-level outcome of INT 19h/18h: the emulator turns a failure into a non-zero exit. */
public interface BootListener {
    BootListener NONE = new BootListener() { };

    /** The boot sector of {@code drive} is at 0:7C00 and the guest is about to run it. */
    default void booting(int drive) {
    }

    /** No device could be booted; the guest is parked in the ROM's halt loop. */
    default void bootFailed(String reason) {
    }
}
