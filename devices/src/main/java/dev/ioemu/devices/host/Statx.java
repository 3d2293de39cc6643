package dev.ioemu.devices.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * The fields of {@code struct statx} (256 bytes, {@code <linux/stat.h>}) the block layer reads:
 * file type, size, allocated blocks (the "disk size" of {@code ioemu-img info}, §8) and the
 * direct-I/O alignment that Linux ≥ 6.1 reports under {@code STATX_DIOALIGN} (shared/spec/block.md
 * §3.2). A missing mask bit means "no information", never "no O_DIRECT".
 */
public record Statx(int mask, int mode, long size, int dioMemAlign, int dioOffsetAlign, long blocks) {
    public static final int STATX_TYPE = 0x1;
    public static final int STATX_MODE = 0x2;
    public static final int STATX_SIZE = 0x200;
    public static final int STATX_BLOCKS = 0x400;
    public static final int STATX_DIOALIGN = 0x2000;

    private static final int STRUCT_SIZE = 256;
    private static final int OFFSET_MASK = 0;
    private static final int OFFSET_MODE = 28;
    private static final int OFFSET_SIZE = 40;
    private static final int OFFSET_BLOCKS = 48;
    private static final int OFFSET_DIO_MEM_ALIGN = 152;
    private static final int OFFSET_DIO_OFFSET_ALIGN = 156;

    /** statx(fd, "", AT_EMPTY_PATH, TYPE|MODE|SIZE|BLOCKS|DIOALIGN). */
    public static Statx of(int fd) throws LastErrorException {
        Memory buf = new Memory(STRUCT_SIZE);
        buf.clear();
        LibC.statx(fd, "", Fcntl.AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_BLOCKS | STATX_DIOALIGN,
                Pointer.nativeValue(buf));
        return new Statx(buf.getInt(OFFSET_MASK), buf.getShort(OFFSET_MODE) & 0xFFFF, buf.getLong(OFFSET_SIZE),
                buf.getInt(OFFSET_DIO_MEM_ALIGN), buf.getInt(OFFSET_DIO_OFFSET_ALIGN),
                buf.getLong(OFFSET_BLOCKS));
    }

    public boolean isBlockDevice() {
        return (mode & LinuxFs.S_IFMT) == LinuxFs.S_IFBLK;
    }

    public boolean isRegularFile() {
        return (mode & LinuxFs.S_IFMT) == LinuxFs.S_IFREG;
    }

    /** Bytes the file occupies on disk: st_blocks × 512 (shared/spec/block.md §8). */
    public long allocatedBytes() {
        return blocks * 512;
    }

    /** True if the kernel reported direct-I/O alignment (mask bit set and a non-zero value). */
    public boolean hasDioAlign() {
        return (mask & STATX_DIOALIGN) != 0 && dioOffsetAlign != 0;
    }
}
