package dev.ioemu.bios;

import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * An IDE disk as INT 13h reaches it: through the drive's own ordered request queue, the
 * {@link BlockAio} the IDE device uses (issue 9), so an INT 13h write issued after an IDE DMA
 * write can never overtake it, and statistics, cache mode, write-cache setting and {@code blk_*}
 * traces are the same on both paths. Each call submits one request and waits for its completion
 * on the calling vCPU thread (the guest is inside INT 13h and cannot run meanwhile).
 */
public final class Int13Disk implements BiosDrive {
    /**
     * What an INT 13h write owes the host (issue 11): {@code SYNC} completes the call only once
     * the data is durable and visible below the host page cache, through the drive's flush for
     * its cache mode (fdatasync; fadvise also drops the pages; nothing in unsafe); {@code CACHE}
     * leaves it in the cache as QEMU + SeaBIOS do. Boot loaders and DOS assume a sector written
     * by INT 13h is on the disk when the call returns; nothing in the firmware path flushes.
     */
    public enum FirmwareWrites {
        SYNC, CACHE;

        /** The {@code -drive firmware-writes=} value; null means the default, sync. */
        public static FirmwareWrites parse(String value) {
            if (value == null || value.equals("sync")) {
                return SYNC;
            }
            if (value.equals("cache")) {
                return CACHE;
            }
            throw new IllegalArgumentException("firmware-writes=" + value + " (expected: sync or cache)");
        }
    }

    private final BlockAio queue;
    private final BlockDevice device;
    private final AtaLocation location;
    private final DiskGeometry geometry;
    private final FirmwareWrites firmwareWrites;
    /**
     * The errno of the first firmware flush that failed, 0 while none has: from then on every
     * INT 13h write fails with it (CCh), whatever a later flush says. Written data may have been
     * lost with that flush, so the firmware can never again promise durability on this drive —
     * the block layer latches its own fdatasync errors the same way, and this also holds for a
     * backend or an injected fault that fails only once. vCPU thread only.
     */
    private int failedFlushErrno;

    private Int13Disk(BlockAio queue, AtaLocation location, DiskGeometry geometry, FirmwareWrites firmwareWrites) {
        this.firmwareWrites = firmwareWrites;
        this.queue = queue;
        this.device = queue.device();
        this.location = location;
        this.geometry = geometry;
    }

    /**
     * Attaches to a drive's queue and computes its geometry from the image's first sector.
     *
     * @param biosChs the {@code bios-chs} option, or null
     */
    public static Int13Disk attach(BlockAio queue, AtaLocation location, Chs biosChs, DiskGeometry.Policy policy) {
        return attach(queue, location, biosChs, policy, FirmwareWrites.SYNC);
    }

    /** As {@link #attach(BlockAio, AtaLocation, Chs, DiskGeometry.Policy)}, with the write policy. */
    public static Int13Disk attach(BlockAio queue, AtaLocation location, Chs biosChs, DiskGeometry.Policy policy,
                                   FirmwareWrites firmwareWrites) {
        long total = queue.device().size() / SECTOR_SIZE;
        byte[] sector0 = new byte[SECTOR_SIZE];
        int r = total > 0 ? submitAndWait(queue, true, 0, ByteBuffer.wrap(sector0)) : -Errno.EIO;
        DiskGeometry g = DiskGeometry.of(total, r == SECTOR_SIZE ? sector0 : null, biosChs, policy);
        if (TraceEvent.INT13_GEOMETRY.enabled) {
            Trace.emit(TraceEvent.INT13_GEOMETRY, queue.device().name(), g.physical().cylinders(), g.physical().heads(),
                    g.physical().sectors(), g.logical().cylinders(), g.logical().heads(), g.logical().sectors(),
                    g.translation());
        }
        if (TraceEvent.INT13_DRIVE.enabled) {
            Trace.emit(TraceEvent.INT13_DRIVE, queue.device().name(), firmwareWrites.name().toLowerCase());
        }
        return new Int13Disk(queue, location, g, firmwareWrites);
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public long totalSectors() {
        return geometry.totalSectors();
    }

    @Override
    public boolean isReadOnly() {
        return device.isReadOnly();
    }

    @Override
    public DiskGeometry geometry() {
        return geometry;
    }

    @Override
    public AtaLocation location() {
        return location;
    }

    @Override
    public int read(long lba, ByteBuffer dst) {
        return submitAndWait(queue, true, lba * SECTOR_SIZE, dst);
    }

    @Override
    public int write(long lba, ByteBuffer src) {
        if (firmwareWrites == FirmwareWrites.CACHE) {
            return submitAndWait(queue, false, lba * SECTOR_SIZE, src);
        }
        // The flush is queued right behind the write: the drive's queue runs them in order, so it
        // covers the write, and the vCPU thread waits for the I/O thread once, not twice. A
        // failed flush is the call's failure (CCh) and sticky: every later write fails too.
        int bytes = src.remaining();
        CompletableFuture<Integer> written = new CompletableFuture<>();
        CompletableFuture<Integer> flushed = new CompletableFuture<>();
        // What the flush adds, on the I/O thread: from the write's completion to the flush's (the
        // vCPU's wake-up is paid once either way). Published to this thread by the futures.
        long[] doneAt = new long[2];
        queue.write(lba * SECTOR_SIZE, src, r -> {
            doneAt[0] = System.nanoTime();
            written.complete(r);
        });
        queue.flush(r -> {
            doneAt[1] = System.nanoTime();
            flushed.complete(r);
        });
        int w = await(written);
        int ret = await(flushed);
        long syncNanos = doneAt[1] - doneAt[0];
        if (ret < 0 && failedFlushErrno == 0) {
            failedFlushErrno = -ret;
        } else if (ret >= 0 && failedFlushErrno != 0) {
            ret = -failedFlushErrno;
        }
        if (TraceEvent.INT13_SYNC.enabled) {
            Trace.emit(TraceEvent.INT13_SYNC, device.name(), lba, bytes, ret == 0 ? 1 : 0, ret, syncNanos);
        }
        return w < 0 ? w : ret < 0 ? ret : w;
    }

    public FirmwareWrites firmwareWrites() {
        return firmwareWrites;
    }

    private static int submitAndWait(BlockAio queue, boolean read, long offset, ByteBuffer buf) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        if (read) {
            queue.read(offset, buf, done::complete);
        } else {
            queue.write(offset, buf, done::complete);
        }
        return await(done);
    }

    /** Waits for a completion whatever interrupts arrive: the buffer must not be reused under the I/O thread. */
    private static int await(CompletableFuture<Integer> done) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return done.get();
                } catch (InterruptedException e) {
                    // The request is in the queue and will complete; finish waiting for it so
                    // the buffer is not reused under the I/O thread.
                    interrupted = true;
                } catch (ExecutionException e) {
                    return -Errno.EIO;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
