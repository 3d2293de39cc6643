package dev.ioemu.cpu;

import dev.ioemu.devices.bus.PhysicalMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The CPU's view of guest-physical memory, built for speed: a page map over the 32-bit physical
 * space sends RAM (and ROM reads) straight to direct little-endian {@link ByteBuffer} chunks of
 * at most 1 GiB (guest RAM is an mmap'd region split into such chunks); everything else goes to
 * the {@link MemoryBus} slow path. The A20 gate and the model's address width mask every CPU
 * access. Writes to a page that holds decoded code notify the CPU's decode cache.
 *
 * <p>It also implements {@link PhysicalMemory} (firmware services and DMA): those accesses use
 * physical addresses as given, without the A20 mask.
 */
public final class CpuMemory implements PhysicalMemory {
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** Largest RAM chunk one buffer may cover. */
    public static final long MAX_CHUNK = 1L << 30;
    private static final int PAGES = 1 << (32 - PAGE_SHIFT);
    private static final int SLOW = -1;
    private static final int READ_ONLY = 1 << 30;
    private static final int CHUNK_SHIFT = 18;     // page index within a chunk: 18 bits (1 GiB)
    private static final int PAGE_IN_CHUNK = (1 << CHUNK_SHIFT) - 1;
    private static final int A20_BIT = 1 << 20;

    /** Per 4 KiB page: SLOW, or chunk index << 18 | page in chunk, plus READ_ONLY for ROM. */
    private final int[] pageMap = new int[PAGES];
    private final ByteBuffer[] chunks = new ByteBuffer[256];
    private int chunkCount;
    private final MemoryBus slow;
    /** One bit per page that holds decoded instructions. */
    private final long[] codePages = new long[PAGES / 64];
    private CodeWriteListener codeListener;
    /** Told when the linear-to-physical mapping or the page map changes (A20, RAM, ROM, MMIO). */
    private Runnable mappingListener = () -> { };
    private long modelMask = 0xFFFF_FFFFL;
    private boolean a20 = true;
    private int mask = -1;
    /**
     * Set by every CPU access that went to the slow path (a device may have raised an interrupt
     * or asked the CPU to stop); compiled traces clear it on entry and leave when it is set.
     */
    boolean slowAccess;

    /** Told when a page with decoded instructions is written (self-modifying/relocated code). */
    public interface CodeWriteListener {
        /**
         * Bytes [offset, offset+length) of {@code page} changed. A whole page ({@code length ==
         * PAGE_SIZE}) also means the page no longer counts as holding code until it is marked again.
         */
        void codeWritten(int page, int offset, int length);
    }

    public CpuMemory(MemoryBus slow) {
        this.slow = slow;
        java.util.Arrays.fill(pageMap, SLOW);
    }

    /** Maps RAM: reads and writes go straight to {@code buffer} (little-endian order is set). */
    public void mapRam(long address, ByteBuffer buffer) {
        map(address, buffer, 0);
    }

    /** Maps ROM: reads come from {@code buffer}, writes are dropped. */
    public void mapRom(long address, ByteBuffer buffer) {
        map(address, buffer, READ_ONLY);
    }

    private void map(long address, ByteBuffer buffer, int flags) {
        long size = buffer.capacity();
        if ((address & (PAGE_SIZE - 1)) != 0 || size == 0 || (size & (PAGE_SIZE - 1)) != 0
                || size > MAX_CHUNK || address + size > (1L << 32)) {
            throw new IllegalArgumentException("memory region: address 0x" + Long.toHexString(address)
                    + " size 0x" + Long.toHexString(size)
                    + " (expected: 4 KiB aligned, at most 1 GiB, below 4 GiB)");
        }
        if (chunkCount == chunks.length) {
            throw new IllegalStateException("memory regions: more than " + chunks.length + " chunks");
        }
        ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int chunk = chunkCount++;
        chunks[chunk] = b;
        int first = (int) (address >>> PAGE_SHIFT);
        int pages = (int) (size >>> PAGE_SHIFT);
        for (int i = 0; i < pages; i++) {
            pageMap[first + i] = chunk << CHUNK_SHIFT | i | flags;
        }
        invalidateRange(first, pages);
        mappingListener.run();
    }

    /** Sends [address, address+size) to the slow path again (MMIO, unassigned). */
    public void unmap(long address, long size) {
        int first = (int) (address >>> PAGE_SHIFT);
        int pages = (int) ((size + PAGE_SIZE - 1) >>> PAGE_SHIFT);
        for (int i = 0; i < pages; i++) {
            pageMap[first + i] = SLOW;
        }
        invalidateRange(first, pages);
        mappingListener.run();
    }

    private void invalidateRange(int first, int pages) {
        for (int i = 0; i < pages; i++) {
            codeWritten(first + i);
        }
    }

    /**
     * Tells the CPU's decode cache that [address, address+length) changed behind its back
     * (a DMA engine or firmware service writing the RAM buffer directly instead of through this
     * class). Writes through this class need no call.
     */
    public void invalidateCode(long address, long length) {
        if (length <= 0 || address < 0 || address >= (1L << 32)) {
            return;
        }
        long last = Math.min(address + length - 1, (1L << 32) - 1);
        for (long p = address >>> PAGE_SHIFT; p <= last >>> PAGE_SHIFT; p++) {
            codeWritten((int) p);
        }
    }

    /** The A20 gate (i8042 output port bit 1, port 0x92 bit 1): off forces address bit 20 to 0. */
    public void setA20(boolean enabled) {
        a20 = enabled;
        updateMask();
    }

    public boolean a20() {
        return a20;
    }

    void setModelMask(long modelMask) {
        this.modelMask = modelMask;
        updateMask();
    }

    private void updateMask() {
        mask = (int) modelMask & (a20 ? -1 : ~A20_BIT);
        mappingListener.run();
    }

    void setMappingListener(Runnable l) {
        mappingListener = l;
    }

    void setCodeWriteListener(CodeWriteListener l) {
        codeListener = l;
    }

    /** The mask every CPU access goes through (model width and A20). */
    int addressMask() {
        return mask;
    }

    void markCodePage(int page) {
        codePages[page >>> 6] |= 1L << page;
    }

    /** The page holds no decoded instructions any more: stores there need not tell the CPU. */
    void unmarkCodePage(int page) {
        codePages[page >>> 6] &= ~(1L << page);
    }

    private void codeWritten(int page) {
        long bit = 1L << page;
        if ((codePages[page >>> 6] & bit) != 0) {
            codePages[page >>> 6] &= ~bit;
            if (codeListener != null) {
                codeListener.codeWritten(page, 0, PAGE_SIZE);
            }
        }
    }

    /**
     * A CPU store of {@code size} bytes at physical {@code address} (within one page). Only the
     * instructions it overlaps are dropped and the page keeps counting as code: boot loaders keep
     * variables next to their code, and dropping the whole page at each such store made the CPU
     * decode the same instructions again and again.
     */
    private void codeStored(int page, int address, int size) {
        if ((codePages[page >>> 6] & (1L << page)) != 0 && codeListener != null) {
            codeListener.codeWritten(page, address & (PAGE_SIZE - 1), size);
        }
    }

    // ---- CPU accesses: linear addresses, masked by the model width and A20 ----

    int read8(int linear) {
        int a = linear & mask;
        int e = pageMap[a >>> PAGE_SHIFT];
        if (e >= 0) {
            return chunks[(e >>> CHUNK_SHIFT) & 0xFF].get(offset(e, a)) & 0xFF;
        }
        slowAccess = true;
        return slow.read(a & 0xFFFF_FFFFL, 1) & 0xFF;
    }

    int read16(int linear) {
        int a = linear & mask;
        if ((a & (PAGE_SIZE - 1)) <= PAGE_SIZE - 2) {
            int e = pageMap[a >>> PAGE_SHIFT];
            if (e >= 0) {
                return chunks[(e >>> CHUNK_SHIFT) & 0xFF].getShort(offset(e, a)) & 0xFFFF;
            }
            slowAccess = true;
            return slow.read(a & 0xFFFF_FFFFL, 2) & 0xFFFF;
        }
        return read8(linear) | read8(linear + 1) << 8;
    }

    int read32(int linear) {
        int a = linear & mask;
        if ((a & (PAGE_SIZE - 1)) <= PAGE_SIZE - 4) {
            int e = pageMap[a >>> PAGE_SHIFT];
            if (e >= 0) {
                return chunks[(e >>> CHUNK_SHIFT) & 0xFF].getInt(offset(e, a));
            }
            slowAccess = true;
            return slow.read(a & 0xFFFF_FFFFL, 4);
        }
        return read16(linear) | read16(linear + 2) << 16;
    }

    void write8(int linear, int value) {
        int a = linear & mask;
        int page = a >>> PAGE_SHIFT;
        int e = pageMap[page];
        if (e >= 0) {
            if ((e & READ_ONLY) == 0) {
                codeStored(page, a, 1);
                chunks[(e >>> CHUNK_SHIFT) & 0xFF].put(offset(e, a), (byte) value);
            }
            return;
        }
        slowAccess = true;
        slow.write(a & 0xFFFF_FFFFL, 1, value & 0xFF);
    }

    void write16(int linear, int value) {
        int a = linear & mask;
        if ((a & (PAGE_SIZE - 1)) <= PAGE_SIZE - 2) {
            int page = a >>> PAGE_SHIFT;
            int e = pageMap[page];
            if (e >= 0) {
                if ((e & READ_ONLY) == 0) {
                    codeStored(page, a, 2);
                    chunks[(e >>> CHUNK_SHIFT) & 0xFF].putShort(offset(e, a), (short) value);
                }
                return;
            }
            slowAccess = true;
            slow.write(a & 0xFFFF_FFFFL, 2, value & 0xFFFF);
            return;
        }
        write8(linear, value);
        write8(linear + 1, value >>> 8);
    }

    void write32(int linear, int value) {
        int a = linear & mask;
        if ((a & (PAGE_SIZE - 1)) <= PAGE_SIZE - 4) {
            int page = a >>> PAGE_SHIFT;
            int e = pageMap[page];
            if (e >= 0) {
                if ((e & READ_ONLY) == 0) {
                    codeStored(page, a, 4);
                    chunks[(e >>> CHUNK_SHIFT) & 0xFF].putInt(offset(e, a), value);
                }
                return;
            }
            slowAccess = true;
            slow.write(a & 0xFFFF_FFFFL, 4, value);
            return;
        }
        write16(linear, value);
        write16(linear + 2, value >>> 16);
    }

    /** The RAM/ROM buffer behind a linear address, or null for slow-path pages (code fetch). */
    ByteBuffer bufferFor(int linear) {
        int e = pageMap[(linear & mask) >>> PAGE_SHIFT];
        return e >= 0 ? chunks[(e >>> CHUNK_SHIFT) & 0xFF] : null;
    }

    /** The RAM buffer behind a linear address, or null for ROM and slow-path pages (bulk stores). */
    ByteBuffer writableBufferFor(int linear) {
        int e = pageMap[(linear & mask) >>> PAGE_SHIFT];
        return e >= 0 && (e & READ_ONLY) == 0 ? chunks[(e >>> CHUNK_SHIFT) & 0xFF] : null;
    }

    /** A bulk store went straight into the page of {@code linear}: drop its decoded code. */
    void noteWrite(int linear) {
        codeWritten((linear & mask) >>> PAGE_SHIFT);
    }

    /** Offset of a linear address inside {@link #bufferFor}'s buffer. */
    int bufferOffset(int linear) {
        int a = linear & mask;
        return offset(pageMap[a >>> PAGE_SHIFT], a);
    }

    /** The physical address of a linear one (model width and A20 applied). */
    int physical(int linear) {
        return linear & mask;
    }

    /** Physical page number of a linear address (after masking). */
    int physicalPage(int linear) {
        return (linear & mask) >>> PAGE_SHIFT;
    }

    private static int offset(int entry, int address) {
        return (entry & PAGE_IN_CHUNK) << PAGE_SHIFT | (address & (PAGE_SIZE - 1));
    }

    // ---- PhysicalMemory: physical addresses, no A20 mask ----

    private int physByte(long address) {
        if (address < 0 || address >= (1L << 32)) {
            return 0xFF;
        }
        int a = (int) address;
        int e = pageMap[a >>> PAGE_SHIFT];
        if (e >= 0) {
            return chunks[(e >>> CHUNK_SHIFT) & 0xFF].get(offset(e, a)) & 0xFF;
        }
        return slow.read(address, 1) & 0xFF;
    }

    private void physWriteByte(long address, int value) {
        if (address < 0 || address >= (1L << 32)) {
            return;
        }
        int a = (int) address;
        int page = a >>> PAGE_SHIFT;
        int e = pageMap[page];
        if (e >= 0) {
            if ((e & READ_ONLY) == 0) {
                codeWritten(page);
                chunks[(e >>> CHUNK_SHIFT) & 0xFF].put(offset(e, a), (byte) value);
            }
            return;
        }
        slow.write(address, 1, value & 0xFF);
    }

    @Override
    public int readByte(long address) {
        return physByte(address);
    }

    @Override
    public int readWord(long address) {
        return physByte(address) | physByte(address + 1) << 8;
    }

    @Override
    public int readDword(long address) {
        return readWord(address) | readWord(address + 2) << 16;
    }

    @Override
    public void writeByte(long address, int value) {
        physWriteByte(address, value);
    }

    @Override
    public void writeWord(long address, int value) {
        physWriteByte(address, value);
        physWriteByte(address + 1, value >>> 8);
    }

    @Override
    public void writeDword(long address, int value) {
        writeWord(address, value);
        writeWord(address + 2, value >>> 16);
    }

    /** The page-map entry of a physical address, SLOW outside 4 GiB. */
    private int entryOf(long address) {
        return address >= 0 && address < (1L << 32) ? pageMap[(int) (address >>> PAGE_SHIFT)] : SLOW;
    }

    /** Bytes from {@code address} to the end of its page, at most {@code remaining}. */
    private static int inPage(long address, int remaining) {
        return (int) Math.min(remaining, PAGE_SIZE - (address & (PAGE_SIZE - 1)));
    }

    // Bulk transfers (INT 13h sectors, firmware tables) copy a page at a time where it is RAM/ROM.

    @Override
    public void read(long address, byte[] dst, int off, int len) {
        for (int i = 0; i < len; ) {
            long a = address + i;
            int n = inPage(a, len - i);
            int e = entryOf(a);
            if (e >= 0) {
                chunks[(e >>> CHUNK_SHIFT) & 0xFF].get(offset(e, (int) a), dst, off + i, n);
            } else {
                for (int k = 0; k < n; k++) {
                    dst[off + i + k] = (byte) physByte(a + k);
                }
            }
            i += n;
        }
    }

    @Override
    public void write(long address, byte[] src, int off, int len) {
        for (int i = 0; i < len; ) {
            long a = address + i;
            int n = inPage(a, len - i);
            int e = entryOf(a);
            if (e >= 0 && (e & READ_ONLY) == 0) {
                codeWritten((int) (a >>> PAGE_SHIFT));
                chunks[(e >>> CHUNK_SHIFT) & 0xFF].put(offset(e, (int) a), src, off + i, n);
            } else {
                for (int k = 0; k < n; k++) {
                    physWriteByte(a + k, src[off + i + k]);
                }
            }
            i += n;
        }
    }

    @Override
    public boolean isRam(long address, long length) {
        if (address < 0 || length < 0 || address + length > (1L << 32)) {
            return false;
        }
        for (long p = address >>> PAGE_SHIFT; p <= (address + length - 1) >>> PAGE_SHIFT && length > 0; p++) {
            int e = pageMap[(int) p];
            if (e < 0 || (e & READ_ONLY) != 0) {
                return false;
            }
        }
        return true;
    }
}
