package dev.ioemu.devices.block.writelog;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.LibC;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * The recorder of a crash-consistency write log ({@link WriteLogFormat}) for one image, enabled by
 * the drive option {@code x-write-log=PATH}: both sides of every request — what the guest asked and
 * was told ({@code g-*}), and each syscall the block layer made on the image file with its result
 * and data ({@code h-*}). The block layer calls it from the places that make the syscalls
 * (AlignedFileIo's pwrite loop, FlushState's fdatasync and fadvise, ZeroingFallbacks' fallocate and
 * ioctls) and from RawImage's request methods; each hook is a null check when no log is kept.
 *
 * <p>Before the first pwrite to a byte range the range's current contents are read from the image
 * (same descriptor, an aligned buffer, so O_DIRECT works) and kept as {@code h-old}: the log then
 * rebuilds every crash state from the image as it was before the run, or after it.
 *
 * <p>Threads: any; one monitor orders the records (a record's SEQ is its place in that order). A
 * failure to write the log is an {@link UncheckedIOException}: a log with holes would prove nothing.
 */
public final class WriteLog implements AutoCloseable {
    /** O_DIRECT buffers and file offsets are aligned to this for the h-old read. */
    private static final int OLD_READ_ALIGNMENT = 4096;

    private final Path path;
    private final FileChannel logChannel;
    private final FileLock logLock;
    private final BufferedWriter log;
    private final FileChannel data;
    private final boolean direct;
    private final boolean dsync;
    /** Byte ranges written at least once (start → end, disjoint, merged): h-old was taken. */
    private final TreeMap<Long, Long> touched = new TreeMap<>();
    private long dataPosition;
    private long seq;
    private long nextRequestId = 1;
    private boolean closed;

    private WriteLog(Path path, FileChannel logChannel, FileLock logLock, FileChannel data, boolean direct,
                     boolean dsync) {
        this.path = path;
        this.logChannel = logChannel;
        this.logLock = logLock;
        this.log = new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(logChannel),
                StandardCharsets.UTF_8), 1 << 16);
        this.data = data;
        this.direct = direct;
        this.dsync = dsync;
    }

    /**
     * Creates (or truncates) {@code path} and {@code path.data} and writes the header and the
     * {@code open} record.
     *
     * @throws IOException when the files cannot be created, or another drive of this process or
     *         another process already logs to {@code path}
     */
    public static WriteLog create(Path path, String image, long size, String cacheMode, boolean direct, boolean dsync)
            throws IOException {
        FileChannel logChannel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = logChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            logChannel.close();
            throw new IOException("x-write-log: '" + path + "' is in use by another drive (expected: one log per "
                    + "drive)");
        }
        logChannel.truncate(0);
        FileChannel data = FileChannel.open(Path.of(path + WriteLogFormat.DATA_SUFFIX), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        WriteLog w = new WriteLog(path, logChannel, lock, data, direct, dsync);
        synchronized (w) {
            w.line(WriteLogFormat.MAGIC + " " + WriteLogFormat.VERSION);
            w.record(WriteLogFormat.OPEN, "image=" + WriteLogFormat.encode(image) + " size=" + size + " cache="
                    + cacheMode + " direct=" + bit(direct) + " dsync=" + bit(dsync));
            w.flushLog();
        }
        return w;
    }

    public Path path() {
        return path;
    }

    // ---------------------------------------------------------------------------------------
    // The guest side

    /** What a guest request asks for. */
    public enum Kind {
        WRITE("write"), ZEROES("zeroes"), DISCARD("discard"), FLUSH("flush");

        public final String token;

        Kind(String token) {
            this.token = token;
        }

        public static Kind parse(String token) {
            for (Kind k : values()) {
                if (k.token.equals(token)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("kind: '" + token + "' (expected: write, zeroes, discard, flush)");
        }
    }

    /**
     * A guest request arrived; returns its id for {@link #guestDone}. For a write, {@code src}'s
     * remaining bytes are hashed per sector piece (its position is not changed).
     */
    public synchronized long guestRequest(Kind kind, long offset, long length, ByteBuffer src) {
        return guestRequest(kind, offset, length, src, false);
    }

    /**
     * As {@link #guestRequest(Kind, long, long, ByteBuffer)}; {@code fua}: the write completes only
     * once durable (the guest's write cache is off), so its acknowledgement is a promise by itself.
     */
    public synchronized long guestRequest(Kind kind, long offset, long length, ByteBuffer src, boolean fua) {
        long id = nextRequestId++;
        StringBuilder b = new StringBuilder(64).append("id=").append(id).append(" kind=").append(kind.token)
                .append(" off=").append(offset).append(" len=").append(length);
        if (fua) {
            b.append(" fua=1");
        }
        if (kind == Kind.WRITE && src != null) {
            byte[] bytes = new byte[src.remaining()];
            src.get(src.position(), bytes);
            b.append(" h=");
            int pos = 0;
            long cur = offset;
            while (pos < bytes.length) {
                int piece = (int) Math.min(bytes.length - pos, WriteLogFormat.SECTOR - Math.floorMod(cur,
                        WriteLogFormat.SECTOR));
                if (pos > 0) {
                    b.append(',');
                }
                b.append(String.format("%016x", WriteLogFormat.hash(bytes, pos, piece)));
                pos += piece;
                cur += piece;
            }
        }
        record(WriteLogFormat.GUEST_REQUEST, b.toString());
        return id;
    }

    /** The guest is told {@code ret}. A flush's answer also pushes the log to its file. */
    public synchronized void guestDone(long id, int ret, boolean flush) {
        record(WriteLogFormat.GUEST_DONE, "id=" + id + " ret=" + ret);
        if (flush) {
            flushLog();
        }
    }

    // ---------------------------------------------------------------------------------------
    // The host side

    /**
     * Called just before pwrite(fd, …, offset, length): reads the old contents of the parts of the
     * range no earlier write touched (h-old).
     */
    public synchronized void beforePwrite(int fd, long offset, int length) {
        long end = offset + length;
        long cur = offset;
        Map.Entry<Long, Long> before = touched.floorEntry(offset);
        if (before != null && before.getValue() > cur) {
            cur = before.getValue();
        }
        while (cur < end) {
            Map.Entry<Long, Long> next = touched.ceilingEntry(cur);
            long gapEnd = next == null ? end : Math.min(end, next.getKey());
            if (gapEnd > cur) {
                recordOld(fd, cur, gapEnd - cur);
            }
            if (next == null || next.getKey() >= end) {
                break;
            }
            cur = next.getValue();
        }
        markTouched(offset, end);
    }

    private void recordOld(int fd, long offset, long length) {
        // Widen to the alignment O_DIRECT needs; keep only the asked part.
        long start = offset & -(long) OLD_READ_ALIGNMENT;
        long stop = (offset + length + OLD_READ_ALIGNMENT - 1) & -(long) OLD_READ_ALIGNMENT;
        long chunk = 1 << 20;
        for (long c = start; c < stop; c += chunk) {
            int n = (int) Math.min(chunk, stop - c);
            Memory mem = new Memory(n + OLD_READ_ALIGNMENT);
            Pointer buf = mem.align(OLD_READ_ALIGNMENT);
            int got = preadAll(fd, Pointer.nativeValue(buf), n, c);
            buf.setMemory(got, n - got, (byte) 0);
            long keepStart = Math.max(c, offset);
            long keepEnd = Math.min(c + n, offset + length);
            if (keepEnd <= keepStart) {
                continue;
            }
            ByteBuffer bytes = buf.getByteBuffer(keepStart - c, keepEnd - keepStart);
            long at = appendData(bytes);
            record(WriteLogFormat.HOST_OLD, "off=" + keepStart + " len=" + (keepEnd - keepStart) + " data=" + at);
        }
    }

    private static int preadAll(int fd, long address, int length, long offset) {
        int done = 0;
        while (done < length) {
            long r;
            try {
                r = LibC.pread(fd, address + done, length - done, offset + done);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR) {
                    continue;
                }
                // Past the end of a file whose size is not aligned, or unreadable: reads as zeros.
                return done;
            }
            if (r <= 0) {
                return done;
            }
            done += (int) r;
        }
        return done;
    }

    private void markTouched(long start, long end) {
        Map.Entry<Long, Long> lower = touched.floorEntry(start);
        if (lower != null && lower.getValue() >= start) {
            start = lower.getKey();
            end = Math.max(end, lower.getValue());
        }
        Map.Entry<Long, Long> next = touched.ceilingEntry(start);
        while (next != null && next.getKey() <= end) {
            end = Math.max(end, next.getValue());
            touched.remove(next.getKey());
            next = touched.ceilingEntry(start);
        }
        touched.put(start, end);
    }

    /** One pwrite(2) returned {@code ret}: the first {@code ret} bytes at {@code address} are on their way. */
    public synchronized void pwrite(long offset, long address, int length, long ret) {
        String at = "-";
        if (ret > 0) {
            at = Long.toString(appendData(new Pointer(address).getByteBuffer(0, ret)));
        }
        record(WriteLogFormat.HOST_PWRITE, "off=" + offset + " len=" + length + " ret=" + ret + " data=" + at
                + " direct=" + bit(direct) + " dsync=" + bit(dsync));
    }

    public synchronized void fallocate(int mode, long offset, long length, int ret) {
        record(WriteLogFormat.HOST_FALLOCATE, "mode=" + mode + " off=" + offset + " len=" + length + " ret=" + ret);
    }

    /** {@code request}: BLKDISCARD or BLKZEROOUT. */
    public synchronized void blockIoctl(String request, long offset, long length, int ret) {
        record(WriteLogFormat.HOST_IOCTL, "req=" + request + " off=" + offset + " len=" + length + " ret=" + ret);
    }

    public synchronized void ftruncate(long size, int ret) {
        record(WriteLogFormat.HOST_FTRUNCATE, "size=" + size + " ret=" + ret);
    }

    /** fdatasync or fsync is about to be called. */
    public synchronized void syncBegin(String call) {
        record(WriteLogFormat.HOST_SYNC_BEGIN, "call=" + call);
    }

    public synchronized void sync(String call, int ret) {
        record(WriteLogFormat.HOST_SYNC, "call=" + call + " ret=" + ret);
    }

    /** posix_fadvise(DONTNEED) returned {@code err} (0 or a positive error number). */
    public synchronized void fadviseDontneed(long offset, long length, int err) {
        record(WriteLogFormat.HOST_FADVISE, "off=" + offset + " len=" + length + " advice=dontneed ret=" + -err);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            record(WriteLogFormat.CLOSE, "");
            log.flush();
            data.close();
            logLock.release();
            logChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("x-write-log: " + path, e);
        }
    }

    // ---------------------------------------------------------------------------------------

    private long appendData(ByteBuffer bytes) {
        long at = dataPosition;
        try {
            while (bytes.hasRemaining()) {
                dataPosition += data.write(bytes, dataPosition);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("x-write-log: " + path + WriteLogFormat.DATA_SUFFIX, e);
        }
        return at;
    }

    private void record(String tag, String fields) {
        if (closed && !tag.equals(WriteLogFormat.CLOSE)) {
            return;
        }
        line(tag + " " + (++seq) + (fields.isEmpty() ? "" : " " + fields));
    }

    private void line(String text) {
        try {
            log.write(text);
            log.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("x-write-log: " + path, e);
        }
    }

    private void flushLog() {
        try {
            log.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("x-write-log: " + path, e);
        }
    }

    private static int bit(boolean b) {
        return b ? 1 : 0;
    }
}
