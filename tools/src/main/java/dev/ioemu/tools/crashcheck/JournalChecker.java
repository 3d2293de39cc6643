package dev.ioemu.tools.crashcheck;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The journal workload's checker ({@link JournalFormat}): in a crash state, every valid commit
 * sector in the journal area names data sectors whose sum matches — a committed transaction is
 * complete. A missing commit is fine (the transaction never committed); whether an acknowledged
 * commit is present is the built-in checker's question.
 */
final class JournalChecker {
    private final long startSector;
    private final int sectors;
    long maxCommitted;
    long commitsSeen;

    JournalChecker(long startSector, int sectors) {
        this.startSector = startSector;
        this.sectors = sectors;
    }

    /** Returns null when every commit in the state is complete, else what is wrong. */
    String check(CrashDisk disk) throws IOException {
        ByteBuffer area = ByteBuffer.allocate(sectors * JournalFormat.SECTOR);
        disk.readFully(area, startSector * JournalFormat.SECTOR);
        long committed = 0;
        String problem = null;
        for (int i = 0; i < sectors && problem == null; i++) {
            JournalFormat.Commit c = JournalFormat.parse(area.position(i * JournalFormat.SECTOR));
            area.position(0);
            if (c == null) {
                continue;
            }
            committed++;
            int sum = 0;
            for (long lba : c.lbas()) {
                ByteBuffer data;
                if (lba >= startSector && lba < startSector + sectors) {
                    data = area.slice((int) (lba - startSector) * JournalFormat.SECTOR, JournalFormat.SECTOR);
                } else {
                    data = ByteBuffer.allocate(JournalFormat.SECTOR);
                    disk.readFully(data, lba * JournalFormat.SECTOR);
                }
                sum += JournalFormat.sum32(data, 0, JournalFormat.SECTOR);
            }
            if (sum != c.dataSum()) {
                problem = "transaction " + c.txn() + " is committed (commit sector at LBA " + (startSector + i)
                        + ") but its data sectors " + lbaList(c.lbas()) + " do not match its checksum";
            }
        }
        commitsSeen += committed;
        maxCommitted = Math.max(maxCommitted, committed);
        return problem;
    }

    private static String lbaList(long[] lbas) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < lbas.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            if (i == 6 && lbas.length > 8) {
                b.append("… (").append(lbas.length).append(" sectors)");
                break;
            }
            b.append(lbas[i]);
        }
        return b.toString();
    }
}
