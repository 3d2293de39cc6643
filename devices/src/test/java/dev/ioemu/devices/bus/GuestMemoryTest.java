package dev.ioemu.devices.bus;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestMemoryTest {
    @Test
    void regionIsPageAlignedAndLittleEndian() {
        GuestMemory mem = new GuestMemory(64 * 1024);
        assertEquals(0, mem.hostAddress() % 4096);
        mem.writeDword(0x10, 0x11223344);
        assertEquals(0x44, mem.readByte(0x10));
        assertEquals(0x3344, mem.readWord(0x10));
    }

    @Test
    void containsRejectsRangesThatWrapOrLeaveRam() {
        GuestMemory mem = new GuestMemory(4096);
        assertTrue(mem.contains(0, 4096));
        assertFalse(mem.contains(1, 4096));
        assertFalse(mem.contains(-1, 1));
        assertFalse(mem.contains(4000, Long.MAX_VALUE));
        // As physical memory, bytes past RAM are unassigned: they read as zero.
        mem.writeWord(4094, 0xBEEF);
        assertEquals(0xBEEF, mem.readDword(4094));
        assertThrows(IndexOutOfBoundsException.class, () -> mem.span(4000, 200));
    }

    @Test
    void spanBufferIsAZeroCopyView() {
        GuestMemory mem = new GuestMemory(8192);
        var span = mem.span(4096, 512);
        span.buffer().put(0, (byte) 0x5A);
        assertEquals(0x5A, mem.readByte(4096));
        assertTrue(span.buffer().isDirect());
        assertEquals(512, span.buffer().remaining());
    }

    @Test
    void sizeMustBeWholePages() {
        var e = assertThrows(IllegalArgumentException.class, () -> new GuestMemory(1000));
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
    }
}
