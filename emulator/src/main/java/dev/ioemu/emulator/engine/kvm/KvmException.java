package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.devices.host.Errno;

/** A KVM set-up step failed: "what: errno (expected: …)", one line for the user. */
public final class KvmException extends Exception {
    public KvmException(String message) {
        super(message);
    }

    static KvmException of(String what, int errno) {
        return new KvmException(what + ": " + Errno.name(errno));
    }
}
