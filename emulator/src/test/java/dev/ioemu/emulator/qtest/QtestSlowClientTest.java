package dev.ioemu.emulator.qtest;

import dev.ioemu.emulator.testing.FakeMachine;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A qtest client that stops reading must not stall the threads that raise IRQs: the pin's
 * listener only queues "IRQ raise N", and the front end's writer thread alone waits for the
 * client. When the client reads again, every line arrives, in order.
 */
class QtestSlowClientTest {
    /** A client socket whose writes block until {@link #unblock}. */
    private static final class StalledClient extends OutputStream {
        final CountDownLatch stalled = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);
        final ByteArrayOutputStream received = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            stalled.countDown();
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (received) {
                received.write(b, off, len);
            }
        }

        void unblock() {
            released.countDown();
        }

        String text() {
            synchronized (received) {
                return received.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    @Test
    void aClientThatStopsReadingCannotStallTheThreadRaisingAnIrq() throws Exception {
        FakeMachine machine = new FakeMachine(false);
        QtestServer server = new QtestServer(machine, true, QtestLog.disabled());
        StalledClient client = new StalledClient();
        server.open(client);
        Thread serving = new Thread(() -> server.handle("irq_intercept_in ioapic"));
        serving.start();
        assertTrue(client.stalled.await(10, TimeUnit.SECONDS), "the reply reached the client's socket");

        // An I/O thread completes requests and toggles IRQ 15 while the client reads nothing.
        Thread io = new Thread(() -> {
            for (int i = 0; i < 1000; i++) {
                machine.ioapic.set(15, (i + 1) & 1);
            }
        });
        long start = System.nanoTime();
        io.start();
        io.join(TimeUnit.SECONDS.toMillis(10));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(!io.isAlive(), "the I/O thread is blocked behind the stalled client");
        assertTrue(serving.isAlive(), "the serving thread waits for its reply to be written (back-pressure)");

        client.unblock();
        serving.join(10_000);
        long deadline = System.currentTimeMillis() + 10_000;
        String expected;
        StringBuilder b = new StringBuilder("OK\n");
        for (int i = 0; i < 1000; i++) {
            b.append((i & 1) == 0 ? "IRQ raise 15\n" : "IRQ lower 15\n");
        }
        expected = b.toString();
        while (!client.text().equals(expected) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(expected, client.text(), "every edge, in order, after the reply");
        assertTrue(millis < 5_000, "raising 1000 edges took " + millis + " ms");
    }
}
