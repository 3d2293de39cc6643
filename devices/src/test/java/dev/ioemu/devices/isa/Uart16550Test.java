package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.time.TestClock;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** COM1 driven as Linux's 8250 driver and SeaBIOS's probe do (PC16550D datasheet). */
class Uart16550Test {
    private static final int COM1 = 0x3f8;
    private final TestClock clock = new TestClock();
    private final IoPortBus bus = new IoPortBus();
    private final ByteArrayOutputStream host = new ByteArrayOutputStream();
    private boolean irq4;
    private final Uart16550 uart = new Uart16550("serial0", clock, level -> irq4 = level, host::write);

    Uart16550Test() {
        bus.map(COM1, 8, uart);
    }

    private int in(int reg) {
        return bus.read(COM1 + reg, 1);
    }

    private void out(int reg, int value) {
        bus.write(COM1 + reg, 1, value);
    }

    @Test
    void seabiosProbeSeesAUart() {
        out(1, 0x02);
        assertEquals(0x02, in(1));
        assertEquals(0x02, in(2) & 0x3f, "THRE interrupt pending");
        out(1, 0x00);
        assertEquals(0x60, in(5), "THRE|TEMT when idle");
    }

    @Test
    void transmitGoesToTheBackendAndDivisorLatchIsBehindDlab() {
        out(3, 0x80);
        out(0, 0x01);
        out(1, 0x00);
        assertEquals(0x01, in(0));
        out(3, 0x03);   // 8N1
        for (byte b : "hi\n".getBytes(StandardCharsets.US_ASCII)) {
            assertTrue((in(5) & Uart16550.UART_LSR_THRE) != 0);
            out(0, b);
        }
        assertEquals("hi\n", host.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void fifoIdentifiesAs16550aAndInterruptsAtTheTriggerLevel() {
        out(2, 0x81);   // FIFO on, trigger 8
        assertEquals(0xc1, in(2), "IIR bits 7:6 = 11, no interrupt");
        out(1, Uart16550.UART_IER_RDI);
        uart.receive(new byte[7], 0, 7);
        assertFalse(irq4, "below the trigger level");
        uart.receive(new byte[] {'x'}, 0, 1);
        assertTrue(irq4);
        assertEquals(0xc4, in(2));
        for (int i = 0; i < 8; i++) {
            in(0);
        }
        assertFalse(irq4);
        assertEquals(0, in(5) & Uart16550.UART_LSR_DR);
    }

    @Test
    void characterTimeoutReportsBytesBelowTheTrigger() {
        out(2, 0xc1);   // trigger 14
        out(1, Uart16550.UART_IER_RDI);
        uart.receive(new byte[] {'a', 'b'}, 0, 2);
        assertFalse(irq4);
        clock.stepMillis(5);   // four characters at 9600 baud ≈ 4.2 ms
        assertTrue(irq4);
        assertEquals(0xcc, in(2));
        assertEquals('a', in(0));
        assertFalse(irq4, "reading RBR resets the timeout");
    }

    @Test
    void overrunIsALineStatusInterrupt() {
        out(1, Uart16550.UART_IER_RLSI);
        uart.receive(new byte[] {1, 2}, 0, 2);   // no FIFO: the second byte overruns
        assertTrue(irq4);
        assertEquals(0x06, in(2));
        assertEquals(Uart16550.UART_LSR_OE | Uart16550.UART_LSR_DR | 0x60, in(5));
        assertFalse(irq4, "reading LSR clears OE");
    }

    @Test
    void thrEmptyInterruptClearedByIirReadAndRearmedByTransmit() {
        out(1, Uart16550.UART_IER_THRI);
        assertTrue(irq4);
        assertEquals(0x02, in(2));
        assertFalse(irq4);
        out(0, 'z');
        assertTrue(irq4, "the byte left: THR empty again");
    }

    @Test
    void out2GatesTheIrqLine() {
        out(4, 0x00);
        out(1, Uart16550.UART_IER_THRI);
        assertFalse(irq4);
        assertEquals(0x02, in(2) & 0x0f);
        out(1, 0);
        out(4, Uart16550.UART_MCR_OUT2);
        out(1, Uart16550.UART_IER_THRI);
        assertTrue(irq4);
    }

    @Test
    void loopbackEchoesDataAndModemLines() {
        out(4, Uart16550.UART_MCR_LOOP | Uart16550.UART_MCR_RTS | Uart16550.UART_MCR_OUT2);
        assertEquals(Uart16550.UART_MSR_CTS | Uart16550.UART_MSR_DCD, in(6) & 0xf0);
        out(0, 0x5a);
        assertEquals(0, host.size(), "nothing reaches the host in loopback");
        assertEquals(Uart16550.UART_LSR_DR, in(5) & Uart16550.UART_LSR_DR);
        assertEquals(0x5a, in(0));
        uart.receive(new byte[] {1}, 0, 1);
        assertEquals(0, in(5) & Uart16550.UART_LSR_DR, "the serial input is disconnected in loopback");
    }

    @Test
    void scratchRegisterReadsBack() {
        out(7, 0xa5);
        assertEquals(0xa5, in(7));
    }
}
