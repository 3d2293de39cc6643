package dev.ioemu.devices.bus;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Mman;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A block of host memory that backs guest RAM or ROM: one anonymous private mapping
 * ({@code mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)}), zero-filled and page aligned, so its
 * size is bounded by the host (pages are committed when the guest first touches them), not by the
 * JVM's direct-memory limit, and KVM can map it as it is (shared/spec/kvm.md §5.9).
 *
 * <p>The block is seen as {@link Chunk}s of at most {@link #MAX_CHUNK} bytes: each chunk is one
 * KVM memory slot and one direct {@link ByteBuffer} (whose indices are ints). A chunk's
 * {@link Chunk#hostAddress()} and {@link Chunk#buffer()} are how KVM
 * ({@code KVM_SET_USER_MEMORY_REGION}) and a software CPU's fast path reach guest memory without
 * going through {@link AddressSpace}; both stay valid until {@link #close()}.
 *
 * <p>Thread safety: plain memory, like RAM. The mapping is never moved; {@link #close()} is only
 * called when no engine runs.
 */
public final class RamBlock implements AutoCloseable {
    /** Largest chunk: one KVM memory slot, and within a ByteBuffer's int index. */
    public static final long MAX_CHUNK = 1L << 30;
    public static final long PAGE_SIZE = 4096;

    /**
     * One piece of the block: bytes [offset, offset+size) of the block at host address
     * {@code hostAddress}; {@code buffer} is a little-endian direct view of exactly those bytes
     * (position 0, capacity {@code size}). Callers must not change the buffer's position or limit
     * if they share it; take {@code buffer().duplicate()} for cursor-based use.
     */
    public record Chunk(long offset, long size, long hostAddress, ByteBuffer buffer) {
    }

    private final String name;
    private final long size;
    private final long hostAddress;
    private final List<Chunk> chunks;
    private boolean closed;

    private RamBlock(String name, long size, long hostAddress) {
        this.name = name;
        this.size = size;
        this.hostAddress = hostAddress;
        List<Chunk> list = new ArrayList<>();
        for (long offset = 0; offset < size; offset += MAX_CHUNK) {
            long length = Math.min(MAX_CHUNK, size - offset);
            ByteBuffer view = new Pointer(hostAddress + offset).getByteBuffer(0, length).order(ByteOrder.LITTLE_ENDIAN);
            list.add(new Chunk(offset, length, hostAddress + offset, view));
        }
        this.chunks = List.copyOf(list);
    }

    /**
     * Maps {@code size} bytes of zeroed host memory.
     *
     * @param name what the memory is for, used in messages ("pc.ram", "pc.bios")
     * @throws IllegalArgumentException if size is not a positive multiple of {@link #PAGE_SIZE}
     * @throws MemoryAllocationException if the host refuses the mapping
     */
    public static RamBlock allocate(String name, long size) {
        if (size <= 0 || size % PAGE_SIZE != 0) {
            throw new IllegalArgumentException(name + " size: " + size + " (expected: a positive multiple of 4096)");
        }
        long address;
        try {
            address = LibC.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_NORESERVE, -1, 0);
        } catch (LastErrorException e) {
            throw new MemoryAllocationException(String.format("cannot allocate %s: %d MiB (%s)",
                    name, size >> 20, Errno.strerror(e.getErrorCode())));
        }
        if (address == Mman.MAP_FAILED) {
            throw new MemoryAllocationException("cannot allocate " + name + ": " + (size >> 20) + " MiB");
        }
        return new RamBlock(name, size, address);
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /** Host virtual address of byte 0 (page aligned); the block is contiguous in the host. */
    public long hostAddress() {
        return hostAddress;
    }

    /** The chunks in order of offset; each at most {@link #MAX_CHUNK} bytes. */
    public List<Chunk> chunks() {
        return chunks;
    }

    /** The chunk holding byte {@code offset} of the block. */
    public Chunk chunkAt(long offset) {
        if (offset < 0 || offset >= size) {
            throw new IndexOutOfBoundsException("offset 0x" + Long.toHexString(offset) + " outside " + name
                    + " (size 0x" + Long.toHexString(size) + ")");
        }
        return chunks.get((int) (offset / MAX_CHUNK));
    }

    /** Zeroes the whole block and gives its pages back to the host (system reset of RAM is not this; tests use it). */
    public void discard() {
        LibC.madvise(hostAddress, size, Mman.MADV_DONTNEED);
    }

    /** Unmaps the block. Every chunk, buffer and host address becomes invalid. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.munmap(hostAddress, size);
        }
    }
}
