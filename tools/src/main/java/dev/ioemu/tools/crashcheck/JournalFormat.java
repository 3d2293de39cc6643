package dev.ioemu.tools.crashcheck;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The on-disk format of the journal workload (issue 14): a transaction writes its data sectors,
 * FLUSH, then one commit sector naming them with a checksum, FLUSH — the order ext4's jbd2 uses
 * for a journal commit (descriptor and data blocks, a cache flush, the commit block). Everything
 * is little-endian and 512-byte sectors; the boot sector {@code tests/guest/journal.asm} writes
 * the same layout.
 * <pre>
 * commit sector: 0  "JRNLCMT1"
 *                8  u32 transaction id
 *               12  u32 n, the number of data sectors (1 … {@value #MAX_BLOCKS})
 *               16  n × u32 LBA of each data sector
 *         16 + 4n   u32 sum32 of the data sectors (in that order)
 *              508  u32 sum32 of bytes 0-507 of this sector
 * sum32 = the 32-bit wrap-around sum of the little-endian dwords
 * </pre>
 * A commit sector whose magic or own sum is wrong is not a commit (a torn or never-written
 * sector); a valid one promises its data sectors sum to its data sum.
 */
public final class JournalFormat {
    public static final int SECTOR = 512;
    public static final byte[] MAGIC = "JRNLCMT1".getBytes(StandardCharsets.US_ASCII);
    public static final int MAX_BLOCKS = 120;
    static final int OFFSET_TXN = 8;
    static final int OFFSET_COUNT = 12;
    static final int OFFSET_LBAS = 16;
    static final int OFFSET_SELF_SUM = 508;

    private JournalFormat() {
    }

    /** A valid commit sector's contents. */
    public record Commit(long txn, long[] lbas, int dataSum) {
    }

    /** sum32 over {@code length} bytes (a multiple of 4) of {@code b} from {@code offset}. */
    public static int sum32(ByteBuffer b, int offset, int length) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int sum = 0;
        for (int i = offset; i < offset + length; i += 4) {
            sum += le.getInt(i);
        }
        return sum;
    }

    /** The deterministic contents of data sector {@code lba} of transaction {@code txn}. */
    public static byte[] dataSector(long txn, long lba) {
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < SECTOR / 4; i++) {
            b.putInt((int) (txn * 0x01000193L + lba * 0x9E3779B1L + i * 0x10001L));
        }
        return b.array();
    }

    /** The commit sector for {@code txn} over data sectors {@code lbas} whose contents sum to {@code dataSum}. */
    public static byte[] commitSector(long txn, long[] lbas, int dataSum) {
        if (lbas.length < 1 || lbas.length > MAX_BLOCKS) {
            throw new IllegalArgumentException("lbas: " + lbas.length + " (expected: 1-" + MAX_BLOCKS + ")");
        }
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        b.putInt(OFFSET_TXN, (int) txn);
        b.putInt(OFFSET_COUNT, lbas.length);
        for (int i = 0; i < lbas.length; i++) {
            b.putInt(OFFSET_LBAS + 4 * i, (int) lbas[i]);
        }
        b.putInt(OFFSET_LBAS + 4 * lbas.length, dataSum);
        b.putInt(OFFSET_SELF_SUM, sum32(b, 0, OFFSET_SELF_SUM));
        return b.array();
    }

    /** The commit in {@code sector} (512 bytes from its position), or null when it is not one. */
    public static Commit parse(ByteBuffer sector) {
        ByteBuffer b = sector.slice(sector.position(), SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) {
                return null;
            }
        }
        if (b.getInt(OFFSET_SELF_SUM) != sum32(b, 0, OFFSET_SELF_SUM)) {
            return null;
        }
        int n = b.getInt(OFFSET_COUNT);
        if (n < 1 || n > MAX_BLOCKS) {
            return null;
        }
        long[] lbas = new long[n];
        for (int i = 0; i < n; i++) {
            lbas[i] = Integer.toUnsignedLong(b.getInt(OFFSET_LBAS + 4 * i));
        }
        return new Commit(Integer.toUnsignedLong(b.getInt(OFFSET_TXN)), lbas, b.getInt(OFFSET_LBAS + 4 * n));
    }
}
