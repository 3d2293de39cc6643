package dev.ioemu.bios;

import java.nio.ByteBuffer;

/**
 * A hard disk as the INT 13h services see it: 512-byte sectors, its geometries, and transfers
 * that return a value (bytes, or a negative errno as {@code dev.ioemu.devices.block.BlockDevice}
 * does). Calls run on the vCPU thread and return when the transfer has completed.
 */
public interface BiosDrive {
    int SECTOR_SIZE = 512;

    /** For messages and traces. */
    String name();

    long totalSectors();

    boolean isReadOnly();

    DiskGeometry geometry();

    /** The drive's IDE position (DPTE, EDD device path). */
    AtaLocation location();

    /** Reads {@code dst.remaining()} bytes at sector {@code lba}: bytes read or -errno. */
    int read(long lba, ByteBuffer dst);

    /** Writes {@code src.remaining()} bytes at sector {@code lba}: bytes written or -errno. */
    int write(long lba, ByteBuffer src);
}
