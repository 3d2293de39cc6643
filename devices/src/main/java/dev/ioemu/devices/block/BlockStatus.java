package dev.ioemu.devices.block;

/**
 * One extent of an image's allocation map, as QEMU's {@code bdrv_co_block_status} reports it for
 * a raw file (shared/spec/block.md §9): {@code [offset, offset+length)} either holds data or is a
 * hole that reads as zeros. When the host cannot tell ("unknown"), the extent is reported as data,
 * so a copy never skips bytes it has not proven zero.
 */
public record BlockStatus(long offset, long length, boolean data) {
    public BlockStatus {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("extent: offset " + offset + ", length " + length
                    + " (expected: offset ≥ 0 and length > 0)");
        }
    }

    /** True for a hole: the extent reads as zeros and occupies no space. */
    public boolean zero() {
        return !data;
    }

    public long end() {
        return offset + length;
    }
}
