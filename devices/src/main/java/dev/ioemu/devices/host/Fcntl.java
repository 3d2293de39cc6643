package dev.ioemu.devices.host;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * Constants of {@code <fcntl.h>} (open flags, fcntl commands, fallocate modes, fadvise advice)
 * with their C spellings, Linux x86-64 values from shared/spec/block.md §10, and the
 * {@code struct flock} layout of §7.2.
 */
public final class Fcntl {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_DSYNC = 010000;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_GETLK = 5;
    public static final int F_SETLK = 6;
    public static final int F_OFD_GETLK = 36;
    public static final int F_OFD_SETLK = 37;

    public static final short F_RDLCK = 0;
    public static final short F_WRLCK = 1;
    public static final short F_UNLCK = 2;

    public static final int SEEK_SET = 0;
    public static final int SEEK_END = 2;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int FALLOC_FL_KEEP_SIZE = 1;
    public static final int FALLOC_FL_PUNCH_HOLE = 2;
    public static final int FALLOC_FL_ZERO_RANGE = 16;

    public static final int POSIX_FADV_DONTNEED = 4;

    private Fcntl() {
    }

    /**
     * A {@code struct flock} in native memory (32 bytes: l_type s16 @0, l_whence s16 @2,
     * l_start s64 @8, l_len s64 @16, l_pid s32 @24). OFD requests need l_pid = 0 (EINVAL
     * otherwise), so it is always written as 0.
     */
    public static final class Flock {
        public static final int SIZE = 32;
        private final Memory memory = new Memory(SIZE);

        public Flock set(short type, long start, long len) {
            memory.clear();
            memory.setShort(0, type);
            memory.setShort(2, (short) SEEK_SET);
            memory.setLong(8, start);
            memory.setLong(16, len);
            memory.setInt(24, 0);
            return this;
        }

        public short type() {
            return memory.getShort(0);
        }

        public int pid() {
            return memory.getInt(24);
        }

        public long address() {
            return Pointer.nativeValue(memory);
        }
    }
}
