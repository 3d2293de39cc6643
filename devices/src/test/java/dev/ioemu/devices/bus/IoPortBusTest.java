package dev.ioemu.devices.bus;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IoPortBusTest {
    /** Remembers the last write per offset; reads return offset*0x11 masked to size. */
    static final class Recorder implements PortDevice {
        final String name;
        int lastOffset = -1, lastSize, lastValue;

        Recorder(String name) { this.name = name; }

        @Override public int read(int offset, int size) { return 0x11 * (offset + 1); }

        @Override public void write(int offset, int size, int value) {
            lastOffset = offset; lastSize = size; lastValue = value;
        }

        @Override public String name() { return name; }
    }

    @Test
    void devicesSeeOffsetsNotPorts() {
        IoPortBus bus = new IoPortBus();
        Recorder r = new Recorder("r");
        bus.map(0x1F0, 8, r);
        bus.write(0x1F3, 1, 0x1AB);
        assertEquals(3, r.lastOffset);
        assertEquals(0xAB, r.lastValue, "value is masked to the access size");
        assertEquals(0x44, bus.read(0x1F3, 1));
    }

    @Test
    void unmappedReadsAreAllOnesAndWritesAreDropped() {
        IoPortBus bus = new IoPortBus();
        assertEquals(0xFF, bus.read(0x80, 1));
        assertEquals(0xFFFF, bus.read(0x80, 2));
        assertEquals(0xFFFFFFFF, bus.read(0x80, 4));
        bus.write(0x80, 4, 0x12345678);
        assertFalse(bus.isMapped(0x80));
    }

    @Test
    void overlappingRangesAreRefusedNamingBoth() {
        IoPortBus bus = new IoPortBus();
        bus.map(0x1F0, 8, new Recorder("ide0"));
        var e = assertThrows(IllegalArgumentException.class, () -> bus.map(0x1F7, 2, new Recorder("other")));
        assertTrue(e.getMessage().contains("ide0") && e.getMessage().contains("other"), e.getMessage());
    }

    @Test
    void accessRunningPastTheEndGoesWholeToTheDeviceOfItsFirstByte() {
        IoPortBus bus = new IoPortBus();
        Recorder ctl = new Recorder("ctl");
        bus.map(0x3F6, 1, ctl);
        // QEMU's memory core does not clamp I/O accesses: the device answers all 16 bits.
        assertEquals(0x11, bus.read(0x3F6, 2));
        bus.write(0x3F6, 2, 0xABCD);
        assertEquals(0, ctl.lastOffset);
        assertEquals(2, ctl.lastSize);
    }

    @Test
    void unmapFreesTheRangeForAMovedBar() {
        IoPortBus bus = new IoPortBus();
        Recorder bm = new Recorder("bmdma");
        bus.map(0xC000, 16, bm);
        bus.unmap(0xC000, bm);
        bus.map(0xC010, 16, bm);
        assertFalse(bus.isMapped(0xC000));
        assertTrue(bus.isMapped(0xC01F));
    }

    @Test
    void stringInputMovesWholeItemsIntoGuestMemory() {
        IoPortBus bus = new IoPortBus();
        bus.map(0x1F0, 8, new Recorder("ide0"));
        GuestMemory mem = new GuestMemory(1 << 20);
        assertEquals(4, bus.readString(0x1F0, 2, 4, mem.span(0x1000, 8)));
        assertEquals(0x11, mem.readWord(0x1000));
        assertEquals(0x11, mem.readWord(0x1006));
    }
}
