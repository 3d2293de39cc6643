package dev.ioemu.devices.bus;

/**
 * A machine's RAM on its own: {@code size} bytes of guest RAM at guest-physical 0 and nothing
 * else, as an {@link AddressSpace} with one RAM mapping (so bytes outside it read as 0 and writes
 * there are dropped, the address space's rules). Used where a device or tool needs memory but no
 * PC memory map: unit tests, benchmarks driving the IDE controller directly. The machine itself
 * builds its {@link AddressSpace} (RAM, ROM, MMIO) instead.
 *
 * <p>{@link #contains} and {@link #span} are strict: a range outside RAM is a programming error
 * ({@link IndexOutOfBoundsException}); devices check with {@link #isRam} or {@link #ramSpan}.
 */
public final class GuestMemory implements PhysicalMemory {
    /** Largest size: one RAM chunk, so a span is always one direct buffer. */
    public static final long MAX_SIZE = RamBlock.MAX_CHUNK;

    private final long size;
    private final RamBlock block;
    private final AddressSpace space = new AddressSpace();

    /**
     * Maps {@code size} bytes of zeroed, page-aligned guest RAM (host memory outside the JVM heap
     * and outside its direct-memory limit).
     *
     * @throws IllegalArgumentException if size is not a positive multiple of 4096 up to 1 GiB
     */
    public GuestMemory(long size) {
        if (size <= 0 || size % RamBlock.PAGE_SIZE != 0 || size > MAX_SIZE) {
            throw new IllegalArgumentException("guest RAM size: " + size
                    + " (expected: a positive multiple of 4096, at most 1 GiB)");
        }
        this.size = size;
        this.block = RamBlock.allocate("guest RAM", size);
        space.mapRam("ram", 0, block, 0, size);
    }

    public long size() {
        return size;
    }

    /** Host virtual address of guest-physical 0 (page aligned). */
    public long hostAddress() {
        return block.hostAddress();
    }

    /** The address space holding this RAM (and nothing else). */
    public AddressSpace addressSpace() {
        return space;
    }

    /** True if [address, address+length) lies entirely inside guest RAM. */
    public boolean contains(long address, long length) {
        return address >= 0 && length >= 0 && address <= size && length <= size - address;
    }

    @Override
    public boolean isRam(long address, long length) {
        return contains(address, length);
    }

    @Override
    public MemorySpan ramSpan(long address, int length) {
        return contains(address, length) ? space.ramSpan(address, length) : null;
    }

    /** A bounds-checked zero-copy window onto RAM, e.g. one PRD region or a sector buffer. */
    public MemorySpan span(long address, int length) {
        if (!contains(address, length)) {
            throw new IndexOutOfBoundsException(String.format(
                    "guest address 0x%x+%d outside RAM (size 0x%x)", address, length, size));
        }
        return space.ramSpan(address, length);
    }

    @Override public int readByte(long address) { return space.readByte(address); }
    @Override public int readWord(long address) { return space.readWord(address); }
    @Override public int readDword(long address) { return space.readDword(address); }
    public long readQword(long address) { return space.readQword(address); }

    @Override public void writeByte(long address, int value) { space.writeByte(address, value); }
    @Override public void writeWord(long address, int value) { space.writeWord(address, value); }
    @Override public void writeDword(long address, int value) { space.writeDword(address, value); }
    public void writeQword(long address, long value) { space.writeQword(address, value); }

    @Override
    public void read(long address, byte[] dst, int off, int len) {
        space.read(address, dst, off, len);
    }

    @Override
    public void write(long address, byte[] src, int off, int len) {
        space.write(address, src, off, len);
    }

    /** Fills [address, address+length) with {@code value}. */
    public void fill(long address, long length, byte value) {
        space.fill(address, length, value);
    }
}
