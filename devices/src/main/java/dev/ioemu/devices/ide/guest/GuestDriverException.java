package dev.ioemu.devices.ide.guest;

/**
 * The device did not do what a guest driver waits for or relies on (a status that never clears, a
 * data phase without DRQ). The message names the step, the values seen and what was expected.
 */
public final class GuestDriverException extends RuntimeException {
    public GuestDriverException(String message) {
        super(message);
    }
}
