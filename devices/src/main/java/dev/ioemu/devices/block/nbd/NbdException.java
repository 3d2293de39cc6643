package dev.ioemu.devices.block.nbd;

import java.io.IOException;

/** An NBD connection could not be made or negotiated; the message is one line for the user. */
final class NbdException extends IOException {
    NbdException(String message) {
        super(message);
    }
}
