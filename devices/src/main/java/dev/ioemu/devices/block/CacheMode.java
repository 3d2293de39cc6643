package dev.ioemu.devices.block;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The {@code cache=} modes: QEMU's five with QEMU's exact meaning, decomposed into its three
 * switches (shared/spec/block.md §1, §2), plus ioemu's {@code fadvise}: buffered, and after a
 * successful flush the written pages are dropped from the host page cache so a reader below the
 * page cache sees them and our next read sees what was written below us.
 */
public enum CacheMode {
    WRITEBACK("writeback", true, false, false, false),
    NONE("none", true, true, false, false),
    WRITETHROUGH("writethrough", false, false, false, false),
    DIRECTSYNC("directsync", false, true, false, false),
    UNSAFE("unsafe", true, false, true, false),
    FADVISE("fadvise", true, false, false, true);

    private final String optionName;
    /** Default of the guest-visible write cache (IDE WCE); off ⇒ flush after every write. */
    public final boolean writeback;
    /** Open with O_DIRECT. */
    public final boolean direct;
    /** Flushes never reach the disk. */
    public final boolean noFlush;
    /** After a successful fdatasync, POSIX_FADV_DONTNEED what we wrote. */
    public final boolean dropAfterFlush;

    CacheMode(String optionName, boolean writeback, boolean direct, boolean noFlush, boolean dropAfterFlush) {
        this.optionName = optionName;
        this.writeback = writeback;
        this.direct = direct;
        this.noFlush = noFlush;
        this.dropAfterFlush = dropAfterFlush;
    }

    /** The name used in {@code cache=}. */
    public String optionName() {
        return optionName;
    }

    /**
     * Parses a {@code cache=} value ({@code off} is QEMU's alias of {@code none}).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static CacheMode parse(String value) {
        if ("off".equals(value)) {
            return NONE;
        }
        for (CacheMode m : values()) {
            if (m.optionName.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("cache: '" + value + "' (expected: "
                + Arrays.stream(values()).map(CacheMode::optionName).collect(Collectors.joining(", ")) + ")");
    }

    @Override
    public String toString() {
        return optionName;
    }
}
