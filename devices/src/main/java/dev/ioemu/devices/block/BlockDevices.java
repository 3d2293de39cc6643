package dev.ioemu.devices.block;

import dev.ioemu.devices.block.nbd.NbdBlockDevice;
import dev.ioemu.devices.block.nbd.NbdUri;
import dev.ioemu.devices.block.rbd.RbdBlockDevice;
import dev.ioemu.devices.block.rbd.RbdSpec;

/**
 * The one way device models and tools open an image from {@code -drive} options
 * (shared/spec/block.md §1): a {@link RawImage} (counting {@link BlockStats} and emitting
 * the {@code blk_*} trace events itself) or, for {@code nbd://…} and QEMU's other NBD spellings, an
 * {@link NbdBlockDevice}, for {@code rbd:…} an {@link RbdBlockDevice}, wrapped in {@link FaultInjection} when the options
 * carry {@code inject-error.*} rules and in {@link BlkDebug} for QEMU's blkdebug driver.
 */
public final class BlockDevices {
    private BlockDevices() {
    }

    /**
     * Opens the image. The caller owns the returned device and must close it.
     *
     * @throws BlockOpenException with QEMU's message and a hint (lock conflict, missing file,
     *         no working O_DIRECT alignment, …)
     */
    public static BlockDevice open(DriveOptions options) throws BlockOpenException {
        BlockDevice device = NbdUri.isNbd(options.file()) ? NbdBlockDevice.open(options)
                : RbdSpec.isRbd(options.file()) ? RbdBlockDevice.open(options)
                : RawImage.open(options);
        if (!options.injectErrors().isEmpty()) {
            device = new FaultInjection(device, options.injectErrors());
        }
        if (options.blkdebug() != null) {
            device = new BlkDebug(device, options.blkdebug());
        }
        return device;
    }
}
