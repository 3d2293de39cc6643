package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One NBD connection (shared/spec/nbd.md §1): the fixed-newstyle handshake ({@link NbdHandshake}:
 * structured replies, GO with the block-size constraints, the EXPORT_NAME fallback for servers
 * without GO), then transmission with up to {@link NbdProtocol#MAX_IN_FLIGHT} requests pipelined from any number
 * of threads, matched to their replies by cookie.
 *
 * <p><b>Who reads replies</b> (QEMU 7.2's {@code receive_mutex} scheme, nbd.md §2.2): there is no
 * reader thread in the path of a blocking request. The thread that holds the receive role reads
 * the next reply, hands it to its owner (unparks the waiting thread, or runs an asynchronous
 * request's {@link Completion}) and goes on until its own request is answered; then it passes the
 * role to another waiting owner. At queue depth 1 the requesting thread sends its request and
 * reads its own reply: no thread hand-off. Asynchronous requests ({@link #submitAsync}) are read
 * by whoever holds the role, or, when no blocking request is waiting, by one background thread
 * started on the first of them; their completions run on that thread and may submit more.
 *
 * <p>Requests live in {@link #MAX_IN_FLIGHT} reusable {@link Slot}s (cookie = generation·256 +
 * slot, so a reply for a finished request is an unknown cookie); the request header and the
 * gathering-write array are the slot's own, and replies are parsed from one receive buffer, so a
 * request allocates nothing here. WRITE header and payload leave in one gathering write.
 *
 * <p>A transport failure or a protocol violation (bad magic, unknown cookie, a chunk outside its
 * request) ends the connection: every request in flight and every later one completes with
 * {@link NbdProtocol#ENOTCONN}, since their fate on the server is unknown, and the owner's
 * listener hears of it once ({@link NbdClient} decides whether to reconnect and re-send). A
 * waiting thread that is interrupted gives up with EINTR; its slot stays reserved until the
 * server answers, and that answer's data is discarded (never written to the buffer the caller
 * took back). Interrupting the thread that is reading replies closes the socket (Java's
 * interruptible channels): that is a lost connection. With {@code base:allocation} negotiated,
 * BLOCK_STATUS answers one extent per request.
 */
final class NbdConnection implements AutoCloseable {
    /** What the server said about the export. */
    record Export(long size, int flags, int minimumBlock, int preferredBlock, int maximumPayload,
                  boolean structuredReplies, long allocationContext) {
        boolean has(int flag) {
            return (flags & flag) != 0;
        }

        /** True when the server selected {@code base:allocation}, so BLOCK_STATUS may be sent. */
        boolean hasAllocationContext() {
            return allocationContext >= 0;
        }
    }

    /** The first extent of a BLOCK_STATUS reply: its length and its {@code base:allocation} flags. */
    record Extent(long length, int flags) {
    }

    /**
     * Completion of an asynchronous request: the length read or 0, else -errno. Runs on the thread
     * that read the reply (or on the submitting thread when the request could not be sent); it
     * may submit further requests but should not block.
     */
    @FunctionalInterface
    interface Completion {
        void complete(int result);
    }

    /** Slot states. RECEIVING: the receiver is writing reply data into the owner's buffer. */
    private static final int FREE = 0;
    private static final int IN_FLIGHT = 1;
    private static final int RECEIVING = 2;
    private static final int DONE = 3;
    private static final int ABANDONED = 4;
    private static final int REQUEST_HEADER = 28;
    private static final int SIMPLE_REPLY_HEADER = 16;
    private static final int CHUNK_HEADER = 20;

    /** One request in flight (QEMU's {@code NBDClientRequest}); reused, never reallocated. */
    private static final class Slot {
        final int index;
        final AtomicInteger state = new AtomicInteger(FREE);
        final ByteBuffer header = ByteBuffer.allocateDirect(REQUEST_HEADER);
        final ByteBuffer[] gather = new ByteBuffer[2];
        int generation;
        // Written by the submitter before the state becomes IN_FLIGHT:
        long cookie;
        int type;
        long offset;
        int length;
        ByteBuffer readInto;
        Thread owner;
        Completion callback;
        // Receiver only:
        long covered;
        int firstError;
        Extent extent;
        /** Written before the state becomes DONE. */
        volatile int result;

        Slot(int index) {
            this.index = index;
        }
    }

    private static final VarHandle RECEIVER;

    static {
        try {
            RECEIVER = MethodHandles.lookup().findVarHandle(NbdConnection.class, "receiver", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NbdUri uri;
    private final SocketChannel channel;
    private final Export export;
    private final Object sendLock = new Object();
    private final Slot[] slots = new Slot[MAX_IN_FLIGHT];
    /** Free slots; taking one is the in-flight window. */
    private final ArrayBlockingQueue<Slot> free = new ArrayBlockingQueue<>(MAX_IN_FLIGHT);
    /** Asynchronous requests sent and not yet completed. */
    private final AtomicInteger asyncOutstanding = new AtomicInteger();
    /** Asynchronous requests waiting for a slot on {@link #overflow}. */
    private final AtomicInteger overflowQueued = new AtomicInteger();
    private final Consumer<NbdConnection> onLost;
    private final AtomicBoolean lostReported = new AtomicBoolean();
    private final boolean tcp;
    /** The thread allowed to read from the socket (the receive role), or null; taken with RECEIVER's CAS. */
    private volatile Thread receiver;
    private volatile Thread backgroundReader;
    private volatile boolean stopped;
    private ExecutorService overflow; // guarded by this
    private volatile String brokenReason;
    private volatile boolean violated;
    private volatile int inFlightAtLoss;
    /** Received bytes not yet parsed (read mode). Receiver only. */
    private final ByteBuffer in = ByteBuffer.allocateDirect(RECEIVE_BUFFER).flip();
    /** Reply headers and small chunk payloads are copied here to be parsed. Receiver only. */
    private final ByteBuffer scratch = ByteBuffer.allocate(MAX_CHUNK_METADATA + 24);
    /** Where the data of a reply whose owner gave up goes. Receiver only. */
    private final ByteBuffer discard = ByteBuffer.allocateDirect(64 << 10);

    private NbdConnection(NbdUri uri, SocketChannel channel, Export export, Consumer<NbdConnection> onLost) {
        this.uri = uri;
        this.channel = channel;
        this.export = export;
        this.onLost = onLost;
        this.tcp = uri.socket() == null;
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i);
            free.add(slots[i]);
        }
    }

    /**
     * Connects and negotiates.
     *
     * @throws NbdException with a one-line reason ("Failed to connect to 'unix:/x': Connection
     *         refused", "Requested export not available", "server is not fixed-newstyle", …)
     */
    static NbdConnection open(NbdUri uri, Consumer<NbdConnection> onLost) throws NbdException {
        SocketChannel ch;
        try {
            if (uri.socket() != null) {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(uri.socket()));
            } else {
                ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.connect(new InetSocketAddress(uri.host(), uri.port()));
            }
        } catch (IOException | RuntimeException e) {
            throw new NbdException("Failed to connect to '" + uri.where() + "': " + reason(e));
        }
        // A server that accepts and then says nothing must not hang the open (or a reconnect).
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
            timedOut.set(true);
            closeQuietly(ch);
        }, handshakeTimeoutSeconds, TimeUnit.SECONDS);
        try {
            Export export = NbdHandshake.negotiate(ch, uri.export());
            if (!watchdog.cancel(false)) {
                throw new ClosedChannelException();
            }
            return new NbdConnection(uri, ch, export, onLost);
        } catch (NbdException e) {
            watchdog.cancel(false);
            NbdHandshake.abortQuietly(ch);
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            watchdog.cancel(false);
            closeQuietly(ch);
            throw new NbdException("NBD handshake with '" + uri.where() + "' failed: " + (timedOut.get()
                    ? "no answer within " + handshakeTimeoutSeconds + " s" : reason(e)));
        }
    }

    /** How long the handshake may take before the connection is given up (tests shorten it). */
    static volatile int handshakeTimeoutSeconds = 30;

    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nbd-handshake-watchdog");
        t.setDaemon(true);
        return t;
    });

    Export export() {
        return export;
    }


    /**
     * Sends one request and waits for its reply: the length read (READ) or 0 on success, else
     * -errno. {@code payload} is sent after the header for WRITE; {@code readInto} receives READ
     * data. Both are borrowed until this returns; their positions are unchanged.
     */
    int request(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto) {
        if (brokenReason != null) {
            return -ENOTCONN;
        }
        Slot s = free.poll();
        if (s == null) {
            s = takeSlot();
            if (s == null) {
                return Thread.currentThread().isInterrupted() ? -EINTR : -ENOTCONN;
            }
        }
        start(s, type, flags, offset, length, payload, readInto, Thread.currentThread(), null);
        if (!awaitDone(s)) {
            return -EINTR;
        }
        return release(s);
    }

    /**
     * BLOCK_STATUS with REQ_ONE: the first extent at {@code offset}, or null with {@code result[0]}
     * set to -errno.
     */
    Extent blockStatus(long offset, int length, int[] result) {
        if (brokenReason != null) {
            result[0] = -ENOTCONN;
            return null;
        }
        Slot s = takeSlot();
        if (s == null) {
            result[0] = Thread.currentThread().isInterrupted() ? -EINTR : -ENOTCONN;
            return null;
        }
        start(s, CMD_BLOCK_STATUS, CMD_FLAG_REQ_ONE, offset, length, null, null, Thread.currentThread(), null);
        if (!awaitDone(s)) {
            result[0] = -EINTR;
            return null;
        }
        Extent e = s.extent;
        result[0] = release(s);
        return result[0] < 0 ? null : e;
    }

    /**
     * Sends one request without waiting: {@code done} runs once with the result. Never blocks for
     * the reply; when all slots are busy the request waits for one on a helper thread. Buffers
     * are borrowed until {@code done} runs.
     */
    void submitAsync(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto,
                     Completion done) {
        if (brokenReason != null) {
            done.complete(-ENOTCONN);
            return;
        }
        Slot s = overflowQueued.get() == 0 ? free.poll() : null;
        if (s == null) {
            queueForSlot(type, flags, offset, length, payload, readInto, done);
            return;
        }
        asyncOutstanding.incrementAndGet();
        start(s, type, flags, offset, length, payload, readInto, null, done);
        if (receiver == null) {
            wakeBackgroundReader();
        }
    }

    /** The thread reading replies now, or null (tests check who reads). */
    Thread receivingThread() {
        return receiver;
    }

    /** Why the connection ended, or null while it works. */
    String brokenReason() {
        return brokenReason;
    }

    /** True when the connection ended because the server broke the protocol (never reconnect). */
    boolean violated() {
        return violated;
    }

    /** Requests waiting for their reply, or, once the connection is lost, those that were waiting then. */
    int inFlight() {
        return brokenReason == null ? busySlots() : inFlightAtLoss;
    }

    /**
     * Hard close after a loss: no NBD_CMD_DISC, no waiting. Safe from any thread, including the
     * one reading replies. Requests still waiting complete with ENOTCONN.
     */
    void abandon(String why) {
        markBroken(why);
        closeQuietly(channel);
        failIfNobodyReads();
    }

    /** Soft disconnect (NBD_CMD_DISC) once nothing is in flight, then close. */
    @Override
    public void close() {
        if (brokenReason == null) {
            try {
                drainSlots();
                ByteBuffer disc = ByteBuffer.allocate(REQUEST_HEADER).putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) CMD_DISC).putLong(0).putLong(0).putInt(0).flip();
                synchronized (sendLock) {
                    NbdHandshake.writeFully(channel, disc);
                }
            } catch (IOException e) {
                // Closing anyway: nothing is in flight, so nothing is lost.
            }
        }
        markBroken("closed");
        closeQuietly(channel);
        failIfNobodyReads();
        stopped = true;
        Thread bg = backgroundReader;
        if (bg != null) {
            LockSupport.unpark(bg);
            try {
                bg.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (overflow != null) {
                overflow.shutdown();
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Sending

    /** A free slot, waiting for one; null once the connection is broken or the thread interrupted. */
    private Slot takeSlot() {
        Slot s;
        while ((s = free.poll()) == null) {
            if (brokenReason != null) {
                return null;
            }
            if (receiver == Thread.currentThread()) {
                // A completion on the reading thread made a blocking request: read until a slot frees.
                if (!receiveOne()) {
                    return null;
                }
                continue;
            }
            try {
                s = free.poll(100, TimeUnit.MILLISECONDS);
                if (s != null) {
                    return s;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return s;
    }

    /** Fills the slot, publishes it and sends the request; a failed send breaks the connection. */
    private void start(Slot s, int type, int flags, long offset, int length, ByteBuffer payload,
                       ByteBuffer readInto, Thread owner, Completion callback) {
        int generation = s.generation = (s.generation + 1) & 0x7fffff;
        long cookie = ((long) generation << 8) | s.index;
        s.cookie = cookie;
        s.type = type;
        s.offset = offset;
        s.length = length;
        s.readInto = readInto;
        s.owner = owner;
        s.callback = callback;
        s.covered = 0;
        s.firstError = 0;
        s.extent = null;
        s.state.set(IN_FLIGHT);
        ByteBuffer h = s.header.clear();
        h.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                .putInt(length).flip();
        try {
            synchronized (sendLock) {
                if (payload == null) {
                    NbdHandshake.writeFully(channel, h);
                } else {
                    // Header and payload as one unit, in one gathering write where the socket takes it all.
                    int position = payload.position();
                    s.gather[0] = h;
                    s.gather[1] = payload;
                    try {
                        while (h.hasRemaining() || payload.hasRemaining()) {
                            channel.write(s.gather);
                        }
                    } finally {
                        payload.position(position);
                        s.gather[1] = null;
                    }
                }
            }
        } catch (IOException e) {
            markBroken("send failed: " + reason(e));
            closeQuietly(channel);
            failIfNobodyReads();
        }
    }

    /**
     * Waits until the slot is answered, reading replies whenever no other thread is. False when
     * the thread was interrupted and gave up (the slot then belongs to the receiver, which frees
     * it when the answer comes); true when answered: the caller reads it and {@link #release}s it.
     */
    private boolean awaitDone(Slot s) {
        Thread me = Thread.currentThread();
        boolean interrupted = false;
        try {
            while (s.state.get() != DONE) {
                if (receiver == me) {
                    // Re-entered from a completion on the reading thread: keep reading, keep the role.
                    while (s.state.get() != DONE && receiveOne()) {
                        // dispatches replies, ours among them
                    }
                    continue;
                }
                if (interrupted || Thread.interrupted()) {
                    interrupted = true;
                    if (s.state.compareAndSet(IN_FLIGHT, ABANDONED)) {
                        return false;
                    }
                    // RECEIVING: the receiver is writing into our buffer; give up once it is done.
                    LockSupport.parkNanos(this, 100_000);
                    continue;
                }
                if (RECEIVER.compareAndSet(this, null, me)) {
                    try {
                        while (s.state.get() != DONE && receiveOne()) {
                            // dispatches replies, ours among them
                        }
                    } finally {
                        releaseReceiver();
                    }
                    continue;
                }
                LockSupport.park(this);
            }
            return true;
        } finally {
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    /** Frees an answered slot; returns its result. */
    private int release(Slot s) {
        int r = s.result;
        s.readInto = null;
        s.owner = null;
        s.extent = null;
        s.state.set(FREE);
        free.add(s);
        return r;
    }

    private void queueForSlot(int type, int flags, long offset, int length, ByteBuffer payload,
                              ByteBuffer readInto, Completion done) {
        ExecutorService ex;
        synchronized (this) {
            if (overflow == null) {
                overflow = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "nbd-queue-" + uri.where());
                    t.setDaemon(true);
                    return t;
                });
            }
            ex = overflow;
        }
        overflowQueued.incrementAndGet();
        try {
            ex.execute(() -> {
                overflowQueued.decrementAndGet();
                done.complete(request(type, flags, offset, length, payload, readInto));
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            overflowQueued.decrementAndGet();
            done.complete(-ENOTCONN);
        }
    }

    // -----------------------------------------------------------------------------------------
    // The receive role

    private void releaseReceiver() {
        receiver = null;
        // Hand the role on: a blocking owner still waiting, else the background reader.
        for (Slot s : slots) {
            int st = s.state.get();
            Thread owner = s.owner;
            if ((st == IN_FLIGHT || st == RECEIVING) && owner != null) {
                LockSupport.unpark(owner);
                return;
            }
        }
        if (asyncOutstanding.get() > 0 || brokenReason != null && busySlots() > 0) {
            wakeBackgroundReader();
        }
    }

    private void wakeBackgroundReader() {
        Thread bg = backgroundReader;
        if (bg == null) {
            synchronized (this) {
                bg = backgroundReader;
                if (bg == null) {
                    bg = new Thread(this::readInBackground, "nbd-" + uri.where());
                    bg.setDaemon(true);
                    backgroundReader = bg;
                    bg.start();
                    return;
                }
            }
        }
        LockSupport.unpark(bg);
    }

    /** The background reader: holds the role while asynchronous requests are outstanding. */
    private void readInBackground() {
        Thread me = Thread.currentThread();
        while (!stopped) {
            if (brokenReason != null && busySlots() == 0) {
                return; // a lost connection: nothing left to read or to fail
            }
            boolean work = asyncOutstanding.get() > 0 || brokenReason != null && busySlots() > 0;
            if (work && RECEIVER.compareAndSet(this, null, me)) {
                try {
                    while ((asyncOutstanding.get() > 0 || brokenReason != null && busySlots() > 0) && receiveOne()) {
                        // completions run here and may submit more
                    }
                } finally {
                    releaseReceiver();
                }
                continue;
            }
            LockSupport.park(this);
        }
    }

    /** After a break: fails what is in flight now unless a receiver will (it sees the closed socket). */
    private void failIfNobodyReads() {
        Thread me = Thread.currentThread();
        if (receiver == me) {
            return; // the caller is the receiver and fails them on its way out
        }
        if (RECEIVER.compareAndSet(this, null, me)) {
            try {
                failAll();
            } finally {
                releaseReceiver();
            }
        }
    }

    /**
     * Reads and dispatches one reply (or one structured chunk). Receiver only. False once the
     * connection is broken; every request in flight has then completed with ENOTCONN.
     */
    private boolean receiveOne() {
        if (brokenReason != null) {
            failAll();
            return false;
        }
        try {
            dispatchNext();
            return true;
        } catch (ProtocolViolation e) {
            violated = true;
            markBroken("protocol violation: " + e.getMessage());
            closeQuietly(channel);
        } catch (IOException e) {
            markBroken("connection lost: " + reason(e));
        }
        failAll();
        if (onLost != null && lostReported.compareAndSet(false, true)) {
            onLost.accept(this);
        }
        return false;
    }

    /** Completes every request in flight with ENOTCONN and frees abandoned slots. Receiver only. */
    private void failAll() {
        for (Slot s : slots) {
            int st = s.state.get();
            if (st == RECEIVING) {
                s.state.compareAndSet(RECEIVING, IN_FLIGHT);
            }
            if (st != FREE && st != DONE) {
                complete(s, -ENOTCONN);
            }
        }
    }

    /** Hands a result to the slot's owner: unparks a waiting thread or runs the completion. Receiver only. */
    private void complete(Slot s, int r) {
        s.result = r;
        if (!s.state.compareAndSet(IN_FLIGHT, DONE)) {
            if (s.state.compareAndSet(ABANDONED, FREE)) {
                s.readInto = null;
                s.owner = null;
                s.callback = null;
                free.add(s);
            }
            return;
        }
        Completion callback = s.callback;
        if (callback != null) {
            // Free the slot first: the completion may submit the next request into it.
            s.callback = null;
            s.readInto = null;
            s.state.set(FREE);
            free.add(s);
            asyncOutstanding.decrementAndGet();
            callback.complete(r);
        } else {
            Thread owner = s.owner;
            if (owner != null) {
                LockSupport.unpark(owner);
            }
        }
    }

    private int busySlots() {
        int n = 0;
        for (Slot s : slots) {
            int st = s.state.get();
            n += st == FREE || st == DONE ? 0 : 1;
        }
        return n;
    }

    /** Waits until every slot is free (nothing in flight), reading abandoned requests' answers. */
    private void drainSlots() throws IOException {
        int n = 0;
        try {
            while (n < MAX_IN_FLIGHT && brokenReason == null) {
                Slot s = free.poll(20, TimeUnit.MILLISECONDS);
                if (s != null) {
                    n++;
                } else if (RECEIVER.compareAndSet(this, null, Thread.currentThread())) {
                    try {
                        // Only answers nobody waits for are left (their owners gave up): read them.
                        if (busySlots() > 0 && !hasWaitingOwner()) {
                            receiveOne();
                        }
                    } finally {
                        releaseReceiver();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        // The slots stay taken: nothing may be sent after NBD_CMD_DISC.
        if (brokenReason != null) {
            throw new IOException(brokenReason);
        }
    }

    private boolean hasWaitingOwner() {
        for (Slot s : slots) {
            int st = s.state.get();
            if ((st == IN_FLIGHT || st == RECEIVING) && (s.owner != null || s.callback != null)) {
                return true;
            }
        }
        return false;
    }

    private Slot lookup(long cookie) {
        long index = cookie & 0xff;
        if (index >= slots.length) {
            return null;
        }
        Slot s = slots[(int) index];
        int st = s.state.get();
        return (st == IN_FLIGHT || st == ABANDONED) && s.cookie == cookie ? s : null;
    }

    /**
     * Starts writing reply data for the slot: the owner's buffer, or, when the owner gave up,
     * nowhere. The RECEIVING state keeps the owner from giving up while its buffer is written.
     */
    private boolean beginData(Slot s) {
        return s.state.compareAndSet(IN_FLIGHT, RECEIVING);
    }

    private void endData(Slot s) {
        s.state.compareAndSet(RECEIVING, IN_FLIGHT);
    }

    // -----------------------------------------------------------------------------------------
    // Replies

    private void dispatchNext() throws IOException {
        ByteBuffer h = scratch.clear().limit(4);
        receive(h);
        int m = h.getInt(0);
        if (m == SIMPLE_REPLY_MAGIC) {
            simpleReply();
        } else if (m == STRUCTURED_REPLY_MAGIC && export.structuredReplies()) {
            structuredChunk();
        } else {
            throw new ProtocolViolation(String.format("bad reply magic 0x%08x", m));
        }
    }

    private void simpleReply() throws IOException {
        ByteBuffer h = scratch.clear().limit(SIMPLE_REPLY_HEADER - 4);
        receive(h);
        int error = h.getInt(0);
        long cookie = h.getLong(4);
        Slot s = lookup(cookie);
        if (s == null) {
            throw new ProtocolViolation("reply for unknown cookie " + cookie);
        }
        if (error != 0) {
            complete(s, toErrno(error));
            return;
        }
        if (s.type == CMD_READ) {
            if (export.structuredReplies()) {
                // A structured READ must be answered by chunks; a simple success carries no data.
                throw new ProtocolViolation("simple reply to a structured READ");
            }
            receiveData(s, 0, s.length);
            complete(s, s.length);
        } else if (s.type == CMD_BLOCK_STATUS) {
            throw new ProtocolViolation("simple success reply to BLOCK_STATUS");
        } else {
            complete(s, 0);
        }
    }

    /** Reads {@code n} bytes of READ data for {@code at} bytes into the slot's request. */
    private void receiveData(Slot s, long at, long n) throws IOException {
        if (beginData(s)) {
            ByteBuffer dst = s.readInto;
            int position = dst.position();
            int limit = dst.limit();
            try {
                dst.limit(position + (int) (at + n)).position(position + (int) at);
                receive(dst);
            } finally {
                dst.limit(limit).position(position);
                endData(s);
            }
        } else {
            skip(n);
        }
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            int piece = (int) Math.min(n, discard.capacity());
            receive(discard.clear().limit(piece));
            n -= piece;
        }
    }

    private void structuredChunk() throws IOException {
        ByteBuffer h = scratch.clear().limit(CHUNK_HEADER - 4);
        receive(h);
        int flags = h.getShort(0) & 0xffff;
        int type = h.getShort(2) & 0xffff;
        long cookie = h.getLong(4);
        long length = Integer.toUnsignedLong(h.getInt(12));
        Slot s = lookup(cookie);
        if (s == null) {
            throw new ProtocolViolation("chunk for unknown cookie " + cookie);
        }
        switch (type) {
            case REPLY_TYPE_NONE -> {
                if (length != 0 || (flags & REPLY_FLAG_DONE) == 0) {
                    throw new ProtocolViolation("NONE chunk with a payload or without DONE");
                }
            }
            case REPLY_TYPE_OFFSET_DATA -> {
                if (s.type != CMD_READ || length <= 8) {
                    throw new ProtocolViolation("OFFSET_DATA chunk for a non-READ or without data");
                }
                long at = readLong() - s.offset;
                long n = length - 8;
                if (at < 0 || at + n > s.length) {
                    throw new ProtocolViolation("OFFSET_DATA chunk outside its request");
                }
                receiveData(s, at, n);
                s.covered += n;
            }
            case REPLY_TYPE_OFFSET_HOLE -> {
                if (s.type != CMD_READ || length != 12) {
                    throw new ProtocolViolation("OFFSET_HOLE chunk for a non-READ or of bad length");
                }
                ByteBuffer b = scratch.clear().limit(12);
                receive(b);
                long at = b.getLong(0) - s.offset;
                long n = Integer.toUnsignedLong(b.getInt(8));
                if (n == 0 || at < 0 || at + n > s.length) {
                    throw new ProtocolViolation("OFFSET_HOLE chunk outside its request");
                }
                if (beginData(s)) {
                    try {
                        int base = s.readInto.position();
                        for (int i = 0; i < n; i++) {
                            s.readInto.put(base + (int) at + i, (byte) 0);
                        }
                    } finally {
                        endData(s);
                    }
                }
                s.covered += n;
            }
            case REPLY_TYPE_BLOCK_STATUS -> {
                if (s.type != CMD_BLOCK_STATUS || length < 12 || (length - 4) % 8 != 0
                        || length > MAX_CHUNK_METADATA) {
                    throw new ProtocolViolation("BLOCK_STATUS chunk for another command or of bad length " + length);
                }
                ByteBuffer b = scratch.clear().limit((int) length);
                receive(b);
                if (Integer.toUnsignedLong(b.getInt(0)) != export.allocationContext()) {
                    throw new ProtocolViolation("BLOCK_STATUS chunk for context " + Integer.toUnsignedString(b.getInt(0)));
                }
                long extentLength = Integer.toUnsignedLong(b.getInt(4));
                if (extentLength == 0 || s.extent != null) {
                    throw new ProtocolViolation("BLOCK_STATUS: an empty extent or a second chunk");
                }
                // With REQ_ONE only the first extent counts; it may not reach past the request.
                s.extent = new Extent(Math.min(extentLength, s.length), b.getInt(8));
            }
            default -> {
                if ((type & REPLY_TYPE_ERROR_BIT) == 0) {
                    throw new ProtocolViolation("unknown chunk type " + type);
                }
                if (length < 6 || length > MAX_CHUNK_METADATA) {
                    throw new ProtocolViolation("error chunk of length " + length);
                }
                ByteBuffer e = scratch.clear().limit((int) length);
                receive(e);
                int error = e.getInt(0);
                if (length < 6 + (e.getShort(4) & 0xffff)) {
                    throw new ProtocolViolation("error chunk message longer than its chunk");
                }
                if (s.firstError == 0) {
                    s.firstError = toErrno(error == 0 ? EINVAL : error);
                }
            }
        }
        if ((flags & REPLY_FLAG_DONE) != 0) {
            if (s.firstError != 0) {
                complete(s, s.firstError);
            } else if (s.type == CMD_READ && s.covered != s.length) {
                throw new ProtocolViolation("READ reply covers " + s.covered + " of " + s.length + " bytes");
            } else if (s.type == CMD_BLOCK_STATUS && s.extent == null) {
                throw new ProtocolViolation("BLOCK_STATUS reply without an extent");
            } else {
                complete(s, s.type == CMD_READ ? s.length : 0);
            }
        }
    }

    /**
     * Fills {@code dst} from the receive buffer, then the socket. Headers and other small pieces
     * come through the buffer, so one read() often brings several pipelined replies; payloads go
     * straight into the caller's buffer once the buffered bytes are used up. Receiver only.
     */
    private void receive(ByteBuffer dst) throws IOException {
        take(dst);
        if (!dst.hasRemaining()) {
            return;
        }
        if (dst.remaining() >= SMALL_READ) {
            while (dst.hasRemaining()) {
                readSome(dst);
            }
            return;
        }
        in.clear();
        try {
            while (in.position() < dst.remaining()) {
                readSome(in);
            }
        } finally {
            in.flip();
        }
        take(dst);
    }

    private void take(ByteBuffer dst) {
        int n = Math.min(in.remaining(), dst.remaining());
        if (n > 0) {
            int limit = in.limit();
            in.limit(in.position() + n);
            dst.put(in);
            in.limit(limit);
        }
    }

    private void readSome(ByteBuffer dst) throws IOException {
        if (channel.read(dst) < 0) {
            throw new EOFException("the server closed the connection");
        }
        if (tcp) {
            rearmQuickAck();
        }
    }

    /**
     * Linux clears TCP_QUICKACK by itself; re-armed after every read so the next ACK goes out at
     * once and a server without TCP_NODELAY (qemu-nbd 7.2) never waits 40 ms for it (§3.4).
     */
    private void rearmQuickAck() {
        if (QUICKACK_SUPPORTED) {
            try {
                channel.setOption(jdk.net.ExtendedSocketOptions.TCP_QUICKACK, true);
            } catch (IOException | UnsupportedOperationException e) {
                // Only a latency hint: the connection works without it.
            }
        }
    }

    private static final boolean QUICKACK_SUPPORTED = quickAckSupported();
    /** Replies are read in pieces of up to this size (many 4 KiB READ replies at once). */
    private static final int RECEIVE_BUFFER = 64 << 10;
    /** Pieces at least this large are read straight into their destination. */
    private static final int SMALL_READ = 4096;
    private static final int EINTR = 4;

    private static boolean quickAckSupported() {
        try (SocketChannel probe = SocketChannel.open()) {
            return probe.supportedOptions().contains(jdk.net.ExtendedSocketOptions.TCP_QUICKACK);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private long readLong() throws IOException {
        ByteBuffer b = scratch.clear().limit(8);
        receive(b);
        return b.getLong(0);
    }

    private void markBroken(String why) {
        if (brokenReason == null) {
            synchronized (this) {
                if (brokenReason == null) {
                    inFlightAtLoss = busySlots();
                    brokenReason = why;
                }
            }
            Thread bg = backgroundReader;
            if (bg != null) {
                LockSupport.unpark(bg); // it fails what is left, then ends
            }
        }
    }

    // -----------------------------------------------------------------------------------------

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // Nothing more can be done for a socket that will not close.
        }
    }

    private static String reason(Exception e) {
        String m = e.getMessage();
        if (e instanceof java.nio.channels.UnresolvedAddressException) {
            return "host not found";
        }
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    /** A reply that breaks the protocol: the connection cannot be trusted any more. */
    private static final class ProtocolViolation extends IOException {
        ProtocolViolation(String message) {
            super(message);
        }
    }
}
