package dev.ioemu.devices.bus;

import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest-physical address space: the one map that every CPU engine, every DMA engine
 * (bus-master IDE, the ISA DMA controllers, fw_cfg) and the qtest front end see. It holds
 * non-overlapping mappings of three kinds:
 * <ul>
 *   <li><b>RAM</b> — a window onto a {@link RamBlock}; reads and writes land in host memory;
 *   <li><b>ROM</b> — a window onto a {@link RamBlock} the machine filled (the BIOS, option ROMs);
 *       reads see it, guest writes are dropped, as QEMU's read-only RAM regions do. One block may
 *       be mapped twice (the BIOS at 0xe0000 and below 4 GiB);
 *   <li><b>MMIO</b> — a {@link MmioDevice}'s registers.
 * </ul>
 * Everything else is unassigned: reads return 0 and writes are dropped, both traced
 * ({@code unassigned_mem_read}/{@code _write}). Zero, not all-ones, is what QEMU 7.2's pc machine
 * answers there over qtest and to a bus-master DMA (observed: {@code read 0x8000000 16} above
 * 128 MiB of RAM, {@code read 0xc0000 16}, both all zeros).
 *
 * <p>Addresses are unsigned 64-bit and an access that runs past 2^64 wraps to 0 as in QEMU
 * ({@code write 0xffffffffffffffff 4 0x01020304} then {@code read 0 4} gives
 * {@code 0x02030400}); each byte goes where its own address leads. Multi-byte accessors are
 * little-endian.
 *
 * <p>Thread safety: the map is built while the machine is assembled and then only read (a
 * volatile array, replaced whole by {@link #map}). RAM is plain memory: a DMA worker and the
 * vCPU may touch it concurrently, as on hardware. MMIO callbacks run on the caller's thread; the
 * device locks itself.
 */
public final class AddressSpace implements PhysicalMemory {
    /** Told about guest-RAM writes made without a CPU (DMA, qtest, firmware loaders). */
    @FunctionalInterface
    public interface RamWriteListener {
        void ramWritten(long address, long length);
    }

    private final java.util.List<RamWriteListener> writeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Adds a listener (a CPU engine's code cache); it runs on the writing thread and must not block. */
    public void addRamWriteListener(RamWriteListener listener) {
        writeListeners.add(listener);
    }

    @Override
    public void ramWritten(long address, long length) {
        for (RamWriteListener l : writeListeners) {
            l.ramWritten(address, length);
        }
    }

    /** What a mapping is. */
    public enum Kind { RAM, ROM, MMIO }

    /**
     * One mapping: {@code size} bytes at guest-physical {@code start}. RAM and ROM mappings lie in
     * one chunk of their block ({@link #map} splits them), {@code buffer} is that chunk's view and
     * {@code bufferOffset} the mapping's first byte in it; MMIO mappings have a {@code device}.
     */
    public record Mapping(String name, Kind kind, long start, long size, RamBlock block, long blockOffset,
                          ByteBuffer buffer, int bufferOffset, MmioDevice device) {
        /** Last byte's address (inclusive), so a mapping may end at 2^64. */
        public long last() {
            return start + size - 1;
        }

        boolean contains(long address) {
            return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, last()) <= 0;
        }
    }

    /**
     * A piece of host memory the guest sees at {@code guestAddress}: one KVM memory slot
     * ({@code readOnly} for ROM, KVM_MEM_READONLY) or one window for a software CPU's fast path.
     */
    public record MemorySlot(String name, long guestAddress, long size, long hostAddress, ByteBuffer buffer,
                             int bufferOffset, boolean readOnly) {
    }

    private volatile Mapping[] mappings = new Mapping[0];   // sorted by start (unsigned), disjoint

    /** Maps {@code size} bytes of {@code block} from {@code blockOffset} as RAM at {@code start}. */
    public void mapRam(String name, long start, RamBlock block, long blockOffset, long size) {
        mapBlock(name, Kind.RAM, start, block, blockOffset, size);
    }

    /** Maps {@code size} bytes of {@code block} from {@code blockOffset} as ROM (writes dropped) at {@code start}. */
    public void mapRom(String name, long start, RamBlock block, long blockOffset, long size) {
        mapBlock(name, Kind.ROM, start, block, blockOffset, size);
    }

    /** Maps a device's registers at [start, start+size). */
    public synchronized void mapMmio(String name, long start, long size, MmioDevice device) {
        if (device == null) {
            throw new IllegalArgumentException("MMIO device for " + name + ": null");
        }
        insert(new Mapping(name, Kind.MMIO, start, size, null, 0, null, 0, device));
    }

    private synchronized void mapBlock(String name, Kind kind, long start, RamBlock block, long blockOffset, long size) {
        if (blockOffset < 0 || size <= 0 || blockOffset > block.size() - size) {
            throw new IllegalArgumentException(String.format("%s: bytes 0x%x+0x%x of %s (expected: inside its 0x%x bytes)",
                    name, blockOffset, size, block.name(), block.size()));
        }
        checkFree(name, start, size);
        // One mapping per chunk, so every mapping has one int-indexed buffer (and is one KVM slot).
        long done = 0;
        while (done < size) {
            RamBlock.Chunk chunk = block.chunkAt(blockOffset + done);
            long inChunk = blockOffset + done - chunk.offset();
            long length = Math.min(size - done, chunk.size() - inChunk);
            insert(new Mapping(name, kind, start + done, length, block, blockOffset + done,
                    chunk.buffer(), (int) inChunk, null));
            done += length;
        }
    }

    private void checkFree(String name, long start, long size) {
        if (size <= 0 || Long.compareUnsigned(start + size - 1, start) < 0) {
            throw new IllegalArgumentException(String.format("%s: 0x%x+0x%x (expected: a non-empty range below 2^64)",
                    name, start, size));
        }
        long last = start + size - 1;
        for (Mapping m : mappings) {
            if (Long.compareUnsigned(start, m.last()) <= 0 && Long.compareUnsigned(m.start(), last) <= 0) {
                throw new IllegalArgumentException(String.format(
                        "%s at 0x%x-0x%x overlaps %s at 0x%x-0x%x", name, start, last, m.name(), m.start(), m.last()));
            }
        }
    }

    private void insert(Mapping mapping) {
        checkFree(mapping.name(), mapping.start(), mapping.size());
        List<Mapping> list = new ArrayList<>(List.of(mappings));
        list.add(mapping);
        list.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        mappings = list.toArray(new Mapping[0]);
    }

    /** The mappings in address order (RAM/ROM split per chunk). */
    public List<Mapping> mappings() {
        return List.of(mappings);
    }

    /**
     * The RAM and ROM windows in address order, with their host addresses: what KVM registers as
     * memory slots and what a software CPU may access directly (ROM slots must not be written).
     */
    public List<MemorySlot> memorySlots() {
        List<MemorySlot> out = new ArrayList<>();
        for (Mapping m : mappings) {
            if (m.kind() != Kind.MMIO) {
                out.add(new MemorySlot(m.name(), m.start(), m.size(), m.block().hostAddress() + m.blockOffset(),
                        m.buffer(), m.bufferOffset(), m.kind() == Kind.ROM));
            }
        }
        return out;
    }

    /** The mapping holding {@code address}, or null if it is unassigned. */
    public Mapping find(long address) {
        Mapping[] ms = mappings;
        int lo = 0;
        int hi = ms.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Mapping m = ms[mid];
            if (Long.compareUnsigned(address, m.start()) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(address, m.last()) > 0) {
                lo = mid + 1;
            } else {
                return m;
            }
        }
        return null;
    }

    /**
     * Bytes from {@code address} up to the next mapping (at most {@code limit}), for an unassigned
     * address. Up to 2^64 and no further: the caller's loop wraps to 0.
     */
    private long unassignedRun(long address, long limit) {
        long run = limit;
        for (Mapping m : mappings) {
            if (Long.compareUnsigned(m.start(), address) > 0) {
                run = Math.min(run, m.start() - address);
                break;
            }
        }
        long toTop = -address;   // bytes up to 2^64; 0 means address is 0 and the whole space is ahead
        if (toTop != 0 && Long.compareUnsigned(toTop, run) < 0) {
            run = toTop;
        }
        return run;
    }

    private static long mappedRun(Mapping m, long address, long limit) {
        long left = m.last() - address + 1;   // 0 when the mapping ends at 2^64 and address is its start: use limit
        return left == 0 || Long.compareUnsigned(left, limit) > 0 ? limit : left;
    }

    @Override
    public boolean isRam(long address, long length) {
        if (length <= 0) {
            return length == 0;
        }
        Mapping m = find(address);
        // A RAM range split over two chunks of one block is still RAM.
        long a = address;
        long left = length;
        while (m != null && m.kind() == Kind.RAM) {
            long run = mappedRun(m, a, left);
            left -= run;
            if (left == 0) {
                return true;
            }
            a += run;
            if (a == 0) {
                return false;   // RAM does not wrap
            }
            m = find(a);
        }
        return false;
    }

    @Override
    public MemorySpan ramSpan(long address, int length) {
        Mapping m = find(address);
        if (m == null || m.kind() != Kind.RAM || length < 0 || Long.compareUnsigned(length, m.last() - address + 1) > 0) {
            return null;
        }
        return new MemorySpan(address, m.buffer(), m.bufferOffset() + (int) (address - m.start()), length);
    }

    @Override
    public void read(long address, byte[] dst, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        long a = address;
        int done = 0;
        while (done < len) {
            Mapping m = find(a);
            int run;
            if (m == null) {
                run = (int) unassignedRun(a, len - done);
                if (TraceEvent.UNASSIGNED_MEM_READ.enabled) {
                    Trace.emit(TraceEvent.UNASSIGNED_MEM_READ, a, run);
                }
                java.util.Arrays.fill(dst, off + done, off + done + run, (byte) 0);
            } else {
                run = (int) mappedRun(m, a, len - done);
                if (m.kind() == Kind.MMIO) {
                    mmioRead(m, a, dst, off + done, run);
                } else {
                    m.buffer().get(m.bufferOffset() + (int) (a - m.start()), dst, off + done, run);
                }
            }
            done += run;
            a += run;
        }
    }

    @Override
    public void write(long address, byte[] src, int off, int len) {
        if (!writeListeners.isEmpty()) {
            ramWritten(address, len);
        }
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        long a = address;
        int done = 0;
        while (done < len) {
            Mapping m = find(a);
            int run;
            if (m == null) {
                run = (int) unassignedRun(a, len - done);
                if (TraceEvent.UNASSIGNED_MEM_WRITE.enabled) {
                    Trace.emit(TraceEvent.UNASSIGNED_MEM_WRITE, a, run);
                }
            } else {
                run = (int) mappedRun(m, a, len - done);
                switch (m.kind()) {
                    case RAM -> m.buffer().put(m.bufferOffset() + (int) (a - m.start()), src, off + done, run);
                    case MMIO -> mmioWrite(m, a, src, off + done, run);
                    case ROM -> {
                        // The guest writing its BIOS: dropped, the ROM keeps its bytes.
                    }
                }
            }
            done += run;
            a += run;
        }
    }

    /**
     * Fills {@code length} bytes from {@code address} with {@code value} (qtest's memset); ROM and
     * unassigned bytes are skipped as by {@link #write}.
     */
    public void fill(long address, long length, byte value) {
        if (!writeListeners.isEmpty()) {
            ramWritten(address, length);
        }
        byte[] block = new byte[(int) Math.min(Math.max(length, 0), 1 << 16)];
        java.util.Arrays.fill(block, value);
        long a = address;
        long left = length;
        while (left > 0) {
            int n = (int) Math.min(left, block.length);
            write(a, block, 0, n);
            a += n;
            left -= n;
        }
    }

    /** Splits an MMIO run into naturally aligned pieces of at most 8 bytes. */
    private static void mmioRead(Mapping m, long address, byte[] dst, int off, int len) {
        int done = 0;
        while (done < len) {
            long offset = address + done - m.start();
            int size = pieceSize(offset, len - done);
            long value = m.device().read(offset, size);
            for (int i = 0; i < size; i++) {
                dst[off + done + i] = (byte) (value >>> (8 * i));
            }
            done += size;
        }
    }

    private static void mmioWrite(Mapping m, long address, byte[] src, int off, int len) {
        int done = 0;
        while (done < len) {
            long offset = address + done - m.start();
            int size = pieceSize(offset, len - done);
            long value = 0;
            for (int i = 0; i < size; i++) {
                value |= (src[off + done + i] & 0xFFL) << (8 * i);
            }
            m.device().write(offset, size, value);
            done += size;
        }
    }

    private static int pieceSize(long offset, int remaining) {
        int size = Integer.highestOneBit(Math.min(remaining, 8));
        while (size > 1 && (offset & (size - 1)) != 0) {
            size >>= 1;
        }
        return size;
    }

    @Override
    public int readByte(long address) {
        return (int) readLittleEndian(address, 1);
    }

    @Override
    public int readWord(long address) {
        return (int) readLittleEndian(address, 2);
    }

    @Override
    public int readDword(long address) {
        return (int) readLittleEndian(address, 4);
    }

    public long readQword(long address) {
        return readLittleEndian(address, 8);
    }

    @Override
    public void writeByte(long address, int value) {
        writeLittleEndian(address, 1, value);
    }

    @Override
    public void writeWord(long address, int value) {
        writeLittleEndian(address, 2, value);
    }

    @Override
    public void writeDword(long address, int value) {
        writeLittleEndian(address, 4, value);
    }

    public void writeQword(long address, long value) {
        writeLittleEndian(address, 8, value);
    }

    private long readLittleEndian(long address, int size) {
        Mapping m = find(address);
        if (m != null && m.kind() != Kind.MMIO && Long.compareUnsigned(size - 1, m.last() - address) <= 0) {
            ByteBuffer b = m.buffer();
            int i = m.bufferOffset() + (int) (address - m.start());
            return switch (size) {
                case 1 -> b.get(i) & 0xFFL;
                case 2 -> b.getShort(i) & 0xFFFFL;
                case 4 -> b.getInt(i) & 0xFFFF_FFFFL;
                default -> b.getLong(i);
            };
        }
        byte[] bytes = new byte[size];
        read(address, bytes, 0, size);
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (bytes[i] & 0xFFL) << (8 * i);
        }
        return value;
    }

    private void writeLittleEndian(long address, int size, long value) {
        Mapping m = find(address);
        if (m != null && m.kind() == Kind.RAM && Long.compareUnsigned(size - 1, m.last() - address) <= 0) {
            ByteBuffer b = m.buffer();
            int i = m.bufferOffset() + (int) (address - m.start());
            switch (size) {
                case 1 -> b.put(i, (byte) value);
                case 2 -> b.putShort(i, (short) value);
                case 4 -> b.putInt(i, (int) value);
                default -> b.putLong(i, value);
            }
            return;
        }
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        write(address, bytes, 0, size);
    }
}
