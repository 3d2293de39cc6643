package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.*;

import dev.ioemu.devices.block.BlockCompletion;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.BlockStatus;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DiscardMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import java.nio.ByteBuffer;

/**
 * A disk image on an NBD server (shared/spec/nbd.md): the block layer's operations mapped onto
 * one {@link NbdConnection}, so device models cannot tell it from a local file.
 * <ul>
 *   <li>read/write split at the server's maximum payload (at most 32 MiB, as QEMU's client);
 *       unaligned ranges, when the server asks for a minimum block above 1, go through an
 *       aligned bounce (reads) or read-modify-write under a lock (writes).</li>
 *   <li>flush → {@code NBD_CMD_FLUSH}. The block layer's contract (a flush covers the writes that
 *       completed before it) is the protocol's (a flush covers the writes already answered), so
 *       nothing needs draining. A server without {@code SEND_FLUSH} offers no durability; flush
 *       is then a successful no-op, as in QEMU. As QEMU does, {@code cache=unsafe} still sends
 *       flushes (they are flush-to-OS requests in QEMU's block layer, §2.3).</li>
 *   <li>Write cache off (IDE WCE=0) or a writethrough/directsync mode: every write carries
 *       {@code FUA}, or is followed by a flush where the server has no FUA.</li>
 *   <li>discard → {@code TRIM} with {@code discard=unmap} and server support, else a no-op;
 *       write-zeroes → {@code WRITE_ZEROES} (with {@code NO_HOLE} unless unmapping is allowed),
 *       else zeros written.</li>
 *   <li>Errors come back as the protocol's errno values. A lost connection is {@link NbdClient}'s
 *       business: with {@code reconnect-delay} requests wait and are re-sent, else they fail with
 *       EIO while it reconnects in the background.</li>
 *   <li>block status → {@code NBD_CMD_BLOCK_STATUS} in the {@code base:allocation} context: an
 *       extent that is a hole and reads as zeros ({@code HOLE|ZERO}) is a hole, anything else data,
 *       so a copy never skips bytes the server did not promise are zero. Without the context
 *       (nbd-server) everything is data, QEMU's "unknown".</li>
 * </ul>
 * Asynchronous submission ({@link #readAsync}, {@link #writeAsync}, {@link #flushAsync}): a read
 * or write that is one aligned request, and a flush, go on the wire at once and complete on the
 * thread that reads the reply (shared/spec/nbd.md §2.2); anything else runs the blocking path.
 * Page-cache choices (none, fadvise) belong to the server (qemu-nbd --cache, nbdkit cache=); the
 * cache mode here only decides FUA and flush.
 */
public final class NbdBlockDevice implements BlockDevice {
    private final String name;
    private final NbdClient connection;
    private final NbdConnection.Export export;
    private final CacheMode mode;
    private final boolean readOnly;
    private final DiscardMode discard;
    private final BlockStats stats = new BlockStats();
    private final Object rmwLock = new Object();
    private volatile boolean writeCache;

    private NbdBlockDevice(String name, NbdClient connection, DriveOptions options) {
        this.name = name;
        this.connection = connection;
        this.export = connection.export();
        this.mode = options.cache();
        this.readOnly = options.readOnly() || export.has(FLAG_READ_ONLY);
        this.discard = options.discard();
        this.writeCache = options.cache().writeback;
    }

    /**
     * Connects to the export {@code options.file()} names.
     *
     * @throws BlockOpenException "Failed to connect to 'unix:/x': Connection refused",
     *         "Requested export not available", "Could not open 'nbd://…': the export is read-only"
     */
    public static BlockDevice open(DriveOptions options) throws BlockOpenException {
        NbdUri uri;
        try {
            uri = NbdUri.parse(options.file());
        } catch (IllegalArgumentException e) {
            throw new BlockOpenException(e.getMessage(), "", Errno.EINVAL);
        }
        NbdClient c;
        try {
            c = NbdClient.open(uri, !options.readOnly());
        } catch (NbdException e) {
            throw new BlockOpenException(e.getMessage(), "", Errno.EIO);
        }
        if (!options.readOnly() && c.export().has(FLAG_READ_ONLY)) {
            c.close();
            throw new BlockOpenException("Could not open '" + options.file() + "': the NBD export is read-only",
                    "Use readonly=on", Errno.EROFS);
        }
        NbdBlockDevice dev = new NbdBlockDevice(options.file(), c, options);
        if (TraceEvent.BLK_OPEN.enabled) {
            Trace.emit(TraceEvent.BLK_OPEN, dev.name, dev.mode, dev.readOnly ? 1 : 0, dev.export.size(),
                    dev.export.minimumBlock(), 1, "nbd");
        }
        return dev;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return export.size();
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public CacheMode cacheMode() {
        return mode;
    }

    @Override
    public int requestAlignment() {
        return export.minimumBlock();
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        long t0 = System.nanoTime();
        int length = dst.remaining();
        int r = offset < 0 ? -Errno.EINVAL : readAt(offset, dst);
        finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, r, t0);
        return r;
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        long t0 = System.nanoTime();
        int length = src.remaining();
        int r;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (offset < 0 || offset + length > export.size()) {
            r = -Errno.EINVAL;
        } else {
            r = writeAt(offset, src);
            if (r >= 0 && fuaWanted() && !export.has(FLAG_SEND_FUA)) {
                int f = flushRequest();
                r = f < 0 ? f : r;
            }
        }
        finish(BlockStats.Kind.WRITE, TraceEvent.BLK_WRITE, offset, length, r, t0);
        return r;
    }

