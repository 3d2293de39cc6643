package dev.ioemu.bios;

/**
 * The Extended BIOS Data Area (shared/spec/int13.md §9.3): 1 KiB at segment 9FC0h, as SeaBIOS
 * and Bochs place it. Byte 0 is its size in KiB; the fixed disk parameter tables of disks 80h and
 * 81h sit at 3Dh and 4Dh (§5.7); the AH=48h DPTE is rebuilt at {@link #DPTE} on each call, as
 * SeaBIOS rebuilds its static one.
 */
public final class Ebda {
    public static final int SEGMENT = 0x9FC0;
    public static final long BASE = (long) SEGMENT << 4;
    public static final int SIZE_KB = 1;
    public static final int FDPT_DISK0 = 0x3D;
    public static final int FDPT_DISK1 = 0x4D;
    public static final int FDPT_SIZE = 16;
    public static final int DPTE = 0x5D;
    public static final int DPTE_SIZE = 16;

    private Ebda() {
    }
}
