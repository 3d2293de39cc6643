package dev.ioemu.devices.ide;

/**
 * The DMA command a drive has accepted and the bus-master engine will run (at once if the engine
 * is active, else when the guest sets Start): QEMU's registered {@code dma_cb}. One value, set by
 * {@code arm}, cleared in one place ({@link BusMasterDma#disarm}).
 */
sealed interface ArmedCommand permits ArmedCommand.Ata, ArmedCommand.Atapi {
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

    /**
     * An ATAPI packet command's data phase: {@code length} bytes of the disc at
     * {@code diskOffset}, or (when {@code reply} is not null) the first {@code length} bytes of a
     * command's reply.
     */
    record Atapi(IdeDevice device, long diskOffset, long length, byte[] reply) implements ArmedCommand {
        @Override
        public DmaKind kind() {
            return reply != null ? DmaKind.ATAPI_REPLY : DmaKind.ATAPI_READ;
        }
    }
}