    @Override
    public int flush() {
        long t0 = System.nanoTime();
        int r = readOnly ? 0 : flushRequest();
        long nanos = System.nanoTime() - t0;
        stats.record(BlockStats.Kind.FLUSH, 0, r, nanos);
        if (TraceEvent.BLK_FLUSH.enabled) {
            Trace.emit(TraceEvent.BLK_FLUSH, name, mode, r, nanos);
        }
        return r;
    }

    @Override
    public int discard(long offset, long length) {
        long t0 = System.nanoTime();
        int r = 0;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (discard == DiscardMode.UNMAP && export.has(FLAG_SEND_TRIM)) {
            r = ranged(CMD_TRIM, 0, offset, length);
        }
        finish(BlockStats.Kind.DISCARD, TraceEvent.BLK_DISCARD, offset, length, r, t0);
        return r;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        long t0 = System.nanoTime();
        int r;
        if (readOnly) {
            r = -Errno.EROFS;
        } else if (offset < 0 || length < 0 || offset + length > export.size()) {
            r = -Errno.EINVAL;
        } else if (export.has(FLAG_SEND_WRITE_ZEROES) && aligned(offset) && aligned(length)) {
            int flags = (discard == DiscardMode.UNMAP ? 0 : CMD_FLAG_NO_HOLE)
                    | (fuaWanted() && export.has(FLAG_SEND_FUA) ? CMD_FLAG_FUA : 0);
            r = ranged(CMD_WRITE_ZEROES, flags, offset, length);
        } else {
            r = writeZeroBuffers(offset, length);
        }
        finish(BlockStats.Kind.WRITE_ZEROES, TraceEvent.BLK_WRITE_ZEROES, offset, length, r, t0);
        return r;
    }

    @Override
    public BlockStatus blockStatus(long offset, long length) {
        if (offset < 0 || offset >= size() || length <= 0) {
            return BlockDevice.super.blockStatus(offset, length); // throws with the contract's message
        }
        long n = Math.min(length, size() - offset);
        // BLOCK_STATUS lengths are u32 and multiples of the minimum block (§1.3).
        int ask = (int) Math.min(n, (Integer.MAX_VALUE / export.minimumBlock()) * (long) export.minimumBlock());
        int[] result = new int[1];
        NbdConnection.Extent e = aligned(offset) ? connection.blockStatus(offset, ask, result) : null;
        if (e == null) {
            // No allocation context, an unaligned offset or an error: QEMU's "unknown" is data.
            return new BlockStatus(offset, n, true);
        }
        boolean hole = (e.flags() & (STATE_HOLE | STATE_ZERO)) == (STATE_HOLE | STATE_ZERO);
        return new BlockStatus(offset, Math.min(e.length(), n), !hole);
    }

    /** Single-request reads and writes, and flushes, go on the wire without a thread of their own. */
    @Override
    public boolean hasAsyncSubmit() {
        return true;
    }

    @Override
    public void readAsync(long offset, ByteBuffer dst, BlockCompletion done) {
        int length = dst.remaining();
        if (!oneRequest(offset, length)) {
            done.complete(read(offset, dst)); // bounce, split or zero tail: the general path
            return;
        }
        long t0 = System.nanoTime();
        connection.requestAsync(CMD_READ, 0, offset, length, null, dst.duplicate(), r -> {
            int ret = r < 0 ? r : length;
            finish(BlockStats.Kind.READ, TraceEvent.BLK_READ, offset, length, ret, t0);
            done.complete(ret);
        });
    }

    @Override
    public void writeAsync(long offset, ByteBuffer src, BlockCompletion done) {
        int length = src.remaining();
        if (readOnly || !oneRequest(offset, length) || fuaWanted() && !export.has(FLAG_SEND_FUA)) {
            done.complete(write(offset, src)); // refused, bounced, split or WRITE + FLUSH: the general path
            return;
        }
        long t0 = System.nanoTime();
        int flags = fuaWanted() ? CMD_FLAG_FUA : 0;
        connection.requestAsync(CMD_WRITE, flags, offset, length, src.duplicate(), null, r -> {
            int ret = r < 0 ? r : length;
            finish(BlockStats.Kind.WRITE, TraceEvent.BLK_WRITE, offset, length, ret, t0);
            done.complete(ret);
        });
    }

    @Override
    public void flushAsync(BlockCompletion done) {
        if (readOnly || !export.has(FLAG_SEND_FLUSH)) {
            done.complete(flush());
            return;
        }
        long t0 = System.nanoTime();
        connection.flushAsync(r -> {
            long nanos = System.nanoTime() - t0;
            stats.record(BlockStats.Kind.FLUSH, 0, r, nanos);
            if (TraceEvent.BLK_FLUSH.enabled) {
                Trace.emit(TraceEvent.BLK_FLUSH, name, mode, r, nanos);
            }
            done.complete(r);
        });
    }

