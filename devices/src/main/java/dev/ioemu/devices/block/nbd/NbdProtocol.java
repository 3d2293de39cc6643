package dev.ioemu.devices.block.nbd;

/**
 * The NBD protocol's numbers as a client needs them (shared/spec/nbd.md §1): magics, handshake
 * options and replies, transmission flags, commands, command flags, reply chunk types and the
 * error values (Linux errno numbers). Big-endian on the wire.
 */
final class NbdProtocol {
    private NbdProtocol() {
    }

    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x0003e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // Handshake flags (server) and client flags.
    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 2;

    // Options.
    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_SET_META_CONTEXT = 10;

    // Option replies.
    static final int REP_ACK = 1;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_UNKNOWN = 0x80000006;

    // NBD_INFO_* in GO and REP_INFO.
    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;

    // Transmission flags.
    static final int FLAG_HAS_FLAGS = 0x0001;
    static final int FLAG_READ_ONLY = 0x0002;
    static final int FLAG_SEND_FLUSH = 0x0004;
    static final int FLAG_SEND_FUA = 0x0008;
    static final int FLAG_SEND_TRIM = 0x0020;
    static final int FLAG_SEND_WRITE_ZEROES = 0x0040;

    // Commands.
    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    // Command flags.
    static final int CMD_FLAG_FUA = 0x01;
    static final int CMD_FLAG_NO_HOLE = 0x02;
    static final int CMD_FLAG_REQ_ONE = 0x08;

    // Structured reply chunk types and flags.
    static final int REPLY_FLAG_DONE = 1;
    static final int REPLY_TYPE_NONE = 0;
    static final int REPLY_TYPE_OFFSET_DATA = 1;
    static final int REPLY_TYPE_OFFSET_HOLE = 2;
    static final int REPLY_TYPE_BLOCK_STATUS = 5;
    static final int REPLY_TYPE_ERROR = 0x8001;
    static final int REPLY_TYPE_ERROR_OFFSET = 0x8002;
    static final int REPLY_TYPE_ERROR_BIT = 0x8000;

    /** The allocation meta context (§1.5): extent flags below. */
    static final String META_BASE_ALLOCATION = "base:allocation";
    static final int STATE_HOLE = 1;
    static final int STATE_ZERO = 2;

    /** The default TCP port (IANA). */
    static final int DEFAULT_PORT = 10809;
    /** Largest READ/WRITE payload a portable client sends, and QEMU's cap (NBD_MAX_BUFFER_SIZE). */
    static final int MAX_PAYLOAD = 32 << 20;
    /** Requests in flight per connection, as QEMU's client (MAX_NBD_REQUESTS). */
    static final int MAX_IN_FLIGHT = 16;
    /** The most non-data payload read from one chunk (QEMU reads at most 1000 bytes of it). */
    static final int MAX_CHUNK_METADATA = 1000;

    // The errno values the protocol carries (Linux numbers).
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int ENOMEM = 12;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EOVERFLOW = 75;
    static final int ENOTSUP = 95;
    static final int ESHUTDOWN = 108;
    /**
     * Not a protocol value: the result of a request whose connection was lost before its reply
     * (fate unknown on the server), as libnbd reports it (§1.9). Only the client sees it.
     */
    static final int ENOTCONN = 107;

    /** A reply's error value as a negative errno; values outside the protocol's set are EINVAL (§1.9). */
    static int toErrno(int error) {
        return switch (error) {
            case EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, ESHUTDOWN -> -error;
            default -> -EINVAL;
        };
    }
}
