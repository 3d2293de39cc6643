package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Register behaviour observed on QEMU 7.2 (pc, -S); see the class comment of {@link I8257Dma}. */
class I8257DmaTest {
    private final IoPortBus bus = new IoPortBus();

    I8257DmaTest() {
        I8257Dma dma1 = new I8257Dma("dma1", 0);
        I8257Dma dma2 = new I8257Dma("dma2", 1);
        bus.map(0x00, dma1.portCount(), dma1);
        bus.map(0xc0, dma2.portCount(), dma2);
    }

    @Test
    void powerOnValues() {
        for (int port = 0; port < 0x10; port++) {
            assertEquals(port == 9 ? 0xff : 0x00, bus.read(port, 1), "port " + port);
        }
        assertEquals(0xff, bus.read(0xd2, 1), "controller 2 mask");
        assertEquals(0xff, bus.read(0xd3, 1), "odd ports alias on controller 2");
    }

    @Test
    void channelRegistersGoThroughTheFlipFlop() {
        bus.write(0x00, 1, 0x01);
        bus.write(0x00, 1, 0x02);
        bus.write(0x01, 1, 0x11);
        bus.write(0x01, 1, 0x12);
        bus.write(0x02, 1, 0x21);
        bus.write(0x02, 1, 0x22);
        bus.write(0x03, 1, 0x31);
        bus.write(0x03, 1, 0x32);
        assertEquals(0x01, bus.read(0x00, 1));
        assertEquals(0x02, bus.read(0x00, 1));
        // QEMU: "outb 0xc 0; outb 0x0 0xab; outb 0xd 0" then reads still 0x01, 0x02: the current
        // address reloads only when the high byte completes the word.
        bus.write(0x0c, 1, 0);
        bus.write(0x00, 1, 0xab);
        bus.write(0x0d, 1, 0);
        assertEquals(0x01, bus.read(0x00, 1));
        assertEquals(0x02, bus.read(0x00, 1));
        bus.write(0x00, 1, 0x01);
        assertEquals(0x1102, bus.read(0x00, 2), "a word access is two byte accesses");
        assertEquals(0x31221102, bus.read(0x00, 4));
    }

    @Test
    void secondControllerUsesEveryOtherPort() {
        bus.write(0xc0, 1, 0x55);
        bus.write(0xc0, 1, 0x66);
        assertEquals(0x55, bus.read(0xc0, 1));
        assertEquals(0x66, bus.read(0xc0, 1));
        assertEquals(0x55, bus.read(0xc1, 1));
        bus.write(0xc4, 1, 7);
        assertEquals(0x00, bus.read(0xc4, 1), "flip-flop was at the high byte");
        assertEquals(0x07, bus.read(0xc4, 1));
    }

    @Test
    void maskRegisterCommands() {
        bus.write(0x0e, 1, 0);
        assertEquals(0x00, bus.read(0x09, 1));
        bus.write(0x0a, 1, 0x06);
        assertEquals(0x04, bus.read(0x09, 1));
        bus.write(0x0f, 1, 0x0b);
        assertEquals(0x0b, bus.read(0x09, 1));
        bus.write(0x0d, 1, 0);
        assertEquals(0xff, bus.read(0x09, 1), "master clear masks every channel");
    }
}
