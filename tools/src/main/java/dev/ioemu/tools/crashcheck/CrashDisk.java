package dev.ioemu.tools.crashcheck;

import dev.ioemu.devices.block.writelog.WriteLogReader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;

/**
 * The host side of a crash (issue 14): a scratch copy of the image holding what is durable, and
 * the writes that are not yet. A write ({@code h-pwrite}, or a zeroing fallocate/ioctl) is pending
 * until an fdatasync/fsync that began after it completed returns 0, or durable at once when the
 * file was opened O_DSYNC; a crash state is the durable image plus any subset of the pending
 * writes, applied in log order. {@link #materialise} puts a subset into the scratch file and
 * returns what to undo, so each state costs only the bytes of its subset.
 *
 * <p>Memory: the pending list only (positions into the log's side file, no data).
 */
final class CrashDisk implements AutoCloseable {
    /** A unit that may or may not have reached the disk: bytes of the side file, or zeros. */
    record Unit(long recordSeq, long offset, int length, long dataPosition) {
        static final long ZEROS = -1;
    }

    private final WriteLogReader log;
    private final Path scratch;
    private final FileChannel file;
    private final long size;
    private final int tornGranule;
    private final List<Unit> pending = new ArrayList<>();
    /** Index into {@link #pending} at each sync-begin still running: what that sync covers. */
    private long syncCovers = -1;
    /** Sectors whose durable contents changed, for the checker to read again. */
    private final Set<Long> dirty;
    long pwrites;
    long syncs;
    long syncsFailed;
    long fadvises;
    long zeroings;
    long directWrites;
    long dsyncWrites;

    /**
     * @param tornGranule 0: a pwrite reaches the disk whole or not at all; 512: each of its sectors
     *                    independently (what a disk without power-loss protection guarantees)
     */
    CrashDisk(WriteLogReader log, Path scratch, long size, int tornGranule, Set<Long> dirty) throws IOException {
        this.log = log;
        this.dirty = dirty;
        this.scratch = scratch;
        this.file = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.size = size;
        this.tornGranule = tornGranule;
    }

    FileChannel file() {
        return file;
    }

    Path path() {
        return scratch;
    }

    List<Unit> pending() {
        return pending;
    }

    /** Whether {@code r} changes what may be on the disk (a crash point goes before such a record). */
    static boolean changesDisk(WriteLogReader.Record r) throws IOException {
        return switch (r.tag()) {
            case "h-pwrite" -> r.number("ret") > 0;
            case "h-fallocate" -> r.number("ret") == 0 && zeroingFallocate(r.number("mode"));
            case "h-ioctl" -> r.number("ret") == 0;
            case "h-sync" -> r.number("ret") == 0;
            default -> false;
        };
    }

    private static boolean zeroingFallocate(long mode) {
        return (mode & (2 | 16)) != 0;   // FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE
    }

    /** Applies one host record; sectors that became durable are added to the dirty set. */
    void accept(WriteLogReader.Record r) throws IOException {
        switch (r.tag()) {
            case "h-pwrite" -> {
                long ret = r.number("ret");
                pwrites++;
                if (r.number("direct") != 0) {
                    directWrites++;
                }
                if (ret > 0) {
                    long data = r.number("data");
                    boolean dsync = r.number("dsync") != 0;
                    if (dsync) {
                        dsyncWrites++;
                    }
                    addUnits(r.seq(), r.number("off"), ret, data, dsync);
                }
            }
            case "h-fallocate" -> {
                if (r.number("ret") == 0 && zeroingFallocate(r.number("mode"))) {
                    zeroings++;
                    addUnits(r.seq(), r.number("off"), r.number("len"), Unit.ZEROS, false);
                }
            }
            case "h-ioctl" -> {
                if (r.number("ret") == 0) {
                    // BLKZEROOUT writes zeros; after BLKDISCARD a device may return zeros or the old data.
                    zeroings++;
                    addUnits(r.seq(), r.number("off"), r.number("len"), Unit.ZEROS, false);
                }
            }
            case "h-sync-begin" -> syncCovers = pending.size();
            case "h-sync" -> {
                syncs++;
                if (r.number("ret") == 0 && syncCovers >= 0) {
                    List<Unit> durable = pending.subList(0, (int) syncCovers);
                    for (Unit u : durable) {
                        write(u);
                        markDirty(u);
                    }
                    durable.clear();
                } else if (r.number("ret") != 0) {
                    syncsFailed++;
                }
                syncCovers = -1;
            }
            case "h-fadvise" -> fadvises++;
            default -> {
            }
        }
    }

