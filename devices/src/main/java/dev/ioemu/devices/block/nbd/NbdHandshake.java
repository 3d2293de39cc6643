package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The fixed-newstyle handshake a client runs before transmission (shared/spec/nbd.md §1.1), in
 * QEMU 7.2's order: client flags (NO_ZEROES if offered), STRUCTURED_REPLY, SET_META_CONTEXT
 * {@code base:allocation}, GO with {@code INFO_BLOCK_SIZE}, and EXPORT_NAME for servers without GO;
 * OPT_ABORT when the client gives up, so a server that serves one client at a time lets go.
 * Blocking calls on the caller's thread; {@link NbdConnection} bounds them with a watchdog.
 */
final class NbdHandshake {
    private NbdHandshake() {
    }

    /**
     * Runs the handshake on a connected socket and returns what the server said about the export.
     *
     * @throws NbdException with a one-line reason the server gave or the protocol implies
     * @throws IOException when the socket fails
     */
    static NbdConnection.Export negotiate(SocketChannel ch, String exportName) throws IOException {
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
        return new NbdConnection.Export(size, flags, minimum, preferred, max / minimum * minimum, structured, allocation);
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

    static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("the server closed the connection");
            }
        }
    }

    static void writeFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Soft disconnect during the handshake (OPT_ABORT), so a server that serves one client at a time lets go. */
    static void abortQuietly(SocketChannel ch) {
        try {
            sendOption(ch, OPT_ABORT, ByteBuffer.allocate(0));
        } catch (IOException e) {
            // The server may already have closed; that is the outcome ABORT asks for.
        }
    }

}
