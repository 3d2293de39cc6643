package dev.ioemu.devices.block.nbd;

import static dev.ioemu.devices.block.nbd.NbdProtocol.CMD_WRITE;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The writes an NBD server has answered since the last successful FLUSH, in the order they were
 * answered, so a reconnect can replay them (shared/spec/nbd.md §1.8, §2.4).
 *
 * <p>Why: a write reply means "done", not "durable" (§1.8 rule 1); the server may keep the data in
 * a volatile cache, and a server that dies loses it. QEMU's client does not care: after a
 * reconnect its next flush succeeds on the new server although writes answered by the old one
 * may be gone. Ours replays every answered, unflushed write (WRITE with its data and FUA flag,
 * WRITE_ZEROES, TRIM) on the new connection before any other request, oldest first, so the next
 * flush covers them again. Answer order is a valid order: a write that was answered before
 * another was even sent comes first; writes in flight together had no order anyway. FUA writes
 * are journaled too, or replaying an older overlapping write would undo them.
 *
 * <p>Memory is bounded ({@link #DEFAULT_LIMIT} bytes of data): past it the journal drops what it
 * holds and remembers that writes may be lost, until a flush covers the dropped ones. A reconnect
 * in that window cannot vouch for them, and {@link NbdClient} then fails every later flush with
 * EIO (sticky, as the block layer does for a failed fdatasync).
 *
 * <p>Thread safety: all methods synchronise on the journal.
 */
final class NbdWriteJournal {
    /** Bytes of unflushed write data kept for replay. */
    static final long DEFAULT_LIMIT = 64L << 20;

    /** One answered request: WRITE carries a copy of its data. */
    record Entry(long seq, int type, int flags, long offset, int length, byte[] data) {
    }

    private final long limit;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long lastSeq;
    private long bytes;
    /** Sequence number of the newest entry dropped on overflow; 0 if none is uncovered. */
    private long droppedUpTo;

    NbdWriteJournal(long limit) {
        this.limit = limit;
    }

    /** Records a request the server answered successfully. Copies WRITE's payload (the caller keeps its buffer). */
    synchronized void record(int type, int flags, long offset, int length, ByteBuffer payload) {
        byte[] data = null;
        if (type == CMD_WRITE) {
            data = new byte[length];
            payload.duplicate().get(data);
            bytes += length;
        }
        entries.addLast(new Entry(++lastSeq, type, flags, offset, length, data));
        if (bytes > limit) {
            droppedUpTo = lastSeq;
            entries.clear();
            bytes = 0;
        }
    }

    /** The newest entry a FLUSH sent now covers (§1.8 rule 2: writes answered before it began). */
    synchronized long mark() {
        return lastSeq;
    }

    /** A FLUSH taken at {@code mark} succeeded: its entries are durable and need no replay. */
    synchronized void flushed(long mark) {
        while (!entries.isEmpty() && entries.peekFirst().seq() <= mark) {
            Entry e = entries.removeFirst();
            if (e.data() != null) {
                bytes -= e.data().length;
            }
        }
        if (droppedUpTo != 0 && droppedUpTo <= mark) {
            droppedUpTo = 0;
        }
    }

    /** The entries to replay, oldest first. */
    synchronized List<Entry> snapshot() {
        return new ArrayList<>(entries);
    }

    /** True when answered writes were dropped before a flush covered them. */
    synchronized boolean incomplete() {
        return droppedUpTo != 0;
    }

    synchronized int size() {
        return entries.size();
    }
}
