package dev.ioemu.devices.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The glibc calls the block layer makes, bound with JNA direct mapping (shared/spec/block.md
 * §11.1: ~55 ns per call, no proxy). Signatures are the x86-64 SysV ones: size_t, ssize_t and
 * off_t are Java {@code long}, and pointers are passed as {@code long} addresses so the hot path
 * creates no {@code Pointer} objects. Constants live with their header: {@link Fcntl},
 * {@link LinuxFs}, {@link Statx}, {@link Mman}.
 *
 * <p>Calls that report failure through errno declare {@link LastErrorException}; its
 * {@code getErrorCode()} is the errno. {@link #posix_fadvise} returns the error number itself
 * and sets no errno, so it must not be treated as -1/errno.
 *
 * <p>{@code ioctl} and {@code fcntl} are variadic in C; binding them with one fixed pointer-sized
 * argument is the common practice on x86-64 (the callee reads only the argument it expects).
 */
public final class LibC {
    static {
        // Struct layouts, ioctl numbers and flag values in this package are the x86-64 Linux ones.
        if (!(Platform.isLinux() && Platform.isIntel() && Platform.is64Bit())) {
            throw new UnsupportedOperationException("platform: " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch") + " (expected: Linux x86-64; the constants in "
                    + "dev.ioemu.devices.host are arch-specific)");
        }
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
    }

    private LibC() {
    }

    public static native int open(String path, int flags, int mode) throws LastErrorException;

    public static native int close(int fd) throws LastErrorException;

    public static native long pread(int fd, long buf, long count, long offset) throws LastErrorException;

    public static native long pwrite(int fd, long buf, long count, long offset) throws LastErrorException;

    public static native int fdatasync(int fd) throws LastErrorException;

    public static native int fsync(int fd) throws LastErrorException;

    /** Returns 0 or a positive error number; errno is not set. */
    public static native int posix_fadvise(int fd, long offset, long len, int advice);

    public static native int fallocate(int fd, int mode, long offset, long len) throws LastErrorException;

    public static native int ftruncate(int fd, long length) throws LastErrorException;

    public static native long lseek(int fd, long offset, int whence) throws LastErrorException;

    /** {@code arg} is the address of the request's argument (an int, u64, or u64[2]). */
    public static native int ioctl(int fd, long request, long arg) throws LastErrorException;

    /** {@code arg} is the address of a {@code struct flock} ({@link Fcntl.Flock}) or an int value. */
    public static native int fcntl(int fd, int cmd, long arg) throws LastErrorException;

    /** Fills the 256-byte {@code struct statx} at {@code buf} ({@link Statx}). */
    public static native int statx(int dirfd, String path, int flags, int mask, long buf) throws LastErrorException;

    public static native long mmap(long addr, long length, int prot, int flags, int fd, long offset)
            throws LastErrorException;

    public static native int munmap(long addr, long length) throws LastErrorException;

    public static native int madvise(long addr, long length, int advice) throws LastErrorException;

    /** One byte per page of {@code [addr, addr+length)}; bit 0 set means resident. */
    public static native int mincore(long addr, long length, byte[] vec) throws LastErrorException;

    public static native int getpagesize();
}
