package dev.ioemu.devices.ide;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of a DATA SET MANAGEMENT (TRIM) range list (shared/spec/ide.md, DSM): 8 bytes,
 * little-endian, LBA in bits 0-47 and a sector count in bits 48-63; a count of 0 marks an unused
 * entry. The list is copied out of guest memory once and parsed here into validated-shape values;
 * the range check against the disk's size is the command's ({@code IdeDevice.rangeOk}).
 */
record TrimRange(long lba, int count) {
    static final int ENTRY_SIZE = 8;
    private static final long LBA_MASK = 0x0000_FFFF_FFFF_FFFFL;

    /** The used entries of {@code payload} (whole 8-byte entries only), in order. */
    static List<TrimRange> parse(ByteBuffer payload) {
        ByteBuffer b = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        List<TrimRange> out = new ArrayList<>();
        for (int at = b.position(); at + ENTRY_SIZE <= b.limit(); at += ENTRY_SIZE) {
            long entry = b.getLong(at);
            int count = (int) (entry >>> 48);
            if (count != 0) {
                out.add(new TrimRange(entry & LBA_MASK, count));
            }
        }
        return out;
    }
}
