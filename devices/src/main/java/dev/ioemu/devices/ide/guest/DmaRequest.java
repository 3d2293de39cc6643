package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.ide.Ata;

/**
 * One bus-master DMA command as ide-test's {@code send_dma_request} issues it (shared/spec/ide.md
 * §8.5): READ/WRITE DMA (LBA28), READ/WRITE DMA EXT (LBA48) or DATA SET MANAGEMENT (TRIM ranges
 * in the buffer), through the PRD table at {@code prdTable}.
 *
 * @param count       sectors (LBA28: 0 means 256; LBA48: 0 means 65536)
 * @param stopAtOnce  stop the engine right after starting it (ide-test's abort variant)
 * @param sampleIrq   record the IRQ level at completion and after the status read (costs a
 *                    request each on a qtest transport, so benchmarks leave it off)
 */
public record DmaRequest(int opcode, long lba, int count, long prdTable, boolean stopAtOnce, boolean sampleIrq) {
    public static DmaRequest of(int opcode, long lba, int count, long prdTable) {
        return new DmaRequest(opcode, lba, count, prdTable, false, false);
    }

    public DmaRequest stoppedAtOnce(boolean stop) {
        return new DmaRequest(opcode, lba, count, prdTable, stop, sampleIrq);
    }

    public DmaRequest withIrqSamples() {
        return new DmaRequest(opcode, lba, count, prdTable, stopAtOnce, true);
    }

    boolean lba48() {
        return opcode == Ata.CMD_READ_DMA_EXT || opcode == Ata.CMD_WRITE_DMA_EXT;
    }

    /** Whether the device writes guest memory (the engine's direction bit). */
    boolean toMemory() {
        return opcode == Ata.CMD_READ_DMA || opcode == Ata.CMD_READ_DMA_EXT;
    }
}
