package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.ide.Ata;

/**
 * What the guest saw when a DMA command ended: the bus-master status that ended the poll, the ATA
 * status read after it (which acknowledges the IRQ) and, if sampled, the IRQ level before and after
 * that read.
 */
public record DmaCompletion(int bmStatus, int ataStatus, boolean irqAtCompletion, boolean irqAfterStatusRead) {
    /** Interrupt set, engine stopped, and DRDY without BSY, DRQ, DF or ERR. */
    public boolean succeeded() {
        return bmStatus == Ata.BM_STATUS_INTERRUPT
                && (ataStatus & (Ata.STATUS_BSY | Ata.STATUS_DRQ | Ata.STATUS_DF | Ata.STATUS_ERR)) == 0
                && (ataStatus & Ata.STATUS_DRDY) != 0;
    }

    @Override
    public String toString() {
        return String.format("BM status 0x%02x, ATA status 0x%02x", bmStatus, ataStatus);
    }
}
