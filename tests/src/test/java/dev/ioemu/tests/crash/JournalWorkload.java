package dev.ioemu.tests.crash;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.GuestTransport;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.tools.crashcheck.JournalFormat;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The journal workload as a guest driver runs it on the PIIX3 IDE controller (issue 14): for each
 * transaction, its data sectors in one write, FLUSH CACHE, the commit sector naming them with
 * their checksum ({@link JournalFormat}), FLUSH CACHE — jbd2's order. Transactions alternate
 * between PIO (WRITE MULTIPLE EXT, a {@code rep outsw} per DRQ block) and bus-master DMA (WRITE
 * DMA through a PRD table), so both data paths are in every log.
 */
final class JournalWorkload {
    static final long PRD_TABLE = 0x100000;
    static final long BUFFER = 0x110000;

    private final AtaDriver ata;
    private final GuestTransport transport;
    private final long journalStart;
    private final int blocks;

    JournalWorkload(AtaDriver ata, long journalStart, int blocks) {
        this.ata = ata;
        this.transport = ata.transport();
        this.journalStart = journalStart;
        this.blocks = blocks;
    }

    /** Sectors one transaction occupies: its data and its commit. */
    static int sectorsPerTransaction(int blocks) {
        return blocks + 1;
    }

    void setUp() {
        int st = ata.setMultipleMode(blocks);
        check(st, "SET MULTIPLE MODE " + blocks);
    }

    /** Runs transaction {@code txn}: data, FLUSH CACHE, commit, FLUSH CACHE. */
    void transaction(int txn) {
        long first = journalStart + (long) txn * sectorsPerTransaction(blocks);
        long[] lbas = new long[blocks];
        byte[] data = new byte[blocks * JournalFormat.SECTOR];
        for (int i = 0; i < blocks; i++) {
            lbas[i] = first + i;
            System.arraycopy(JournalFormat.dataSector(txn, lbas[i]), 0, data, i * JournalFormat.SECTOR,
                    JournalFormat.SECTOR);
        }
        boolean dma = txn % 2 == 1;
        write(first, data, dma);
        check(ata.flushCache(), "FLUSH CACHE after the data of transaction " + txn);
        int sum = JournalFormat.sum32(ByteBuffer.wrap(data), 0, data.length);
        write(first + blocks, JournalFormat.commitSector(txn, lbas, sum), dma);
        check(ata.flushCache(), "FLUSH CACHE after the commit of transaction " + txn);
    }

    private void write(long lba, byte[] data, boolean dma) {
        transport.writeMemory(BUFFER, data);
        int sectors = data.length / JournalFormat.SECTOR;
        if (dma) {
            ata.writePrdTable(PRD_TABLE, List.of(new PrdDescriptor(BUFFER, data.length, true)));
            DmaCompletion c = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, lba, sectors, PRD_TABLE));
            check(c.ataStatus(), "WRITE DMA at LBA " + lba);
        } else {
            ata.pioMultipleExt(true, lba, sectors, blocks, BUFFER);
            check(ata.awaitNotBusy(), "WRITE MULTIPLE EXT at LBA " + lba);
            ata.status();
        }
    }

    private static void check(int status, String what) {
        if ((status & (Ata.STATUS_ERR | Ata.STATUS_BSY)) != 0) {
            throw new AssertionError(String.format("%s: status 0x%02x", what, status));
        }
    }
}
