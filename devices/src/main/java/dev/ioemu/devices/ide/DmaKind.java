package dev.ioemu.devices.ide;

/** What an armed bus-master transfer does (QEMU's IDE_DMA_READ / WRITE / TRIM). */
enum DmaKind {
    /** Disk to guest memory (READ DMA). */
    READ,
    /** Guest memory to disk (WRITE DMA). */
    WRITE,
    /** Range list from guest memory, then discards (DATA SET MANAGEMENT / TRIM). */
    TRIM;

    boolean usesReadPolicy() {
        return this == READ;
    }
}
