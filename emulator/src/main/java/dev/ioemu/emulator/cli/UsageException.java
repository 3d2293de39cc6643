package dev.ioemu.emulator.cli;

/**
 * A command-line error: the message names the option and says what was expected. Main prints it
 * as {@code ioemu: MESSAGE} and exits with status 1 (QEMU's behaviour), never with a stack trace.
 */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
