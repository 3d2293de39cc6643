package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import java.io.Closeable;
import java.nio.ByteBuffer;

/**
 * A disk image as device models see it: byte-addressed reads and writes of any offset and length,
 * flush, discard and write-zeroes. Backends never know which device uses them.
 *
 * <p><b>Results are values</b>: every operation returns the number of bytes transferred (or 0
 * for flush/discard/write-zeroes) on success, or a negative errno ({@link Errno}) on failure. No
 * host I/O error is thrown and none is swallowed. The calls block the calling thread; device
 * models run them on an I/O thread through {@link BlockAio} so the guest's thread never waits.
 *
 * <p>Buffers: the data moved is {@code buf.position()..buf.limit()}; positions are not changed.
 * A direct buffer whose address and range suit the image's alignment is used in place
 * (zero-copy); anything else goes through an aligned bounce buffer. The caller keeps ownership.
 *
 * <p>Thread safety: all methods may be called concurrently; overlapping requests that need
 * read-modify-write are serialised inside (shared/spec/block.md §4.2).
 */
public interface BlockDevice extends Closeable {
    /** The image file name, for messages and traces. */
    String name();

    /** Size in bytes. Reads past the end return zeros for the missing part; writes past the end fail with -EINVAL. */
    long size();

    boolean isReadOnly();

    CacheMode cacheMode();

    /** Offset/length alignment the host needs (1 for buffered modes). */
    int requestAlignment();

    /** Reads {@code dst.remaining()} bytes at {@code offset}; returns that count or -errno. */
    int read(long offset, ByteBuffer dst);

    /** Writes {@code src.remaining()} bytes at {@code offset}; returns that count or -errno. */
    int write(long offset, ByteBuffer src);

    /**
     * Makes every write that completed before this call durable as the cache mode promises.
     * Returns 0 or -errno; after a failed fdatasync on a buffered image every later flush fails
     * with the same errno (block.md §5.3).
     */
    int flush();

    /** Discards (TRIM) a range; a no-op returning 0 unless the image was opened with discard=unmap. */
    int discard(long offset, long length);

    /** Makes a range read back as zeros. */
    int writeZeroes(long offset, long length);

    /** The guest-visible write cache (IDE WCE). Off: every write completes only once durable. */
    boolean isWriteCacheEnabled();

    void setWriteCacheEnabled(boolean enabled);

    /**
     * The allocation status of the extent that starts at {@code offset}, at most {@code length}
     * bytes and never past {@link #size()} (shared/spec/block.md §9). Backends that cannot tell
     * report data, QEMU's "unknown"; {@code offset} must be below the size.
     */
    default BlockStatus blockStatus(long offset, long length) {
        if (offset < 0 || offset >= size() || length <= 0) {
            throw new IllegalArgumentException("block status: offset " + offset + ", length " + length
                    + " (expected: 0 ≤ offset < " + size() + ", length > 0)");
        }
        return new BlockStatus(offset, Math.min(length, size() - offset), true);
    }

    /** Bytes the image occupies on the host (st_blocks × 512 for a file), or -1 if unknown. */
    default long allocatedSize() {
        return -1;
    }

    /**
     * A layer above this device failed a flush with {@code errno} (positive) without calling
     * {@link #flush}: fault injection standing for a failed host flush. A device that latches
     * its own flush failures (block.md §5.3) latches this one too; others ignore it.
     */
    default void flushFailedAbove(int errno) {
    }

    /**
     * True when {@link #readAsync}, {@link #writeAsync} and {@link #flushAsync} return before the
     * request completes (the backend has its own queue: NBD, RBD), so one thread can keep many
     * requests in flight; false when they are the blocking calls run on the caller's thread.
     */
    default boolean hasAsyncSubmit() {
        return false;
    }

    /**
     * Reads as {@link #read} does; {@code done} runs once with the same result, on a backend
     * thread or on the caller's before this returns. {@code dst} is borrowed until then. The
     * default runs {@link #read} here.
     */
    default void readAsync(long offset, ByteBuffer dst, BlockCompletion done) {
        done.complete(read(offset, dst));
    }

    /** Writes as {@link #write} does, completing as {@link #readAsync} describes. */
    default void writeAsync(long offset, ByteBuffer src, BlockCompletion done) {
        done.complete(write(offset, src));
    }

    /**
     * Flushes as {@link #flush} does: covers every write whose completion ran before this call.
     * Completes as {@link #readAsync} describes.
     */
    default void flushAsync(BlockCompletion done) {
        done.complete(flush());
    }

    /** Live counters for query-blockstats and the trace tools. */
    BlockStats stats();

    /** Drains nothing (calls are synchronous) and releases the file, its locks and buffers. */
    @Override
    void close();
}