    private void addUnits(long seq, long offset, long length, long data, boolean durable) throws IOException {
        long end = Math.min(offset + length, size);
        long cur = offset;
        while (cur < end) {
            long stop = tornGranule == 0 ? end : Math.min(end, (cur / tornGranule + 1) * tornGranule);
            // Bounded units keep a state's save buffer small.
            stop = Math.min(stop, cur + (1 << 20));
            Unit u = new Unit(seq, cur, (int) (stop - cur), data == Unit.ZEROS ? Unit.ZEROS : data + (cur - offset));
            if (durable) {
                write(u);
                markDirty(u);
            } else {
                pending.add(u);
            }
            cur = stop;
        }
    }

    private void markDirty(Unit u) {
        for (long s = u.offset() / 512; s * 512 < u.offset() + u.length(); s++) {
            dirty.add(s);
        }
    }

    /** Writes {@code u}'s bytes into the scratch file. */
    void write(Unit u) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(u.length());
        if (u.dataPosition() != Unit.ZEROS) {
            log.readData(u.dataPosition(), b);
            b.flip();
        }
        writeFully(b, u.offset());
    }

    /**
     * Applies the pending units in {@code subset} (in log order) and returns the undo list: the
     * bytes they covered before, to be restored in reverse order with {@link #undo}.
     */
    List<Unit> materialise(BitSet subset, List<ByteBuffer> saved) throws IOException {
        List<Unit> applied = new ArrayList<>();
        for (int i = subset.nextSetBit(0); i >= 0; i = subset.nextSetBit(i + 1)) {
            Unit u = pending.get(i);
            // Sectors of one pwrite that land together are one read and one write.
            while (subset.get(i + 1) && i + 1 < pending.size() && u.length() < (1 << 20)) {
                Unit next = pending.get(i + 1);
                boolean contiguous = next.recordSeq() == u.recordSeq() && next.offset() == u.offset() + u.length()
                        && (u.dataPosition() == Unit.ZEROS ? next.dataPosition() == Unit.ZEROS
                        : next.dataPosition() == u.dataPosition() + u.length());
                if (!contiguous) {
                    break;
                }
                u = new Unit(u.recordSeq(), u.offset(), u.length() + next.length(), u.dataPosition());
                i++;
            }
            ByteBuffer old = ByteBuffer.allocate(u.length());
            readFully(old, u.offset());
            saved.add(old);
            applied.add(u);
            write(u);
        }
        return applied;
    }

    void undo(List<Unit> applied, List<ByteBuffer> saved) throws IOException {
        for (int i = applied.size() - 1; i >= 0; i--) {
            ByteBuffer b = saved.get(i);
            b.clear();
            writeFully(b, applied.get(i).offset());
        }
    }

    void readFully(ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = file.read(b, pos);
            if (n < 0) {
                while (b.hasRemaining()) {
                    b.put((byte) 0);
                }
                break;
            }
            pos += n;
        }
        b.flip();
    }

    private void writeFully(ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            pos += file.write(b, pos);
        }
    }

    /** Copies the scratch image (the current state) to {@code out}. */
    void copyTo(Path out) throws IOException {
        file.force(false);
        Files.copy(scratch, out, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
