package dev.ioemu.emulator.machine;

import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.CacheMode;

/**
 * What QMP {@code query-block} and {@code query-blockstats} report about one drive.
 *
 * @param device QEMU's legacy drive id, e.g. {@code ide0-hd0}, or the {@code id=} given
 * @param qdev   the device path, e.g. {@code /machine/unattached/device[N]} or the -device id
 * @param file   image file name, or null for an empty CD-ROM
 * @param stats  live counters, or null for an empty drive
 * @param block  the open image, for HMP {@code qemu-io}; null for an empty drive
 * @param firmwareWrites a hard disk's {@code firmware-writes=} (issue 11); null where INT 13h
 *               never writes (CD-ROMs)
 */
public record BlockInfo(String device, String qdev, boolean removable, String file, boolean readOnly,
                        String format, CacheMode cache, long virtualSize, BlockStats stats, BlockDevice block,
                        Int13Disk.FirmwareWrites firmwareWrites) {
    public BlockInfo(String device, String qdev, boolean removable, String file, boolean readOnly,
                     String format, CacheMode cache, long virtualSize, BlockStats stats) {
        this(device, qdev, removable, file, readOnly, format, cache, virtualSize, stats, null, null);
    }
}
