package dev.ioemu.devices.ide;

/** What an armed bus-master transfer does (QEMU's IDE_DMA_READ / WRITE / TRIM). */
enum DmaKind {
    /** Disk to guest memory (READ DMA). */
    READ,
    /** Guest memory to disk (WRITE DMA). */
    WRITE,
    /** Range list from guest memory, then discards (DATA SET MANAGEMENT / TRIM). */
    TRIM,
    /** ATAPI READ (10/12): CD sectors to guest memory. */
    ATAPI_READ,
    /** ATAPI reply data of a non-read packet command, sent as one DMA chunk. */
    ATAPI_REPLY;

    boolean usesReadPolicy() {
        return this == READ || this == ATAPI_READ;
    }

    boolean isAtapi() {
        return this == ATAPI_READ || this == ATAPI_REPLY;
    }
}
