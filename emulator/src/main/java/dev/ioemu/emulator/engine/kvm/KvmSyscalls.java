package dev.ioemu.emulator.engine.kvm;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The libc calls the KVM engine makes, bound by JNA direct mapping (shared/spec/kvm.md §5.1).
 * Unlike {@code devices.host.LibC} nothing here declares {@code LastErrorException}: KVM_RUN is
 * the hot path and returns -1/EINTR on every kick, so callers read {@link #errno()} after a -1
 * instead of paying for an exception. {@code ioctl} is variadic in C; the fixed
 * {@code (int, long, long)} signature is safe on x86-64 SysV (§5.1).
 */
final class KvmSyscalls {
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final long MAP_FAILED = -1L;
    /** The kick signal (§5.8); SIGUSR2 belongs to HotSpot. */
    static final int SIGUSR1 = 10;

    static {
        if (!(Platform.isLinux() && Platform.isIntel() && Platform.is64Bit())) {
            throw new UnsupportedOperationException("platform: " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch") + " (expected: Linux x86-64 for KVM)");
        }
        Native.register(KvmSyscalls.class, Platform.C_LIBRARY_NAME);
    }

    private KvmSyscalls() {
    }

    static native int open(String path, int flags);

    static native int close(int fd);

    /** {@code arg} is an int passed by value or the address of the request's struct. */
    static native int ioctl(int fd, long request, long arg);

    static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    static native int munmap(long addr, long length);

    static native long pthread_self();

    static native int pthread_kill(long thread, int sig);

    /** errno of this thread's last failed call above. */
    static int errno() {
        return Native.getLastError();
    }
}
