package dev.ioemu.bios;

import dev.ioemu.devices.host.Errno;

import java.nio.ByteBuffer;

/** A data-less drive of any size for geometry tests: reads return zeros, writes are refused. */
final class MemoryDrive implements BiosDrive {
    private final DiskGeometry geometry;

    MemoryDrive(DiskGeometry geometry) {
        this.geometry = geometry;
    }

    @Override public String name() { return "memory"; }
    @Override public long totalSectors() { return geometry.totalSectors(); }
    @Override public boolean isReadOnly() { return true; }
    @Override public DiskGeometry geometry() { return geometry; }
    @Override public AtaLocation location() { return AtaLocation.piix3(0, 0); }

    @Override
    public int read(long lba, ByteBuffer dst) {
        int n = dst.remaining();
        dst.duplicate().put(new byte[n]);
        return n;
    }

    @Override
    public int write(long lba, ByteBuffer src) {
        return -Errno.EROFS;
    }
}
