package dev.ioemu.cpu;

/**
 * The slow path of {@link CpuMemory}: every physical address that is not RAM (ROM writes, MMIO,
 * unassigned space). The machine's address space implements it: ROM reads return the bytes and
 * writes are dropped; unassigned reads return all-ones.
 */
public interface MemoryBus {
    /** Reads {@code size} (1, 2 or 4) bytes at {@code address}, little-endian. */
    int read(long address, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code address}. */
    void write(long address, int size, int value);

    /** Nothing mapped: reads all-ones, writes dropped. */
    MemoryBus UNASSIGNED = new MemoryBus() {
        @Override
        public int read(long address, int size) {
            return size == 4 ? -1 : (1 << (size * 8)) - 1;
        }

        @Override
        public void write(long address, int size, int value) {
        }
    };
}
