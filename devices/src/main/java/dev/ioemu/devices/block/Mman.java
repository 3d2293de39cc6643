package dev.ioemu.devices.block;

/** Constants of {@code <sys/mman.h>} (x86-64), for the page-cache residency check of shared/spec/block.md §2.3. */
public final class Mman {
    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int MAP_SHARED = 1;
    public static final long MAP_FAILED = -1L;

    private Mman() {
    }
}
