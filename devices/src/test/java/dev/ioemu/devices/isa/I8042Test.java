package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The i8042, port 92h and the A20 gate as SeaBIOS, Linux and DOS extenders use them. */
class I8042Test {
    private final IoPortBus bus = new IoPortBus();
    private final A20Gate a20 = new A20Gate();
    private final List<Boolean> a20Changes = new ArrayList<>();
    private final List<Boolean> irq1 = new ArrayList<>();
    private int resets;
    /** IRQ 1 edges (the controller drives its level at every update). */
    private final I8042 kbc = new I8042(level -> {
        if (irq1.isEmpty() ? level : irq1.get(irq1.size() - 1) != level) {
            irq1.add(level);
        }
    }, a20, () -> resets++);
    private final SystemControlPortA port92 = new SystemControlPortA(a20, () -> resets++);

    I8042Test() {
        bus.map(0x60, 1, kbc.dataPort());
        bus.map(0x64, 1, kbc.commandPort());
        bus.map(0x92, 1, port92);
        a20.setListener(a20Changes::add);
    }

    private int status() {
        return bus.read(0x64, 1);
    }

    /** What SeaBIOS's ps2_recvbyte does: wait for OBF, read the data port. */
    private int receive() {
        assertTrue((status() & I8042.KBD_STAT_OBF) != 0, "a byte is waiting");
        return bus.read(0x60, 1);
    }

    @Test
    void writtenOutputPortKeepsBit4UntilTheBufferIsLoadedOrRead() {
        bus.write(0x64, 1, I8042.KBD_CCMD_WRITE_OUTPORT);
        bus.write(0x60, 1, 0x13);
        bus.write(0x64, 1, I8042.KBD_CCMD_WRITE_MODE);
        bus.write(0x60, 1, 0x61);
        bus.write(0x64, 1, I8042.KBD_CCMD_READ_OUTPORT);
        assertEquals(0x13, receive(), "the written value, bit 4 included (QEMU 7.2)");
        bus.write(0x64, 1, I8042.KBD_CCMD_READ_OUTPORT);
        assertEquals(0x03, receive(), "reading the buffer cleared bits 4/5");
    }

    @Test
    void seabiosInitSequence() {
        assertEquals(0x18, status());
        bus.write(0x64, 1, 0xad);
        bus.write(0x64, 1, 0xa7);
        bus.write(0x64, 1, 0xaa);
        assertEquals(0x55, receive());
        assertEquals(0x1c, status(), "system flag set by the self-test");
        bus.write(0x64, 1, 0xab);
        assertEquals(0x00, receive());
        bus.write(0x64, 1, 0x60);
        bus.write(0x60, 1, 0x30);
        bus.write(0x64, 1, 0x60);
        bus.write(0x60, 1, 0x20);
        bus.write(0x60, 1, 0xff);
        assertEquals(0xfa, receive());
        assertEquals(0xaa, receive());
        for (int command : new int[] {0xf5, 0xf4}) {
            bus.write(0x60, 1, command);
            assertEquals(0xfa, receive());
        }
        bus.write(0x60, 1, 0xf0);
        assertEquals(0xfa, receive());
        bus.write(0x60, 1, 0x02);
        assertEquals(0xfa, receive());
        bus.write(0x64, 1, 0x60);
        bus.write(0x60, 1, 0x61);
        bus.write(0x64, 1, 0x20);
        assertEquals(0x61, receive());
        assertEquals(0x1c, status(), "idle");
    }

    @Test
    void irq1DropsAndRisesBetweenQueuedBytes() {
        bus.write(0x60, 1, 0xf2);   // identify: FA AB 83
        assertEquals(List.of(true), irq1);
        assertEquals(0xfa, bus.read(0x60, 1));
        assertEquals(List.of(true, false, true), irq1);
        assertEquals(0xab, bus.read(0x60, 1));
        assertEquals(0x83, bus.read(0x60, 1));
        assertEquals(List.of(true, false, true, false, true, false), irq1);
        assertEquals(0x83, bus.read(0x60, 1), "nothing new: the last byte again");
    }

