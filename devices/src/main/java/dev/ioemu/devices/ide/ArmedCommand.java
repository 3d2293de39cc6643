package dev.ioemu.devices.ide;

/**
 * The DMA command a drive has accepted and the bus-master engine will run (at once if the engine
 * is active, else when the guest sets Start): QEMU's registered {@code dma_cb}. One value, set by
 * {@code arm}, cleared in one place ({@link BusMasterDma#disarm}).
 */
sealed interface ArmedCommand permits ArmedCommand.Ata, ArmedCommand.AtapiRead, ArmedCommand.AtapiReply {
    IdeDevice device();

    DmaKind kind();

    /** READ DMA, WRITE DMA or TRIM: sectors and LBA come from the drive's registers when it runs. */
    record Ata(IdeDevice device, DmaKind kind) implements ArmedCommand {
        public Ata {
            if (kind.isAtapi()) {
                throw new IllegalStateException("ATA DMA command of kind " + kind);
            }
        }
    }

    /** An ATAPI READ's data phase: {@code length} bytes of the disc at {@code diskOffset}. */
    record AtapiRead(IdeDevice device, long diskOffset, long length) implements ArmedCommand {
        @Override
        public DmaKind kind() {
            return DmaKind.ATAPI_READ;
        }
    }

    /**
     * A packet command's reply of {@code length} bytes as one DMA chunk; the bytes stay with the
     * ATAPI command, which hands them over when the engine runs ({@link Atapi#sendReplyByDma}).
     */
    record AtapiReply(IdeDevice device, long length) implements ArmedCommand {
        @Override
        public DmaKind kind() {
            return DmaKind.ATAPI_REPLY;
        }
    }
}
