package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One NBD connection (shared/spec/nbd.md §1): the fixed-newstyle handshake (structured replies,
 * GO with the block-size constraints, the EXPORT_NAME fallback for servers without GO), then
 * transmission with up to {@link NbdProtocol#MAX_IN_FLIGHT} requests pipelined from any number
 * of threads. Each request is matched to its reply by cookie on one reader thread, which reads
 * READ payloads straight into the caller's buffer. A transport failure or a protocol violation
 * (bad magic, unknown cookie, a chunk outside its request) ends the connection: every request in
 * flight and every later one completes with {@link NbdProtocol#ENOTCONN}, since their fate on the
 * server is unknown, and the owner's listener hears of it once ({@link NbdClient} decides whether
 * to reconnect and re-send). With {@code base:allocation} negotiated, BLOCK_STATUS answers one
 * extent per request.
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

    /** A request waiting for its reply. */
    private static final class Pending {
        final int type;
        final long offset;
        final int length;
        final ByteBuffer readInto;
        final CountDownLatch done = new CountDownLatch(1);
        volatile int result;
        /** Structured READ: bytes covered by data and hole chunks so far. */
        long covered;
        int firstError;
        /** BLOCK_STATUS: the first extent of the reply, or null. */
        Extent extent;

        Pending(int type, long offset, int length, ByteBuffer readInto) {
            this.type = type;
            this.offset = offset;
            this.length = length;
            this.readInto = readInto;
        }

        void complete(int r) {
            result = r;
            done.countDown();
        }
    }

    private final NbdUri uri;
    private final SocketChannel channel;
    private final Export export;
    private final Object sendLock = new Object();
    private final Semaphore window = new Semaphore(MAX_IN_FLIGHT);
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong(1);
    private final Thread reader;
    private final Consumer<NbdConnection> onLost;
    private final boolean tcp;
    private volatile String brokenReason;
    private volatile boolean violated;
    private volatile int inFlightAtLoss;
    /** Received bytes not yet parsed (read mode). Reader thread only. */
    private final ByteBuffer in = ByteBuffer.allocateDirect(RECEIVE_BUFFER).flip();

    private NbdConnection(NbdUri uri, SocketChannel channel, Export export, Consumer<NbdConnection> onLost) {
        this.uri = uri;
        this.channel = channel;
        this.export = export;
        this.onLost = onLost;
        this.tcp = uri.socket() == null;
        this.reader = new Thread(this::readReplies, "nbd-" + uri.where());
        this.reader.setDaemon(true);
        this.reader.start();
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
            Export export = handshake(ch, uri.export());
            if (!watchdog.cancel(false)) {
                throw new ClosedChannelException();
            }
            return new NbdConnection(uri, ch, export, onLost);
        } catch (NbdException e) {
            watchdog.cancel(false);
            abortQuietly(ch);
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
     * Sends one request and waits for its reply: 0 (or the length read) on success, else -errno.
     * {@code payload} is sent after the header for WRITE; {@code readInto} receives READ data.
     */
    int request(int type, int flags, long offset, int length, ByteBuffer payload, ByteBuffer readInto) {
        return submit(new Pending(type, offset, length, readInto), flags, payload);
    }

    /**
     * BLOCK_STATUS with REQ_ONE: the first extent at {@code offset}, or null with {@code result[0]}
     * set to -errno.
     */
    Extent blockStatus(long offset, int length, int[] result) {
        Pending p = new Pending(CMD_BLOCK_STATUS, offset, length, null);
        result[0] = submit(p, CMD_FLAG_REQ_ONE, null);
        return result[0] < 0 ? null : p.extent;
    }

    private int submit(Pending p, int flags, ByteBuffer payload) {
        if (brokenReason != null) {
            return -ENOTCONN;
        }
        try {
            window.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -4; // EINTR
        }
        try {
            long cookie = cookies.getAndIncrement();
            pending.put(cookie, p);
            ByteBuffer header = ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) flags)
                    .putShort((short) p.type).putLong(cookie).putLong(p.offset).putInt(p.length).flip();
            try {
                synchronized (sendLock) {
                    // Header and payload go out as one unit: no other request may interleave.
                    if (payload == null) {
                        writeFully(channel, header);
                    } else {
                        // One gathering write: header and data leave in as few segments as possible.
                        ByteBuffer[] both = {header, payload.duplicate()};
                        while (both[0].hasRemaining() || both[1].hasRemaining()) {
                            channel.write(both);
                        }
                    }
                }
            } catch (IOException e) {
                broken("send failed: " + reason(e));
            }
            if (brokenReason != null && pending.remove(cookie) != null) {
                return -ENOTCONN;
            }
            p.done.await();
            return p.result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -4;
        } finally {
            window.release();
        }
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
        return brokenReason == null ? pending.size() : inFlightAtLoss;
    }

    /**
     * Hard close after a loss: no NBD_CMD_DISC, no waiting. Safe from the reader thread. Requests
     * still waiting complete with ENOTCONN.
     */
    void abandon(String why) {
        broken(why);
        closeQuietly(channel);
    }

    /** Soft disconnect (NBD_CMD_DISC) once nothing is in flight, then close. */
    @Override
    public void close() {
        if (brokenReason == null) {
            try {
                window.acquire(MAX_IN_FLIGHT);
                ByteBuffer disc = ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) CMD_DISC).putLong(0).putLong(0).putInt(0).flip();
                synchronized (sendLock) {
                    writeFully(channel, disc);
                }
            } catch (IOException | InterruptedException e) {
                // Closing anyway: nothing is in flight, so nothing is lost.
            }
        }
        broken("closed");
        closeQuietly(channel);
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // -----------------------------------------------------------------------------------------
    // Replies

    private void readReplies() {
        ByteBuffer magic = ByteBuffer.allocate(4);
        try {
            while (brokenReason == null) {
                magic.clear();
                receive(magic);
                int m = magic.getInt(0);
                if (m == SIMPLE_REPLY_MAGIC) {
                    simpleReply();
                } else if (m == STRUCTURED_REPLY_MAGIC && export.structuredReplies()) {
                    structuredChunk();
                } else {
                    throw new ProtocolViolation(String.format("bad reply magic 0x%08x", m));
                }
            }
        } catch (ProtocolViolation e) {
            violated = true;
            broken("protocol violation: " + e.getMessage());
            closeQuietly(channel);
        } catch (IOException e) {
            broken(brokenReason != null ? brokenReason : "connection lost: " + reason(e));
        }
        if (onLost != null) {
            onLost.accept(this);
        }
    }

    private void simpleReply() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(12);
        receive(h);
        int error = h.getInt(0);
        long cookie = h.getLong(4);
        Pending p = pending.remove(cookie);
        if (p == null) {
            throw new ProtocolViolation("reply for unknown cookie " + cookie);
        }
        if (error != 0) {
            p.complete(toErrno(error));
            return;
        }
        if (p.type == CMD_READ) {
            if (export.structuredReplies()) {
                // A structured READ must be answered by chunks; a simple success carries no data.
                p.complete(-ENOTCONN);
                throw new ProtocolViolation("simple reply to a structured READ");
            }
            try {
                receive(p.readInto.duplicate().limit(p.readInto.position() + p.length));
            } catch (IOException e) {
                p.complete(-ENOTCONN); // already out of the pending map: fail it here, or it waits forever
                throw e;
            }
            p.complete(p.length);
        } else if (p.type == CMD_BLOCK_STATUS) {
            p.complete(-ENOTCONN);
            throw new ProtocolViolation("simple success reply to BLOCK_STATUS");
        } else {
            p.complete(0);
        }
    }

    private void structuredChunk() throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16);
        receive(h);
        int flags = h.getShort(0) & 0xffff;
        int type = h.getShort(2) & 0xffff;
        long cookie = h.getLong(4);
        long length = Integer.toUnsignedLong(h.getInt(12));
        Pending p = pending.get(cookie);
        if (p == null) {
            throw new ProtocolViolation("chunk for unknown cookie " + cookie);
        }
        switch (type) {
            case REPLY_TYPE_NONE -> {
                if (length != 0 || (flags & REPLY_FLAG_DONE) == 0) {
                    throw new ProtocolViolation("NONE chunk with a payload or without DONE");
                }
            }
            case REPLY_TYPE_OFFSET_DATA -> {
                if (p.type != CMD_READ || length <= 8) {
                    throw new ProtocolViolation("OFFSET_DATA chunk for a non-READ or without data");
                }
                long at = readLong() - p.offset;
                long n = length - 8;
                if (at < 0 || at + n > p.length) {
                    throw new ProtocolViolation("OFFSET_DATA chunk outside its request");
                }
                int base = p.readInto.position();
                receive(p.readInto.duplicate().position(base + (int) at).limit(base + (int) (at + n)));
                p.covered += n;
            }
            case REPLY_TYPE_OFFSET_HOLE -> {
                if (p.type != CMD_READ || length != 12) {
                    throw new ProtocolViolation("OFFSET_HOLE chunk for a non-READ or of bad length");
                }
                long at = readLong() - p.offset;
                ByteBuffer s = ByteBuffer.allocate(4);
                receive(s);
                long n = Integer.toUnsignedLong(s.getInt(0));
                if (n == 0 || at < 0 || at + n > p.length) {
                    throw new ProtocolViolation("OFFSET_HOLE chunk outside its request");
                }
                int base = p.readInto.position();
                for (int i = 0; i < n; i++) {
                    p.readInto.put(base + (int) at + i, (byte) 0);
                }
                p.covered += n;
            }
            case REPLY_TYPE_BLOCK_STATUS -> {
                if (p.type != CMD_BLOCK_STATUS || length < 12 || (length - 4) % 8 != 0
                        || length > MAX_CHUNK_METADATA) {
                    throw new ProtocolViolation("BLOCK_STATUS chunk for another command or of bad length " + length);
                }
                ByteBuffer b = ByteBuffer.allocate((int) length);
                receive(b);
                if (Integer.toUnsignedLong(b.getInt(0)) != export.allocationContext()) {
                    throw new ProtocolViolation("BLOCK_STATUS chunk for context " + Integer.toUnsignedString(b.getInt(0)));
                }
                long extentLength = Integer.toUnsignedLong(b.getInt(4));
                if (extentLength == 0 || p.extent != null) {
                    throw new ProtocolViolation("BLOCK_STATUS: an empty extent or a second chunk");
                }
                // With REQ_ONE only the first extent counts; it may not reach past the request.
                p.extent = new Extent(Math.min(extentLength, p.length), b.getInt(8));
            }
            default -> {
                if ((type & REPLY_TYPE_ERROR_BIT) == 0) {
                    throw new ProtocolViolation("unknown chunk type " + type);
                }
                if (length < 6 || length > MAX_CHUNK_METADATA) {
                    throw new ProtocolViolation("error chunk of length " + length);
                }
                ByteBuffer e = ByteBuffer.allocate((int) length);
                receive(e);
                int error = e.getInt(0);
                if (length < 6 + (e.getShort(4) & 0xffff)) {
                    throw new ProtocolViolation("error chunk message longer than its chunk");
                }
                if (p.firstError == 0) {
                    p.firstError = toErrno(error == 0 ? EINVAL : error);
                }
            }
        }
        if ((flags & REPLY_FLAG_DONE) != 0) {
            pending.remove(cookie);
            if (p.firstError != 0) {
                p.complete(p.firstError);
            } else if (p.type == CMD_READ && p.covered != p.length) {
                p.complete(-ENOTCONN);
                throw new ProtocolViolation("READ reply covers " + p.covered + " of " + p.length + " bytes");
            } else if (p.type == CMD_BLOCK_STATUS && p.extent == null) {
                p.complete(-ENOTCONN);
                throw new ProtocolViolation("BLOCK_STATUS reply without an extent");
            } else {
                p.complete(p.type == CMD_READ ? p.length : 0);
            }
        }
    }

    /**
     * Fills {@code dst} from the receive buffer, then the socket. Headers and other small pieces
     * come through the buffer, so one read() often brings several pipelined replies; payloads go
     * straight into the caller's buffer once the buffered bytes are used up. Reader thread only.
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
            dst.put(in.duplicate().limit(in.position() + n));
            in.position(in.position() + n);
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

    private static boolean quickAckSupported() {
        try (SocketChannel probe = SocketChannel.open()) {
            return probe.supportedOptions().contains(jdk.net.ExtendedSocketOptions.TCP_QUICKACK);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private long readLong() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8);
        receive(b);
        return b.getLong(0);
    }

    private void broken(String why) {
        if (brokenReason == null) {
            inFlightAtLoss = pending.size();
            brokenReason = why;
        }
        for (Long cookie : pending.keySet()) {
            Pending p = pending.remove(cookie);
            if (p != null) {
                p.complete(-ENOTCONN);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Handshake

    private static Export handshake(SocketChannel ch, String exportName) throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        readFully(ch, greeting);
        if (greeting.getLong(0) != NBDMAGIC) {
            throw new NbdException("not an NBD server (bad greeting)");
        }
        if (greeting.getLong(8) != IHAVEOPT) {
            throw new NbdException("oldstyle NBD servers are not supported (expected: fixed newstyle)");
        }
        int serverFlags = greeting.getShort(16) & 0xffff;
        if ((serverFlags & FLAG_FIXED_NEWSTYLE) == 0) {
            throw new NbdException("server is not fixed-newstyle");
        }
        boolean noZeroes = (serverFlags & FLAG_NO_ZEROES) != 0;
        writeFully(ch, ByteBuffer.allocate(4).putInt(FLAG_FIXED_NEWSTYLE | (noZeroes ? FLAG_NO_ZEROES : 0)).flip());

        sendOption(ch, OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
        boolean structured = false;
        for (OptionReply r = readOptionReply(ch, OPT_STRUCTURED_REPLY); ; r = readOptionReply(ch, OPT_STRUCTURED_REPLY)) {
            if (r.type == REP_ACK) {
                structured = true;
                break;
            }
            if (r.isError()) {
                break;
            }
        }

        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        long allocation = structured ? allocationContext(ch, name) : -1;
        ByteBuffer go = ByteBuffer.allocate(4 + name.length + 2 + 2).putInt(name.length).put(name)
                .putShort((short) 1).putShort((short) INFO_BLOCK_SIZE).flip();
        sendOption(ch, OPT_GO, go);
        long size = -1;
        int flags = 0;
        int minimum = 1;
        int preferred = 4096;
        int maximum = MAX_PAYLOAD;
        while (true) {
            OptionReply r = readOptionReply(ch, OPT_GO);
            if (r.type == REP_INFO && r.data.remaining() >= 2) {
                int info = r.data.getShort(0) & 0xffff;
                if (info == INFO_EXPORT && r.data.remaining() >= 12) {
                    size = r.data.getLong(2);
                    flags = r.data.getShort(10) & 0xffff;
                } else if (info == INFO_BLOCK_SIZE && r.data.remaining() >= 14) {
                    minimum = r.data.getInt(2);
                    preferred = r.data.getInt(6);
                    maximum = r.data.getInt(10);
                }
            } else if (r.type == REP_ACK) {
                break;
            } else if (r.type == REP_ERR_UNSUP) {
                // A server without GO: EXPORT_NAME, whose answer cannot carry an error.
                sendOption(ch, OPT_EXPORT_NAME, ByteBuffer.wrap(name));
                ByteBuffer info = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                try {
                    readFully(ch, info);
                } catch (EOFException e) {
                    throw new NbdException("Requested export not available (the server closed the connection)");
                }
                size = info.getLong(0);
                flags = info.getShort(8) & 0xffff;
                break;
            } else if (r.isError()) {
                String message = r.text();
                throw new NbdException(r.type == REP_ERR_UNKNOWN ? "Requested export not available"
                        + (message.isEmpty() ? "" : ": " + message)
                        : String.format("server refused the export (error 0x%08x)%s", r.type,
                        message.isEmpty() ? "" : ": " + message));
            }
        }
        if (size < 0) {
            throw new NbdException("server did not send the export's size");
        }
        if (minimum < 1 || Integer.bitCount(minimum) != 1 || minimum > 65536) {
            throw new NbdException("server's minimum block size " + minimum + " is invalid");
        }
        int max = maximum == -1 ? MAX_PAYLOAD : Math.min(MAX_PAYLOAD, Math.max(maximum, minimum));
        return new Export(size, flags, minimum, preferred, max / minimum * minimum, structured, allocation);
    }

    /**
     * SET_META_CONTEXT {@code base:allocation} for the export GO will name (§1.1): the id the
     * server chose, or -1 when it offers no such context (nbd-server 3.24, old servers).
     */
    private static long allocationContext(SocketChannel ch, byte[] name) throws IOException {
        byte[] query = META_BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
        sendOption(ch, OPT_SET_META_CONTEXT, ByteBuffer.allocate(4 + name.length + 4 + 4 + query.length)
                .putInt(name.length).put(name).putInt(1).putInt(query.length).put(query).flip());
        long id = -1;
        while (true) {
            OptionReply r = readOptionReply(ch, OPT_SET_META_CONTEXT);
            if (r.type == REP_META_CONTEXT && r.data.remaining() >= 4) {
                byte[] selected = new byte[r.data.remaining() - 4];
                r.data.duplicate().position(4).get(selected);
                if (META_BASE_ALLOCATION.equals(new String(selected, StandardCharsets.US_ASCII))) {
                    id = Integer.toUnsignedLong(r.data.getInt(0));
                }
            } else if (r.type == REP_ACK || r.isError()) {
                return r.type == REP_ACK ? id : -1;
            }
        }
    }

    private record OptionReply(int type, ByteBuffer data) {
        boolean isError() {
            return (type & 0x80000000) != 0;
        }

        String text() {
            // Error replies may carry a UTF-8 message (§1.1).
            byte[] b = new byte[data.remaining()];
            data.duplicate().get(b);
            return new String(b, StandardCharsets.UTF_8).strip();
        }
    }

    private static void sendOption(SocketChannel ch, int option, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).flip();
        writeFully(ch, h);
        writeFully(ch, data.duplicate());
    }

    private static OptionReply readOptionReply(SocketChannel ch, int option) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(20);
        readFully(ch, h);
        if (h.getLong(0) != OPTION_REPLY_MAGIC || h.getInt(8) != option) {
            throw new NbdException("bad option reply from the server");
        }
        int length = h.getInt(16);
        if (length < 0 || length > 65536) {
            throw new NbdException("option reply of " + Integer.toUnsignedString(length) + " bytes");
        }
        ByteBuffer data = ByteBuffer.allocate(length);
        readFully(ch, data);
        return new OptionReply(h.getInt(12), data.flip());
    }

    // -----------------------------------------------------------------------------------------

    private static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("the server closed the connection");
            }
        }
    }

    private static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Soft disconnect during the handshake (OPT_ABORT), so a server that serves one client at a time lets go. */
    private static void abortQuietly(SocketChannel ch) {
        try {
            sendOption(ch, OPT_ABORT, ByteBuffer.allocate(0));
        } catch (IOException e) {
            // The server may already have closed; that is the outcome ABORT asks for.
        }
    }

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
