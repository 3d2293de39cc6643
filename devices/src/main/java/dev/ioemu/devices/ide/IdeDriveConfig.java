package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockDevice;

import java.util.Objects;

/**
 * One IDE unit as the machine configures it ({@code -drive if=ide} or {@code -device
 * ide-hd|ide-cd}): the backend and the properties that show in IDENTIFY (shared/spec/ide.md §4.1,
 * §6.5, §6.6).
 *
 * @param block      the image; required for a disk, {@code null} for a CD-ROM without medium
 * @param kind       disk or CD-ROM
 * @param model      IDENTIFY model string (max 40 chars), {@code null} for ioemu's default
 * @param serial     IDENTIFY serial (max 20), {@code null} for QEMU's "QM0000n" by position
 * @param version    IDENTIFY firmware revision (max 8), {@code null} for QEMU's "2.5+"
 * @param rerror     read error policy, {@code null} for {@link ErrorPolicy#DEFAULT_READ}
 * @param werror     write/flush error policy, {@code null} for {@link ErrorPolicy#DEFAULT_WRITE}
 * @param writeCache guest-visible write cache at start, {@code null} to follow the cache mode
 */
public record IdeDriveConfig(BlockDevice block, IdeDriveKind kind, String model, String serial, String version,
                             ErrorPolicy rerror, ErrorPolicy werror, Boolean writeCache) {
    public IdeDriveConfig {
        Objects.requireNonNull(kind, "kind");
        if (kind == IdeDriveKind.DISK && block == null) {
            throw new IllegalArgumentException("ide-hd: no drive (expected: a block device; disks must have a medium)");
        }
        if (rerror == null) {
            rerror = ErrorPolicy.DEFAULT_READ;
        }
        if (werror == null) {
            werror = ErrorPolicy.DEFAULT_WRITE;
        }
    }

    /** A disk with every property at QEMU's default. */
    public static IdeDriveConfig disk(BlockDevice block) {
        return new IdeDriveConfig(block, IdeDriveKind.DISK, null, null, null, null, null, null);
    }

    /** A CD-ROM with every property at QEMU's default; {@code block} may be null (no medium). */
    public static IdeDriveConfig cdrom(BlockDevice block) {
        return new IdeDriveConfig(block, IdeDriveKind.CDROM, null, null, null, null, null, null);
    }
}
