package dev.ioemu.devices.block.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receive scheme of {@link NbdConnection} (QEMU's receive-mutex scheme, shared/spec/nbd.md
 * §2.2) against {@link FakeNbdServer}: whoever holds the receive role reads replies and hands each
 * to its owner, whatever the order and interleaving the server chooses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdReceiveTest {
    private static final int EINTR = 4;

    @TempDir
    Path dir;

    @Test
    void blockingRequestsReadTheirOwnRepliesWithoutAReaderThread() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdConnection c = NbdConnection.open(server.uri(), null)) {
            Thread answer = answerInOrder(server, 50);
            for (int i = 0; i < 50; i++) {
                ByteBuffer b = ByteBuffer.allocateDirect(4096);
                assertEquals(4096, c.request(NbdProtocol.CMD_READ, 0, i * 4096L, 4096, null, b));
                assertData(b, i * 4096L);
            }
            answer.join(10_000);
            String readerName = "nbd-" + server.uri().where();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                assertTrue(!t.getName().equals(readerName) || !t.isAlive(), "no reader thread: " + t.getName());
            }
        }
    }

    @Test
    void manyThreadsGetTheirOwnRepliesWhateverOrderAndInterleavingTheServerChooses() throws Exception {
        long seed = 20261208;
        int threads = 8;
        int perThread = 100;
        int asyncRequests = 200;
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdConnection c = NbdConnection.open(server.uri(), null)) {
            AtomicReference<Throwable> serverFailure = new AtomicReference<>();
            Thread replier = new Thread(() -> {
                Random rnd = new Random(seed);
                try {
                    for (int answered = 0; answered < threads * perThread + asyncRequests; ) {
                        List<FakeNbdServer.Request> batch = new ArrayList<>();
                        batch.add(server.next());
                        server.requests.drainTo(batch);
                        Collections.shuffle(batch, rnd);
                        for (FakeNbdServer.Request r : batch) {
                            server.replyData(r);
                        }
                        answered += batch.size();
                    }
                } catch (Throwable e) {
                    serverFailure.set(e);
                }
            });
            replier.setDaemon(true);
            replier.start();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            AtomicInteger asyncDone = new AtomicInteger();
            CountDownLatch asyncAll = new CountDownLatch(asyncRequests);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    Random rnd = new Random(seed + id);
                    for (int i = 0; i < perThread; i++) {
                        long offset = rnd.nextInt((int) (FakeNbdServer.SIZE / 512 - 16)) * 512L;
                        int length = 512 * (1 + rnd.nextInt(16));
                        ByteBuffer b = ByteBuffer.allocateDirect(length);
                        int r = c.request(NbdProtocol.CMD_READ, 0, offset, length, null, b);
                        try {
                            assertEquals(length, r, "thread " + id + " request " + i);
                            assertData(b, offset);
                        } catch (Throwable e) {
                            failures.add(e);
                            return;
                        }
                        if (id == 0 && i % 4 == 0) {
                            // interleave asynchronous requests with the blocking ones
                            for (int k = 0; k < 8 && asyncAll.getCount() > 0; k++) {
                                long at = rnd.nextInt(1000) * 512L;
                                ByteBuffer ab = ByteBuffer.allocateDirect(1024);
                                c.submitAsync(NbdProtocol.CMD_READ, 0, at, 1024, null, ab, ar -> {
                                    try {
                                        assertEquals(1024, ar);
                                        assertData(ab, at);
                                        asyncDone.incrementAndGet();
                                    } catch (Throwable e) {
                                        failures.add(e);
                                    }
                                    asyncAll.countDown();
                                });
                            }
                        }
                    }
                });
                workers.add(w);
                w.start();
            }
            for (Thread w : workers) {
                w.join(30_000);
            }
            // Whatever asynchronous requests thread 0 did not send, send now.
            while (asyncAll.getCount() > 0) {
                long at = 4096;
                ByteBuffer ab = ByteBuffer.allocateDirect(1024);
                c.submitAsync(NbdProtocol.CMD_READ, 0, at, 1024, null, ab, ar -> {
                    if (ar != 1024) {
                        failures.add(new AssertionError("async result " + ar));
                    }
                    asyncDone.incrementAndGet();
                    asyncAll.countDown();
                });
            }
            assertTrue(asyncAll.await(20, TimeUnit.SECONDS), "every asynchronous request completed");
            replier.join(10_000);
            assertNull(serverFailure.get());
            assertEquals(List.of(), failures, "seed " + seed);
            assertEquals(asyncRequests, asyncDone.get());
            assertNull(c.brokenReason());
            assertEquals(0, c.inFlight());
        }
    }

    @Test
    void aReplyForARequestWhoseOwnerGaveUpIsDiscardedAndTheConnectionGoesOn() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdConnection c = NbdConnection.open(server.uri(), null)) {
            ByteBuffer readerBuffer = ByteBuffer.allocateDirect(4096);
            AtomicInteger readerResult = new AtomicInteger(1);
            Thread reader = new Thread(() -> readerResult.set(c.request(NbdProtocol.CMD_READ, 0, 0, 4096, null, readerBuffer)));
            reader.start();
            FakeNbdServer.Request first = server.next();
            awaitReceiver(c, reader);

            ByteBuffer abandoned = ByteBuffer.allocateDirect(4096);
            for (int i = 0; i < 4096; i++) {
                abandoned.put(i, (byte) 0x55);
            }
            AtomicInteger ownerResult = new AtomicInteger(1);
            Thread owner = new Thread(() -> ownerResult.set(c.request(NbdProtocol.CMD_READ, 0, 8192, 4096, null, abandoned)));
            owner.start();
            FakeNbdServer.Request second = server.next();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (owner.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                Thread.sleep(1); // parked behind the reader, not inside the send
            }
            owner.interrupt(); // the owner gives up waiting: its slot stays reserved for the answer
            owner.join(10_000);
            assertEquals(-EINTR, ownerResult.get());
            assertEquals(2, c.inFlight(), "the given-up request still holds its slot until answered");

            server.replyData(second); // lands nowhere
            server.replyData(first);
            reader.join(10_000);
            assertEquals(4096, readerResult.get());
            assertData(readerBuffer, 0);
            for (int i = 0; i < 4096; i++) {
                assertEquals((byte) 0x55, abandoned.get(i), "the abandoned buffer is untouched at " + i);
            }
            assertEquals(0, c.inFlight());

            // The connection is fine, and the given-up cookie is now unknown.
            Thread answer = answerInOrder(server, 1);
            ByteBuffer again = ByteBuffer.allocateDirect(4096);
            assertEquals(4096, c.request(NbdProtocol.CMD_READ, 0, 12288, 4096, null, again));
            assertData(again, 12288);
            answer.join(10_000);
            server.replyData(second);
            ByteBuffer after = ByteBuffer.allocateDirect(512);
            int r = c.request(NbdProtocol.CMD_READ, 0, 0, 512, null, after);
            assertEquals(-NbdProtocol.ENOTCONN, r, "a second answer for a finished cookie breaks the protocol");
            assertTrue(c.violated());
        }
    }

    @Test
    void aServerThatDiesWhileARequesterIsReadingFailsEveryRequestOnce() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir)) {
            AtomicInteger lost = new AtomicInteger();
            NbdConnection c = NbdConnection.open(server.uri(), x -> lost.incrementAndGet());
            List<Integer> results = new CopyOnWriteArrayList<>();
            List<Thread> waiting = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                long at = i * 4096L;
                Thread t = new Thread(() -> results.add(c.request(NbdProtocol.CMD_READ, 0, at, 4096, null,
                        ByteBuffer.allocateDirect(4096))));
                t.start();
                waiting.add(t);
            }
            CountDownLatch asyncDone = new CountDownLatch(2);
            List<Integer> asyncResults = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 2; i++) {
                c.submitAsync(NbdProtocol.CMD_FLUSH, 0, 0, 0, null, null, r -> {
                    asyncResults.add(r);
                    asyncDone.countDown();
                });
            }
            for (int i = 0; i < 6; i++) {
                server.next();
            }
            assertTrue(c.receivingThread() != null, "someone is reading when the server dies");
            server.hangUp();
            for (Thread t : waiting) {
                t.join(10_000);
                assertTrue(!t.isAlive(), "a waiting requester was woken");
            }
            assertTrue(asyncDone.await(10, TimeUnit.SECONDS));
            assertEquals(List.of(-107, -107, -107, -107), results);
            assertEquals(List.of(-107, -107), asyncResults);
            assertEquals(1, lost.get(), "the owner hears of the loss once");
            assertEquals(-NbdProtocol.ENOTCONN, c.request(NbdProtocol.CMD_FLUSH, 0, 0, 0, null, null));
            c.close();
        }
    }

    @Test
    void completionsMaySubmitMoreAndEvenWaitOnTheReadingThread() throws Exception {
        int total = 500;
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdConnection c = NbdConnection.open(server.uri(), null)) {
            Thread answer = answerInOrder(server, total + 1);
            CountDownLatch done = new CountDownLatch(1);
            AtomicInteger completed = new AtomicInteger();
            AtomicInteger blockingInside = new AtomicInteger(1);
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            NbdConnection.Completion[] next = new NbdConnection.Completion[1];
            AtomicInteger sent = new AtomicInteger();
            next[0] = r -> {
                if (r != 0) {
                    failures.add(new AssertionError("flush " + r));
                }
                int n = completed.incrementAndGet();
                if (n == total / 2) {
                    // A blocking request from a completion: the reading thread reads its own reply.
                    ByteBuffer b = ByteBuffer.allocateDirect(512);
                    blockingInside.set(c.request(NbdProtocol.CMD_READ, 0, 512, 512, null, b));
                }
                if (sent.get() < total) {
                    sent.incrementAndGet();
                    c.submitAsync(NbdProtocol.CMD_FLUSH, 0, 0, 0, null, null, next[0]);
                } else if (n == total) {
                    done.countDown();
                }
            };
            for (int i = 0; i < 16; i++) {
                sent.incrementAndGet();
                c.submitAsync(NbdProtocol.CMD_FLUSH, 0, 0, 0, null, null, next[0]);
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), "all " + total + " completed; got " + completed.get());
            assertEquals(512, blockingInside.get());
            assertEquals(List.of(), failures);
            answer.join(10_000);
        }
    }

    /**
     * An asynchronous request on a connection that dies unanswered is re-sent, as a blocking one
     * is, once the client has reconnected within {@code reconnect-delay} (shared/spec/nbd.md §2.4).
     */
    @Test
    void anAsynchronousRequestLostWithTheConnectionIsResentAfterTheReconnect() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdClient client = NbdClient.open(server.uri(5), false)) {
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            CompletableFuture<Integer> done = new CompletableFuture<>();
            client.requestAsync(NbdProtocol.CMD_READ, 0, 8192, 4096, null, b, done::complete);
            FakeNbdServer.Request first = server.next();
            server.hangUp(); // no answer: the request's fate is unknown
            FakeNbdServer.Request again = server.next();
            assertEquals(first.type(), again.type());
            assertEquals(first.offset(), again.offset());
            assertEquals(first.length(), again.length());
            server.replyData(again);
            assertEquals(4096, done.get(20, TimeUnit.SECONDS));
            assertData(b, 8192);
            assertEquals(NbdClient.State.CONNECTED, client.state());
        }
    }

    @Test
    void withoutReconnectDelayALostAsynchronousRequestFailsWithEio() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdClient client = NbdClient.open(server.uri(0), false)) {
            CompletableFuture<Integer> done = new CompletableFuture<>();
            client.requestAsync(NbdProtocol.CMD_READ, 0, 0, 4096, null, ByteBuffer.allocateDirect(4096),
                    done::complete);
            server.next();
            server.hangUp();
            assertEquals(-NbdProtocol.EIO, done.get(20, TimeUnit.SECONDS));
            // The lost connection's background reader ends instead of waiting forever.
            String readerName = "nbd-" + server.uri().where();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (liveThread(readerName) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(!liveThread(readerName), "the reader of the lost connection ended");
        }
    }

    /**
     * The blocking path keeps the same rule as the asynchronous one: without reconnect-delay a
     * request lost with its connection fails with EIO, never re-sent on the reconnected one.
     */
    @Test
    void withoutReconnectDelayALostBlockingRequestFailsWithEioEvenOnceReconnected() throws Exception {
        try (FakeNbdServer server = new FakeNbdServer(dir);
             NbdClient client = NbdClient.open(server.uri(0), false)) {
            CompletableFuture<Integer> done = new CompletableFuture<>();
            Thread requester = new Thread(() -> done.complete(client.request(NbdProtocol.CMD_READ, 0, 0, 4096, null,
                    ByteBuffer.allocateDirect(4096))));
            requester.start();
            server.next();
            server.hangUp();
            answerInOrder(server, 1); // a re-sent request would be answered, and the test would see 4096
            assertEquals(-NbdProtocol.EIO, done.get(20, TimeUnit.SECONDS));
            requester.join(10_000);
        }
    }

    private static boolean liveThread(String name) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name) && t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    // -----------------------------------------------------------------------------------------

    /** A server thread that answers the next {@code n} requests as they come (READ data, else success). */
    private static Thread answerInOrder(FakeNbdServer server, int n) {
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    FakeNbdServer.Request r = server.next();
                    if (r.type() == NbdProtocol.CMD_READ) {
                        server.replyData(r);
                    } else {
                        server.replySimple(r, 0);
                    }
                }
            } catch (Exception e) {
                // the test fails on its own assertions
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void awaitReceiver(NbdConnection c, Thread expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (c.receivingThread() != expected && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(expected, c.receivingThread(), "the first requester reads replies");
    }

    private static void assertData(ByteBuffer b, long offset) {
        for (int i = 0; i < b.limit(); i++) {
            if (b.get(i) != FakeNbdServer.expected(offset + i)) {
                throw new AssertionError("byte " + i + " of the reply for offset " + offset + " is misrouted");
            }
        }
    }
}
