package dev.ioemu.emulator.machine;

/**
 * The machine cannot be built as configured: a drive cannot be opened or placed. The message
 * names the front end's source of the setting ("-drive file=a.img: Could not open …"); the front
 * end reports it as a usage error.
 */
public final class MachineSetupException extends Exception {
    public MachineSetupException(String message, Throwable cause) {
        super(message, cause);
    }
}
