package dev.ioemu.devices.ide;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TrimRangeTest {
    @Test
    void entriesSplitIntoA48BitLbaAndA16BitCountAndUnusedEntriesAreSkipped() {
        ByteBuffer b = ByteBuffer.allocate(8 * 3 + 5).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, (2L << 48) | 0x0000_1234_5678_9abcL);
        b.putLong(8, 0x0000_0000_0000_0010L);         // count 0: unused
        b.putLong(16, (0xffffL << 48) | 0xffff_ffff_ffffL);
        assertEquals(List.of(new TrimRange(0x1234_5678_9abcL, 2), new TrimRange(0xffff_ffff_ffffL, 0xffff)),
                TrimRange.parse(b), "the trailing 5 bytes are not a whole entry");
    }
}
