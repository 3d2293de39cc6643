package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pooled bounce buffers are 4096-aligned at every size, and outstanding ones are counted (block.md §11.2). */
class AlignedBufferPoolTest {
    @Test
    void everyBufferAddressIsAlignedWhateverItsSize() {
        AlignedBufferPool pool = new AlignedBufferPool(AlignedBufferPool.Settings.DEFAULT);
        List<ByteBuf> bufs = new ArrayList<>();
        for (int size : new int[] {1, 512, 4096, 5000, 65536, 1 << 20, 8 << 20}) {
            ByteBuf b = pool.acquire(size);
            bufs.add(b);
            assertEquals(0, b.memoryAddress() % 4096, "size " + size);
            assertTrue(b.capacity() >= size);
        }
        assertEquals(bufs.size(), pool.outstanding());
        bufs.forEach(pool::release);
        assertEquals(0, pool.outstanding(), "a leak would show here");
    }

    @Test
    void settingsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AlignedBufferPool.Settings(3000, 8192, 9, 1));
        assertEquals("alignment: 3000 (expected: a power of two)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AlignedBufferPool.Settings(16384, 8192, 9, 1));
        assertTrue(e.getMessage().startsWith("alignment: 16384 (expected: ≤ pageSize 8192"));
        assertThrows(IllegalArgumentException.class, () -> new AlignedBufferPool.Settings(4096, 6000, 9, 1));
        assertThrows(IllegalArgumentException.class, () -> new AlignedBufferPool.Settings(4096, 8192, 9, 0));
    }
}
