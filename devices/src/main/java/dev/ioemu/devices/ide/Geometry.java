package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A disk's default CHS geometry as QEMU chooses it at device creation (shared/spec/ide.md §6.2):
 * from a usable MBR partition entry if there is one with at most 16 heads, otherwise 16 heads,
 * 63 sectors and total/1008 cylinders clamped to [2, 16383].
 */
public record Geometry(int cylinders, int heads, int sectors) {
    static final int STANDARD_HEADS = 16;
    static final int STANDARD_SECTORS = 63;
    static final int MAX_CYLINDERS = 16383;
    private static final int MBR_SIGNATURE_OFFSET = 510;
    private static final int MBR_PARTITION_TABLE = 0x1BE;
    private static final int MBR_ENTRY_SIZE = 16;
    private static final int PAGE_SIZE = 4096;

    /** Geometry for {@code totalSectors} without looking at the image. */
    static Geometry standard(long totalSectors) {
        long cylinders = totalSectors / (STANDARD_HEADS * STANDARD_SECTORS);
        cylinders = Math.max(2, Math.min(MAX_CYLINDERS, cylinders));
        return new Geometry((int) cylinders, STANDARD_HEADS, STANDARD_SECTORS);
    }

    /** QEMU's guess: MBR first (§6.2 step 2), then {@link #standard}. Reads sector 0 synchronously. */
    static Geometry guess(BlockDevice block, long totalSectors) {
        // Direct and page-aligned, so the block layer reads straight into it: a heap buffer would
        // bounce, and building the bounce pool is a large share of a VM start that does no I/O.
        ByteBuffer mbr = ByteBuffer.allocateDirect(2 * PAGE_SIZE).alignedSlice(PAGE_SIZE)
                .limit(Ata.SECTOR_SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (totalSectors > 0 && block.read(0, mbr) == Ata.SECTOR_SIZE) {
            Geometry fromMbr = fromPartitionTable(mbr, totalSectors);
            if (fromMbr != null && fromMbr.heads <= STANDARD_HEADS) {
                return fromMbr;
            }
        }
        return standard(totalSectors);
    }

    private static Geometry fromPartitionTable(ByteBuffer mbr, long totalSectors) {
        if ((mbr.get(MBR_SIGNATURE_OFFSET) & 0xFF) != 0x55 || (mbr.get(MBR_SIGNATURE_OFFSET + 1) & 0xFF) != 0xAA) {
            return null;
        }
        for (int i = 0; i < 4; i++) {
            int entry = MBR_PARTITION_TABLE + i * MBR_ENTRY_SIZE;
            long length = mbr.getInt(entry + 12) & 0xFFFF_FFFFL;
            int endHead = mbr.get(entry + 5) & 0xFF;
            int endSector = mbr.get(entry + 6) & 63;
            if (length == 0 || endHead == 0) {
                continue;
            }
            int heads = endHead + 1;
            if (endSector == 0) {
                continue;
            }
            long cylinders = totalSectors / ((long) heads * endSector);
            if (cylinders < 1 || cylinders > MAX_CYLINDERS) {
                continue;
            }
            return new Geometry((int) cylinders, heads, endSector);
        }
        return null;
    }
}
