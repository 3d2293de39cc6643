package dev.ioemu.devices.host;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;

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
     * {@code struct flock} (x86-64: l_type s16, l_whence s16, l_start s64 @8, l_len s64 @16,
     * l_pid s32 @24; 32 bytes), laid out by JNA from the C field order. OFD requests need
     * l_pid = 0 (EINVAL otherwise), so it is always written as 0.
     */
    @Structure.FieldOrder({"l_type", "l_whence", "l_start", "l_len", "l_pid"})
    public static final class Flock extends Structure {
        public static final int SIZE = 32;

        public short l_type;
        public short l_whence;
        public long l_start;
        public long l_len;
        public int l_pid;

        public Flock() {
            if (size() != SIZE) {
                throw new IllegalStateException("struct flock: " + size() + " bytes (expected: " + SIZE + " on x86-64)");
            }
        }

        /** Fills the structure for F_OFD_SETLK/F_OFD_GETLK and copies it to native memory. */
        public Flock set(short type, long start, long len) {
            l_type = type;
            l_whence = (short) SEEK_SET;
            l_start = start;
            l_len = len;
            l_pid = 0;
            write();
            return this;
        }

        /** l_type as the kernel left it (F_UNLCK after F_OFD_GETLK when nothing conflicts). */
        public short type() {
            read();
            return l_type;
        }

        public int pid() {
            read();
            return l_pid;
        }

        /** Native address to pass as fcntl's argument. */
        public long address() {
            return Pointer.nativeValue(getPointer());
        }
    }
}
