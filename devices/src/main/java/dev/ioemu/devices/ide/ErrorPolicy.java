package dev.ioemu.devices.ide;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * QEMU's {@code rerror=} / {@code werror=} drive options: what a backend I/O error does to the
 * guest (shared/spec/ide.md §6.5).
 */
public enum ErrorPolicy {
    /** The guest sees ABRT (or CHECK CONDITION on ATAPI). */
    REPORT,
    /** Carry on as if the I/O had succeeded. */
    IGNORE,
    /** Pause the VM; the request is re-issued when the VM continues. */
    STOP,
    /** STOP for ENOSPC, REPORT for anything else (QEMU's werror default). */
    ENOSPC;

    /** QEMU's defaults: reads report, writes stop only on a full host disk. */
    public static final ErrorPolicy DEFAULT_READ = REPORT;
    public static final ErrorPolicy DEFAULT_WRITE = ENOSPC;

    /**
     * Parses {@code report|ignore|stop|enospc}.
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static ErrorPolicy parse(String value) {
        for (ErrorPolicy p : values()) {
            if (p.name().toLowerCase(Locale.ROOT).equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException("error policy: '" + value + "' (expected: "
                + Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ")");
    }

    /** What this policy does for a failure with {@code errno} (positive). */
    Action actionFor(int errno) {
        return switch (this) {
            case REPORT -> Action.REPORT;
            case IGNORE -> Action.IGNORE;
            case STOP -> Action.STOP;
            case ENOSPC -> errno == dev.ioemu.devices.host.Errno.ENOSPC ? Action.STOP : Action.REPORT;
        };
    }

    /** The decision taken for one failed request (QEMU's BlockErrorAction). */
    enum Action { REPORT, IGNORE, STOP }
}
