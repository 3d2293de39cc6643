package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.*;

import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The NBD client of one image: the current {@link NbdConnection} and what happens when it is
 * lost, as QEMU 7.2's {@code block/nbd.c} does it (shared/spec/nbd.md §2.4).
 * <ul>
 *   <li>States {@code CONNECTED}, {@code CONNECTING_WAIT}, {@code CONNECTING_NOWAIT}, {@code QUIT}.
 *       A lost connection (EOF, reset, a failed send, an {@code ESHUTDOWN} reply) moves to WAIT
 *       when {@code reconnect-delay} &gt; 0, else to NOWAIT; a protocol violation moves to QUIT and
 *       is never retried.</li>
 *   <li>In WAIT, requests in flight at the loss and new ones wait; once the delay has passed since
 *       the loss the state becomes NOWAIT and they fail with EIO. In NOWAIT requests fail at once.
 *       Either way a background thread reconnects (at once, then after 1, 2, 4, 8, 16, 16 … s), so
 *       the disk heals by itself, as QEMU's does.</li>
 *   <li>A request whose reply did not come is re-sent on the new connection, same data, offset
 *       and flags, only after the old socket is closed (the replay hazard of §2.5).</li>
 *   <li>Durability across a loss (our rule; QEMU has none: its next flush succeeds on the new
 *       server although writes the old one answered may be gone). A write reply is not a promise
 *       of durability (§1.8), so writes answered but not yet covered by a successful FLUSH are
 *       either replayed or reported:
 *       <ul>
 *         <li>with {@code reconnect-delay} &gt; 0 the new connection first replays them, in answer
 *             order ({@link NbdWriteJournal}), so a guest flush after the reconnect covers them
 *             even if the old server lost its volatile cache; if the journal could not keep them
 *             all (its memory bound), the loss cannot be ruled out;</li>
 *         <li>with {@code reconnect-delay=0} (the guest already saw EIO for what was in flight)
 *             nothing is kept: a loss while any non-FUA write was answered but unflushed means
 *             they may be gone;</li>
 *       </ul>
 *       and where they may be gone every later flush fails with EIO (sticky, as the block layer
 *       does after a failed fdatasync). FUA writes were durable when answered.</li>
 *   <li>A new session must show the same size, minimum block and the flags we use, else QUIT.</li>
 *   <li>{@code open-timeout}: the first connection is retried with the same backoff until that many
 *       seconds have passed.</li>
 * </ul>
 * Threads: callers on any thread; whichever thread reads a connection's replies reports a loss
 * through {@link #lost}; one reconnect thread at a time; asynchronous requests that must wait
 * for a reconnect wait on a helper thread. {@link #lock} guards the state fields.
 */
final class NbdClient implements AutoCloseable {
    enum State { CONNECTED, CONNECTING_WAIT, CONNECTING_NOWAIT, QUIT }

    /** Flags whose meaning a reconnect must not change under the block device. */
    private static final int FLAGS_IN_USE = FLAG_READ_ONLY | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM
            | FLAG_SEND_WRITE_ZEROES;
    /** QEMU's connect thread: 1 s, doubling, at most 16 s between attempts. */
    private static final long FIRST_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(16);

    private final NbdUri uri;
    private final NbdConnection.Export export;
    /** Replays answered, unflushed writes after a reconnect; only with reconnect-delay. */
    private final NbdWriteJournal journal;
    /** Writable with SEND_FLUSH: answered writes can be unflushed, so a loss matters. */
    private final boolean writable;
    /** Without a journal: non-FUA writes answered so far, and how many a successful FLUSH covered. */
    private final AtomicLong writesAnswered = new AtomicLong();
    private final AtomicLong writesFlushed = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock:
    private NbdConnection connection;
    private State state = State.CONNECTED;
    private long waitDeadline;
    private Thread reconnector;
    private boolean closed;
    private String lastLoss = "";
    /** Answered writes may have been lost in a reconnect: every later flush fails (sticky). */
    private volatile boolean writesLost;

    private NbdClient(NbdUri uri, NbdConnection first, boolean journal) {
        this.uri = uri;
        this.connection = first;
        this.export = first.export();
        this.writable = journal;
        this.journal = journal && uri.reconnectDelay() > 0 ? new NbdWriteJournal(NbdWriteJournal.DEFAULT_LIMIT) : null;
    }

    /**
     * Connects (retrying for {@code uri.openTimeout()} seconds) and negotiates.
     *
     * @param writable journal answered writes for replay (a read-only image has none)
     * @throws NbdException the last attempt's one-line reason
     */
    static NbdClient open(NbdUri uri, boolean writable) throws NbdException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(uri.openTimeout());
        long backoff = FIRST_BACKOFF_NANOS;
        AtomicReference<NbdClient> self = new AtomicReference<>();
        while (true) {
            try {
                NbdConnection c = NbdConnection.open(uri, lostConnection -> {
                    NbdClient owner = self.get();
                    if (owner != null) {
                        owner.lost(lostConnection);
                    }
                });
                NbdClient client = new NbdClient(uri, c, writable && c.export().has(FLAG_SEND_FLUSH));
                self.set(client);
                if (c.brokenReason() != null) {
                    // Lost before we could listen: the reader's report found no client yet.
                    client.lost(c);
                }
                client.traceConnected(c);
                return client;
            } catch (NbdException e) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw e;
                }
                sleepNanos(Math.min(left, backoff));
                backoff = Math.min(MAX_BACKOFF_NANOS, backoff * 2);
            }
        }
    }

    /** What the first session said about the export. */
    NbdConnection.Export export() {
        return export;
    }

    State state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One request, re-sent after a reconnect while the state is CONNECTING_WAIT: the length read
     * or 0 on success, else -errno (a connection that stays lost is EIO).
     */
    int request(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto) {
        while (true) {
            NbdConnection c = awaitConnection();
            if (c == null) {
                return -EIO;
            }
            int r = c.request(type, flags, offset, length, payload, readInto);
            if (r == -ENOTCONN || r == -ESHUTDOWN) {
                if (r == -ESHUTDOWN) {
                    c.abandon("the server is shutting down (ESHUTDOWN)");
                }
                lost(c);
                if (uri.reconnectDelay() == 0) {
                    // QEMU's CONNECTING_NOWAIT: what was in flight fails, even if the background
                    // reconnect has already healed the connection by now.
                    return -EIO;
                }
                continue;
            }
            answered(r, type, flags, offset, length, payload);
            return r;
        }
    }

    /**
     * One request without waiting for it: {@code done} runs with what {@link #request} would
     * return. On the connected fast path it runs on the thread that reads the reply; a request
     * that finds the connection lost (or loses it) is handed to a helper thread that waits for
     * the reconnect and re-sends it as {@link #request} does. Buffers are borrowed until then.
     */
    void requestAsync(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto,
                      NbdConnection.Completion done) {
        NbdConnection c = connected();
        if (c == null) {
            retry(type, flags, offset, length, payload, readInto, done);
            return;
        }
        c.submitAsync(type, flags, offset, length, payload, readInto, r -> {
            if (r == -ENOTCONN || r == -ESHUTDOWN) {
                if (r == -ESHUTDOWN) {
                    c.abandon("the server is shutting down (ESHUTDOWN)");
                }
                lost(c);
                if (uri.reconnectDelay() == 0) {
                    done.complete(-EIO); // QEMU's CONNECTING_NOWAIT: fail now, heal in the background
                } else {
                    retry(type, flags, offset, length, payload, readInto, done);
                }
                return;
            }
            answered(r, type, flags, offset, length, payload);
            done.complete(r);
        });
    }

    /** {@link #flush} without waiting; {@code done} runs with its result. */
    void flushAsync(NbdConnection.Completion done) {
        if (writesLost) {
            done.complete(-EIO);
            return;
        }
        long mark = journal == null ? writesAnswered.get() : journal.mark();
        requestAsync(CMD_FLUSH, 0, 0, 0, null, null, r -> done.complete(flushed(mark, r)));
    }

    /** Journals or counts a write the server answered successfully. */
    private void answered(int r, int type, int flags, long offset, int length, ByteBuffer payload) {
        if (r >= 0 && writable && type != CMD_READ && type != CMD_FLUSH) {
            if (journal != null) {
                journal.record(type, flags, offset, length, payload);
            } else if ((flags & CMD_FLAG_FUA) == 0) {
                writesAnswered.incrementAndGet();
            }
        }
    }

    /** The connection while CONNECTED, else null (the slow path decides). */
    private NbdConnection connected() {
        lock.lock();
        try {
            return state == State.CONNECTED ? connection : null;
        } finally {
            lock.unlock();
        }
    }

    /** Runs the blocking path (reconnect wait, re-send, EIO) for an asynchronous request, off the reading thread. */
    private void retry(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto,
                       NbdConnection.Completion done) {
        try {
            RETRY.execute(() -> done.complete(request(type, flags, offset, length, payload, readInto)));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.complete(-EIO);
        }
    }

    /** Threads for the rare asynchronous request that must wait for a reconnect. */
    private static final java.util.concurrent.ExecutorService RETRY = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "nbd-retry");
        t.setDaemon(true);
        return t;
    });

    /** NBD_CMD_FLUSH; its success also retires the journal entries it covers. */
    int flush() {
        if (writesLost) {
            return -EIO;
        }
        long mark = journal == null ? writesAnswered.get() : journal.mark();
        return flushed(mark, request(CMD_FLUSH, 0, 0, 0, null, null));
    }

    /** A FLUSH taken at {@code mark} returned {@code r}: retire what it covered; the result for the caller. */
    private int flushed(long mark, int r) {
        if (r == 0 && journal != null) {
            journal.flushed(mark);
        } else if (r == 0) {
            writesFlushed.accumulateAndGet(mark, Math::max);
        }
        return writesLost ? -EIO : r;
    }

    /**
     * BLOCK_STATUS (REQ_ONE) for {@code base:allocation}: the first extent, or null when the
     * current connection has no allocation context (the caller reports data). {@code result[0]}
     * is 0 or -errno.
     */
    NbdConnection.Extent blockStatus(long offset, int length, int[] result) {
        while (true) {
            NbdConnection c = awaitConnection();
            if (c == null) {
                result[0] = -EIO;
                return null;
            }
            if (!c.export().hasAllocationContext()) {
                result[0] = 0;
                return null;
            }
            NbdConnection.Extent e = c.blockStatus(offset, length, result);
            if (result[0] == -ENOTCONN) {
                lost(c);
                continue;
            }
            return e;
        }
    }

    /** Soft disconnect; the reconnect thread stops. */
    @Override
    public void close() {
        NbdConnection c;
        Thread t;
        lock.lock();
        try {
            closed = true;
            state = State.QUIT;
            c = connection;
            connection = null;
            t = reconnector;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (c != null) {
            c.close();
        }
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // -----------------------------------------------------------------------------------------

    /** The connection to send on, waiting while a reconnect may still come in time; null = fail with EIO. */
    private NbdConnection awaitConnection() {
        lock.lock();
        try {
            while (true) {
                switch (state) {
                    case CONNECTED -> {
                        return connection;
                    }
                    case QUIT, CONNECTING_NOWAIT -> {
                        return null;
                    }
                    case CONNECTING_WAIT -> {
                        long left = waitDeadline - System.nanoTime();
                        if (left <= 0) {
                            state = State.CONNECTING_NOWAIT;
                            changed.signalAll();
                            if (TraceEvent.NBD_RECONNECT_DELAY_EXPIRED.enabled) {
                                Trace.emit(TraceEvent.NBD_RECONNECT_DELAY_EXPIRED, uri.where(), uri.reconnectDelay());
                            }
                        } else {
                            try {
                                changed.awaitNanos(left);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                return null;
                            }
                        }
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Connection {@code c} is gone (reported by its reader or by a request on it). */
    private void lost(NbdConnection c) {
        lock.lock();
        try {
            if (closed || connection != c || state != State.CONNECTED) {
                return; // already handled, or our own close
            }
            connection = null;
            if (c.violated()) {
                state = State.QUIT;
            } else if (uri.reconnectDelay() > 0) {
                state = State.CONNECTING_WAIT;
                waitDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(uri.reconnectDelay());
            } else {
                state = State.CONNECTING_NOWAIT;
            }
            lastLoss = String.valueOf(c.brokenReason());
            if (writable && journal == null && writesAnswered.get() > writesFlushed.get()) {
                latchWritesLost();
            }
            if (TraceEvent.NBD_CONNECTION_LOST.enabled) {
                Trace.emit(TraceEvent.NBD_CONNECTION_LOST, uri.where(), c.inFlight(), state, lastLoss);
            }
            if (state != State.QUIT && reconnector == null) {
                reconnector = new Thread(this::reconnect, "nbd-reconnect-" + uri.where());
                reconnector.setDaemon(true);
                reconnector.start();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        // Close the old socket before anything is re-sent, so no stale request can land later.
        c.abandon(lastLoss);
    }

    /** The reconnect thread: attempts with backoff until connected, quit or closed. */
    private void reconnect() {
        long backoff = FIRST_BACKOFF_NANOS;
        for (int attempt = 1; ; attempt++) {
            lock.lock();
            try {
                if (closed || state == State.QUIT || state == State.CONNECTED) {
                    reconnector = null;
                    return;
                }
            } finally {
                lock.unlock();
            }
            if (TraceEvent.NBD_RECONNECT_ATTEMPT.enabled) {
                Trace.emit(TraceEvent.NBD_RECONNECT_ATTEMPT, uri.where(), attempt);
            }
            String failure = attemptReconnect();
            if (failure == null) {
                return;
            }
            if (TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT.enabled) {
                Trace.emit(TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT, uri.where(), -EIO, 0, failure);
            }
            if (TraceEvent.NBD_CONNECT_THREAD_SLEEP.enabled) {
                Trace.emit(TraceEvent.NBD_CONNECT_THREAD_SLEEP, TimeUnit.NANOSECONDS.toSeconds(backoff));
            }
            lock.lock();
            try {
                long left = backoff;
                while (!closed && left > 0) {
                    left = changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
            backoff = Math.min(MAX_BACKOFF_NANOS, backoff * 2);
        }
    }

    /** One attempt: connect, check the export, replay the journal, go CONNECTED. Null on success, else why not. */
    private String attemptReconnect() {
        NbdConnection c;
        try {
            c = NbdConnection.open(uri, this::lost);
        } catch (NbdException e) {
            return e.getMessage();
        }
        NbdConnection.Export now = c.export();
        if (now.size() != export.size() || now.minimumBlock() != export.minimumBlock()
                || (now.flags() & FLAGS_IN_USE) != (export.flags() & FLAGS_IN_USE)) {
            c.close();
            String why = "the export changed across the reconnect: size " + export.size() + " -> " + now.size()
                    + ", flags 0x" + Integer.toHexString(export.flags()) + " -> 0x" + Integer.toHexString(now.flags());
            quit(why);
            return null;
        }
        int replayed = 0;
        if (journal != null) {
            if (journal.incomplete()) {
                latchWritesLost();
            }
            List<NbdWriteJournal.Entry> entries = journal.snapshot();
            for (NbdWriteJournal.Entry e : entries) {
                int r = c.request(e.type(), e.flags(), e.offset(), e.length(),
                        e.data() == null ? null : ByteBuffer.wrap(e.data()), null);
                if (r == -ENOTCONN) {
                    c.abandon("lost while replaying");
                    return "lost while replaying " + entries.size() + " answered writes";
                }
                if (r < 0) {
                    latchWritesLost(); // the new server refused data the old one had accepted
                }
                replayed++;
            }
        }
        lock.lock();
        try {
            if (closed) {
                c.close();
                reconnector = null;
                return null;
            }
            connection = c;
            state = State.CONNECTED;
            reconnector = null;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT.enabled) {
            Trace.emit(TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT, uri.where(), 0, replayed, "connected");
        }
        traceConnected(c);
        if (c.brokenReason() != null) {
            lost(c);
        }
        return null;
    }

    private void latchWritesLost() {
        if (!writesLost) {
            writesLost = true;
            if (TraceEvent.BLK_FLUSH_ERROR_LATCHED.enabled) {
                Trace.emit(TraceEvent.BLK_FLUSH_ERROR_LATCHED, uri.toUri(), EIO);
            }
        }
    }

    private void quit(String why) {
        lock.lock();
        try {
            state = State.QUIT;
            reconnector = null;
            lastLoss = why;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT.enabled) {
            Trace.emit(TraceEvent.NBD_RECONNECT_ATTEMPT_RESULT, uri.where(), -EIO, 0, why);
        }
    }

    private void traceConnected(NbdConnection c) {
        if (TraceEvent.NBD_CLIENT_HANDSHAKE_SUCCESS.enabled) {
            NbdConnection.Export e = c.export();
            Trace.emit(TraceEvent.NBD_CLIENT_HANDSHAKE_SUCCESS, uri.where(), e.size(), e.flags(),
                    e.structuredReplies() ? 1 : 0, e.hasAllocationContext() ? 1 : 0, uri.export());
        }
    }

    private static void sleepNanos(long nanos) throws NbdException {
        try {
            TimeUnit.NANOSECONDS.sleep(nanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NbdException("interrupted while waiting for the NBD server");
        }
    }
}
