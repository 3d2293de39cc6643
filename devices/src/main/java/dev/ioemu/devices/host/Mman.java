package dev.ioemu.devices.host;

/**
 * Constants of {@code <sys/mman.h>} (x86-64): the page-cache residency check of
 * shared/spec/block.md §2.3 and guest RAM (anonymous, private, not reserved against swap).
 */
public final class Mman {
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MAP_ANONYMOUS = 0x20;
    /** Do not reserve swap: {@code -m} is bounded by what the guest touches, as in QEMU. */
    public static final int MAP_NORESERVE = 0x4000;
    public static final long MAP_FAILED = -1L;

    public static final int MADV_DONTNEED = 4;

    private Mman() {
    }
}
