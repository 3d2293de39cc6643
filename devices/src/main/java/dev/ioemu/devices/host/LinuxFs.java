package dev.ioemu.devices.host;

/**
 * Block-device ioctl numbers of {@code <linux/fs.h>} and the file-type bits of
 * {@code <sys/stat.h>}, x86-64 values from shared/spec/block.md §8 and §10.
 */
public final class LinuxFs {
    /** int*: logical block size. */
    public static final long BLKSSZGET = 0x1268;
    /** unsigned int*: physical block size. */
    public static final long BLKPBSZGET = 0x127B;
    /** u64*: size in bytes (st_size is 0 for block devices). */
    public static final long BLKGETSIZE64 = 0x80081272L;
    /** u64[2] {offset, length}. */
    public static final long BLKDISCARD = 0x1277;
    /** u64[2] {offset, length}. */
    public static final long BLKZEROOUT = 0x127F;
    /** int*: 1 if the device is read-only. */
    public static final long BLKROGET = 0x125E;

    public static final int S_IFMT = 0170000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFREG = 0100000;

    private LinuxFs() {
    }
}