    @Test
    void disabledKeyboardInterfaceHoldsKeysAndIrq() {
        bus.write(0x64, 1, 0xad);
        kbc.keyBytes(0x1c);
        assertEquals(0, status() & I8042.KBD_STAT_OBF);
        bus.write(0x64, 1, 0xae);
        assertEquals(0x1c, receive());
    }

    @Test
    void outputPortA20AndPort92ShareTheGate() {
        assertTrue(a20.enabled());
        bus.write(0x64, 1, 0xdd);
        assertFalse(a20.enabled());
        bus.write(0x64, 1, 0xd0);
        assertEquals(0xcd, receive());
        bus.write(0x92, 1, 0x02);
        assertTrue(a20.enabled(), "fast A20");
        assertEquals(0x02, bus.read(0x92, 1));
        bus.write(0x92, 1, 0x00);
        assertFalse(a20.enabled());
        bus.write(0x64, 1, 0xd1);
        bus.write(0x60, 1, 0xcf);
        assertTrue(a20.enabled());
        assertEquals(List.of(false, true, false, true), a20Changes);
        assertEquals(0, resets);
    }

    @Test
    void resetPulseAndOutputPortResetBitAndPort92FastReset() {
        bus.write(0x64, 1, 0xfe);
        assertEquals(1, resets);
        bus.write(0x64, 1, 0xff);
        assertEquals(1, resets, "0xFF pulses no bit");
        bus.write(0x64, 1, 0xd1);
        bus.write(0x60, 1, 0xce);
        assertEquals(2, resets);
        bus.write(0x92, 1, 0x01);
        assertEquals(3, resets);
        assertEquals(0x00, bus.read(0x92, 1), "ALT_RST reads 0");
        bus.write(0x92, 1, 0x01);
        assertEquals(4, resets, "every 0 to 1 write of bit 0 resets");
    }

    @Test
    void aByteForTheKeyboardDiscardsItsUnreadOutput() {
        bus.write(0x60, 1, 0xf0);   // ACK waits in the output buffer
        bus.write(0x60, 1, 0x00);   // get scan code set: the unread ACK is dropped
        assertEquals(0xfa, receive());
        assertEquals(0x02, receive());
        assertEquals(0, status() & I8042.KBD_STAT_OBF);
    }

    @Test
    void controllerByteWaitsBehindAKeyboardByteAndReplacesAControllerByte() {
        bus.write(0x60, 1, 0xee);
        bus.write(0x64, 1, 0xd2);
        bus.write(0x60, 1, 0x22);
        assertEquals(0xee, receive());
        assertEquals(0x22, receive());
        bus.write(0x64, 1, 0xd2);
        bus.write(0x60, 1, 0x12);
        bus.write(0x64, 1, 0xd2);
        bus.write(0x60, 1, 0x34);
        assertEquals(0x34, receive());
        assertEquals(0, status() & I8042.KBD_STAT_OBF);
    }

    @Test
    void unknownKeyboardCommandAsksForResend() {
        bus.write(0x60, 1, 0x05);
        assertEquals(0xfe, receive());
    }

    @Test
    void postCodeDebugconAndDebugExit() {
        PostCodePort post = new PostCodePort(new DmaPageRegisters());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int[] exit = {-1};
        bus.map(0x80, 16, post);
        bus.map(0x402, 1, new IsaDebugCon(log::write));
        bus.map(0xf4, 4, new IsaDebugExit(s -> exit[0] = s));
        bus.write(0x80, 1, 0x42);
        assertEquals(0x42, post.lastCode());
        assertEquals(0xff, bus.read(0x80, 1));
        bus.write(0x81, 1, 0x12);
        assertEquals(0x12, bus.read(0x81, 1), "the page registers behind it still work");
        assertEquals(0x42, post.lastCode());
        assertEquals(0xe9, bus.read(0x402, 1));
        bus.write(0x402, 1, 'O');
        bus.write(0x402, 1, 'K');
        assertEquals("OK", log.toString());
        bus.write(0xf4, 1, 0x10);
        assertEquals(0x21, exit[0]);
    }
}
