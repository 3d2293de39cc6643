package dev.ioemu.devices.block.nbd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted NBD server on a Unix socket for the client's receive tests: a correct fixed-newstyle
 * handshake with structured replies (no meta context), a 1 MiB export with FLUSH, then every
 * request the client sends lands in {@link #requests}; the test decides when and in which order
 * to answer ({@link #replyData}, {@link #replySimple}) or hangs up ({@link #hangUp}; the next
 * connection is served the same way). Data for
 * offset {@code o} is {@link #expected}{@code (o + i)}, so any misrouted reply shows.
 */
final class FakeNbdServer implements AutoCloseable {
    static final long SIZE = 1 << 20;

    /** One request as the server read it. */
    record Request(int flags, int type, long cookie, long offset, int length) {
    }

    final LinkedBlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final ServerSocketChannel listener;
    private final Path socket;
    private volatile SocketChannel client;
    private final Thread thread;

    FakeNbdServer(Path dir) throws IOException {
        socket = dir.resolve("fake.sock");
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(this::serve, "fake-nbd-server");
        thread.setDaemon(true);
        thread.start();
    }

    NbdUri uri() {
        return uri(0);
    }

    /** The URI with {@code reconnect-delay} seconds. */
    NbdUri uri(int reconnectDelay) {
        return new NbdUri(null, 0, socket.toString(), "", reconnectDelay, 0);
    }

    static byte expected(long at) {
        return (byte) (at * 31 + (at >>> 9));
    }

    Request next() throws InterruptedException {
        Request r = requests.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the client sent no request within 10 s");
        }
        return r;
    }

    /** Answers a READ with its data in two OFFSET_DATA chunks, second half first, then DONE. */
    synchronized void replyData(Request r) throws IOException {
        int half = r.length() / 2;
        write(chunk(r, 1, 0, r.offset() + half, r.length() - half));
        write(chunk(r, 1, 0, r.offset(), half));
        write(ByteBuffer.allocate(20).putInt(0x668e33ef).putShort((short) 1).putShort((short) 0)
                .putLong(r.cookie()).putInt(0).flip());
    }

    /** A simple reply (error 0 or an errno) for a non-READ request, or a READ error. */
    synchronized void replySimple(Request r, int error) throws IOException {
        write(ByteBuffer.allocate(16).putInt(0x67446698).putInt(error).putLong(r.cookie()).flip());
    }

    /** Closes the client's connection without a word. */
    void hangUp() throws IOException {
        client.close();
    }

    private static ByteBuffer chunk(Request r, int type, int flags, long at, int n) {
        ByteBuffer b = ByteBuffer.allocate(20 + 8 + n).putInt(0x668e33ef).putShort((short) flags)
                .putShort((short) type).putLong(r.cookie()).putInt(8 + n).putLong(at);
        for (int i = 0; i < n; i++) {
            b.put(expected(at + i));
        }
        return b.flip();
    }

    /** Serves one connection after another (a client that reconnects finds the server again). */
    private void serve() {
        while (listener.isOpen()) {
            try {
                serveOne(listener.accept());
            } catch (IOException e) {
                return; // the listener closed
            }
        }
    }

    private void serveOne(SocketChannel accepted) {
        try (SocketChannel c = accepted) {
            client = c;
            write(ByteBuffer.allocate(18).putLong(0x4e42444d41474943L).putLong(0x49484156454F5054L)
                    .putShort((short) 3).flip());
            read(c, 4);
            while (true) {
                ByteBuffer h = read(c, 16);
                int option = h.getInt(8);
                read(c, h.getInt(12));
                if (option == 8) {
                    write(optionReply(option, 1, ByteBuffer.allocate(0)));
                } else if (option == 7) {
                    write(optionReply(option, 3, ByteBuffer.allocate(12).putShort((short) 0).putLong(SIZE)
                            .putShort((short) 0x0005).flip()));
                    write(optionReply(option, 1, ByteBuffer.allocate(0)));
                    break;
                } else {
                    write(optionReply(option, 0x80000001, ByteBuffer.allocate(0)));
                }
            }
            while (true) {
                ByteBuffer h = read(c, 28);
                Request r = new Request(h.getShort(4) & 0xffff, h.getShort(6) & 0xffff, h.getLong(8), h.getLong(16),
                        h.getInt(24));
                if (r.type() == 1) {
                    read(c, r.length());
                }
                if (r.type() == 2) {
                    return;
                }
                requests.add(r);
            }
        } catch (IOException e) {
            // the client or the test hung up
        }
    }

    private static ByteBuffer optionReply(int option, int type, ByteBuffer data) {
        return ByteBuffer.allocate(20 + data.remaining()).putLong(0x0003e889045565a9L).putInt(option).putInt(type)
                .putInt(data.remaining()).put(data).flip();
    }

    private static ByteBuffer read(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("eof");
            }
        }
        return b.flip();
    }

    private synchronized void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            client.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        SocketChannel c = client;
        if (c != null) {
            c.close();
        }
    }
}
