package dev.ioemu.devices.block;

/**
 * {@code discard=} (shared/spec/block.md §6.2): {@code ignore} (QEMU's default) completes TRIM
 * without touching the image; {@code unmap} punches holes (files) or issues BLKDISCARD (devices).
 */
public enum DiscardMode {
    IGNORE, UNMAP;

    public static DiscardMode parse(String value) {
        return switch (value) {
            case "ignore", "off" -> IGNORE;
            case "unmap", "on" -> UNMAP;
            default -> throw new IllegalArgumentException("discard: '" + value + "' (expected: ignore, unmap)");
        };
    }
}
