package dev.ioemu.devices.block;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Page-aligned direct buffers for O_DIRECT bounces and read-modify-write scratch
 * (shared/spec/block.md §4.3, §11.2): a Netty {@link PooledByteBufAllocator} built with
 * {@code directMemoryCacheAlignment}, so every buffer's memory address is a multiple of
 * {@link Settings#alignment()} (guaranteed since Netty 4.1.61, with aligned size classes since
 * 4.1.73). The pool is constructed explicitly: Netty's default allocator has no alignment.
 *
 * <p><b>Ownership:</b> {@link #acquire} hands the caller a buffer it owns; the owner gives it back
 * with {@link #release} in a {@code finally}. {@link #outstanding()} counts buffers acquired and
 * not yet released, so a test can fail on a leak.
 *
 * <p>Thread safety: all methods may be called from any thread.
 */
public final class AlignedBufferPool {
    private static final Logger LOG = LoggerFactory.getLogger(AlignedBufferPool.class);

    /**
     * Allocator settings.
     *
     * @param alignment     address alignment of every buffer: a power of two, at most pageSize
     * @param pageSize      Netty page size: a power of two, at least 4096
     * @param maxOrder      chunk size = pageSize << maxOrder
     * @param directArenas  number of direct arenas (≥ 1)
     */
    public record Settings(int alignment, int pageSize, int maxOrder, int directArenas) {
        /** 4096-byte alignment (x86-64 page, the largest O_DIRECT memory alignment we meet), 4 MiB chunks. */
        public static final Settings DEFAULT = new Settings(4096, 8192, 9,
                Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));

        public Settings {
            if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
                throw new IllegalArgumentException("alignment: " + alignment + " (expected: a power of two)");
            }
            if (pageSize < 4096 || Integer.bitCount(pageSize) != 1) {
                throw new IllegalArgumentException("pageSize: " + pageSize + " (expected: a power of two ≥ 4096)");
            }
            if (alignment > pageSize) {
                throw new IllegalArgumentException("alignment: " + alignment + " (expected: ≤ pageSize " + pageSize
                        + "; Netty cannot align beyond its page size)");
            }
            if (maxOrder < 0 || maxOrder > 14) {
                throw new IllegalArgumentException("maxOrder: " + maxOrder + " (expected: 0..14)");
            }
            if (directArenas < 1) {
                throw new IllegalArgumentException("directArenas: " + directArenas + " (expected: ≥ 1)");
            }
        }
    }

    private static final class Shared {
        static final AlignedBufferPool INSTANCE = new AlignedBufferPool(Settings.DEFAULT);
    }

    /** Buffers outstanding in every pool of the process, for test-wide leak checks. */
    private static final AtomicInteger OUTSTANDING_IN_ALL_POOLS = new AtomicInteger();

    private final Settings settings;
    /** Made on first {@link #acquire}: Netty's start-up costs a VM start that never bounces. */
    private volatile PooledByteBufAllocator allocator;
    private final AtomicInteger outstanding = new AtomicInteger();

    public AlignedBufferPool(Settings settings) {
        this.settings = settings;
    }

    /**
     * @throws UnsupportedOperationException if Netty cannot align direct memory on this JVM
     *         (it needs sun.misc.Unsafe)
     */
    private PooledByteBufAllocator allocator() {
        PooledByteBufAllocator a = allocator;
        if (a != null) {
            return a;
        }
        synchronized (this) {
            if (allocator == null) {
                if (!PooledByteBufAllocator.isDirectMemoryCacheAlignmentSupported()) {
                    throw new UnsupportedOperationException("directMemoryCacheAlignment: unsupported on this JVM "
                            + "(expected: sun.misc.Unsafe available to Netty; see block.md §11.2)");
                }
                allocator = new PooledByteBufAllocator(true, 0, settings.directArenas(), settings.pageSize(),
                        settings.maxOrder(), 256, 64, true, settings.alignment());
                // Debug, not info: a per-VM process prints nothing unless asked (QEMU prints nothing).
                LOG.debug("aligned buffer pool: {}", settings);
            }
            return allocator;
        }
    }

    /** The process-wide pool, created (and logged) on first use. */
    public static AlignedBufferPool shared() {
        return Shared.INSTANCE;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * A direct buffer of exactly {@code size} bytes capacity whose {@code memoryAddress()} is
     * aligned. The caller takes ownership and must {@link #release} it.
     */
    public ByteBuf acquire(int size) {
        ByteBuf buf = allocator().directBuffer(size, size);
        assert buf.hasMemoryAddress() && (buf.memoryAddress() & (settings.alignment() - 1)) == 0
                : "unaligned pooled buffer at 0x" + Long.toHexString(buf.memoryAddress());
        outstanding.incrementAndGet();
        OUTSTANDING_IN_ALL_POOLS.incrementAndGet();
        return buf;
    }

    /** Gives back a buffer obtained from {@link #acquire}; the caller must not use it afterwards. */
    public void release(ByteBuf buf) {
        buf.release();
        outstanding.decrementAndGet();
        OUTSTANDING_IN_ALL_POOLS.decrementAndGet();
    }

    /** Buffers acquired from this pool and not yet released. */
    public int outstanding() {
        return outstanding.get();
    }

    /** Buffers acquired from any pool of this process and not yet released. */
    public static int outstandingInAllPools() {
        return OUTSTANDING_IN_ALL_POOLS.get();
    }
}
