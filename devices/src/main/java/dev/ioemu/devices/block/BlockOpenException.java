package dev.ioemu.devices.block;

import java.io.IOException;

/**
 * An image could not be opened as the drive options ask (shared/spec/block.md §3.4, §7.1, §8).
 * The message reads like QEMU's (so users can search for it), and the hint says what to try, on
 * its own line as QEMU prints it:
 * <pre>
 * Failed to get "write" lock
 * Is another process using the image [disk.img]?
 * </pre>
 */
public final class BlockOpenException extends IOException {
    private final String reason;
    private final String hint;
    /** The errno behind the failure, or 0 when it was a policy decision (a lock conflict). */
    private final int errno;

    public BlockOpenException(String reason, String hint, int errno) {
        super(hint == null || hint.isEmpty() ? reason : reason + "\n" + hint);
        this.reason = reason;
        this.hint = hint == null ? "" : hint;
        this.errno = errno;
    }

    public BlockOpenException(String reason, String hint) {
        this(reason, hint, 0);
    }

    /** The first line: what failed. */
    public String reason() {
        return reason;
    }

    /** The second line: what to try (may be empty). */
    public String hint() {
        return hint;
    }

    public int errno() {
        return errno;
    }
}