    /** True when the range is one aligned request inside the export within the maximum payload. */
    private boolean oneRequest(long offset, int length) {
        return offset >= 0 && length > 0 && length <= export.maximumPayload() && offset <= export.size() - length
                && aligned(offset) && aligned(length);
    }

    @Override
    public boolean isWriteCacheEnabled() {
        return writeCache;
    }

    @Override
    public void setWriteCacheEnabled(boolean enabled) {
        writeCache = enabled;
    }

    @Override
    public BlockStats stats() {
        return stats;
    }

    /** Soft disconnect; requests still running fail with EIO. */
    @Override
    public void close() {
        connection.close();
    }

    // -----------------------------------------------------------------------------------------

    private boolean fuaWanted() {
        return !writeCache || !mode.writeback;
    }

    private boolean aligned(long v) {
        return v % export.minimumBlock() == 0;
    }

    private int flushRequest() {
        return export.has(FLAG_SEND_FLUSH) ? connection.flush() : 0;
    }

    /** Reads dst.remaining() bytes; past the export's end reads as zeros, as from a file. */
    private int readAt(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        int inside = (int) Math.max(0, Math.min(length, export.size() - offset));
        for (int i = inside; i < length; i++) {
            dst.put(dst.position() + i, (byte) 0);
        }
        if (inside == 0) {
            return length;
        }
        if (!aligned(offset) || !aligned(inside)) {
            long start = offset / export.minimumBlock() * export.minimumBlock();
            long end = Math.min(export.size(), roundUp(offset + inside));
            ByteBuffer bounce = ByteBuffer.allocateDirect((int) (end - start));
            int r = split(CMD_READ, 0, start, bounce);
            if (r < 0) {
                return r;
            }
            dst.duplicate().limit(dst.position() + inside)
                    .put(bounce.position((int) (offset - start)).limit((int) (offset - start + inside)));
            return length;
        }
        int r = split(CMD_READ, 0, offset, dst.duplicate().limit(dst.position() + inside));
        return r < 0 ? r : length;
    }

    private int writeAt(long offset, ByteBuffer src) {
        int length = src.remaining();
        int flags = fuaWanted() && export.has(FLAG_SEND_FUA) ? CMD_FLAG_FUA : 0;
        if (aligned(offset) && aligned(length)) {
            int r = split(CMD_WRITE, flags, offset, src.duplicate());
            return r < 0 ? r : length;
        }
        synchronized (rmwLock) {
            long start = offset / export.minimumBlock() * export.minimumBlock();
            long end = roundUp(offset + length);
            ByteBuffer bounce = ByteBuffer.allocateDirect((int) (end - start));
            int r = split(CMD_READ, 0, start, bounce.duplicate());
            if (r < 0) {
                return r;
            }
            bounce.duplicate().position((int) (offset - start)).put(src.duplicate());
            r = split(CMD_WRITE, flags, start, bounce.duplicate());
            return r < 0 ? r : length;
        }
    }

    /** One READ or WRITE per maximum payload; the first failure ends it. */
    private int split(int command, int flags, long offset, ByteBuffer buf) {
        int max = export.maximumPayload();
        int base = buf.position();
        int total = buf.remaining();
        for (int done = 0; done < total; ) {
            int n = Math.min(max, total - done);
            ByteBuffer piece = buf.duplicate().position(base + done).limit(base + done + n);
            int r = command == CMD_READ ? connection.request(CMD_READ, flags, offset + done, n, null, piece)
                    : connection.request(CMD_WRITE, flags, offset + done, n, piece, null);
            if (r < 0) {
                return r;
            }
            done += n;
        }
        return total;
    }

    /** TRIM or WRITE_ZEROES over a range of any length, in pieces a u32 length can carry. */
    private int ranged(int command, int flags, long offset, long length) {
        long max = (Integer.MAX_VALUE / export.minimumBlock()) * (long) export.minimumBlock();
        for (long done = 0; done < length; ) {
            long n = Math.min(max, length - done);
            int r = connection.request(command, flags, offset + done, (int) n, null, null);
            if (r < 0) {
                return r;
            }
            done += n;
        }
        return 0;
    }

    private int writeZeroBuffers(long offset, long length) {
        ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(length, 1 << 20));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            int r = writeAt(offset + done, zeros.duplicate().limit(n));
            if (r < 0) {
                return r;
            }
            done += n;
        }
        return 0;
    }

    private long roundUp(long v) {
        long m = export.minimumBlock();
        return (v + m - 1) / m * m;
    }

    private void finish(BlockStats.Kind kind, TraceEvent event, long offset, long length, int ret, long t0) {
        long nanos = System.nanoTime() - t0;
        stats.record(kind, length, ret, nanos);
        if (event.enabled) {
            Trace.emit(event, name, mode, offset, length, ret, nanos);
        }
    }
}
