package dev.ioemu.tools.crashcheck;

import dev.ioemu.devices.block.writelog.WriteLog;
import dev.ioemu.devices.block.writelog.WriteLogFormat;
import dev.ioemu.devices.block.writelog.WriteLogReader;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The built-in checker's model of what the guest was promised, fed the log's {@code g-*} records
 * in order: every write the guest saw acknowledged before it asked for a flush that then completed
 * successfully must be on the disk — its bytes, or the bytes of a write to the same place the
 * guest issued after it (that one may have reached the disk too). Kept per 512-byte sector, so
 * memory grows with the sectors written, not with the log.
 */
final class GuestPromises {
    /** What one guest write put into one sector: bytes [start, end) of it, their hash. */
    record Piece(long writeId, long requestSeq, int start, int end, long hash) {
    }

    /** A sector's pieces since (and including) the promised one; {@code promised} < 0: none yet. */
    static final class SectorHistory {
        final List<Piece> pieces = new ArrayList<>();
        int promised = -1;
        /** The flush that promised it, or 0: the write's own completion (write cache off). */
        long flushId;
        long flushDoneSeq;
    }

    private record Request(long id, long seq, WriteLog.Kind kind, long offset, long length, long[] hashes,
                           boolean fua) {
    }

    private final Map<Long, Request> open = new HashMap<>();
    private final LinkedHashMap<Long, Request> ackedUnpromised = new LinkedHashMap<>();
    private final Map<Long, List<Request>> flushCovers = new HashMap<>();
    private final TreeMap<Long, SectorHistory> sectors = new TreeMap<>();
    /** Sectors whose promise changed, for the checker to read again. */
    private final Set<Long> dirty;
    long writes;
    long fuaWrites;
    long flushes;
    long flushesCompleted;
    long flushesFailed;

    GuestPromises(Set<Long> dirty) {
        this.dirty = dirty;
    }

    /** Applies one guest record. */
    void accept(WriteLogReader.Record r) throws IOException {
        if (r.tag().equals(WriteLogFormat.GUEST_REQUEST)) {
            WriteLog.Kind kind;
            try {
                kind = WriteLog.Kind.parse(r.get("kind"));
            } catch (IllegalArgumentException e) {
                throw new IOException("write log line " + r.line() + ": " + e.getMessage());
            }
            long offset = kind == WriteLog.Kind.FLUSH ? 0 : r.number("off");
            long length = kind == WriteLog.Kind.FLUSH ? 0 : r.number("len");
            long[] hashes = null;
            if (kind == WriteLog.Kind.WRITE) {
                String h = r.get("h");
                String[] parts = h.isEmpty() ? new String[0] : h.split(",");
                hashes = new long[parts.length];
                for (int i = 0; i < parts.length; i++) {
                    try {
                        hashes[i] = Long.parseUnsignedLong(parts[i], 16);
                    } catch (NumberFormatException e) {
                        throw new IOException("write log line " + r.line() + ": hash '" + parts[i]
                                + "' (expected: 16 hex digits)");
                    }
                }
            }
            Request req = new Request(r.number("id"), r.seq(), kind, offset, length, hashes,
                    "1".equals(r.fields().get("fua")));
            open.put(req.id, req);
            switch (kind) {
                case WRITE, ZEROES -> {
                    writes++;
                    forEachPiece(req, (sector, start, end, hash) ->
                            sectors.computeIfAbsent(sector, s -> new SectorHistory()).pieces
                                    .add(new Piece(req.id, req.seq, start, end, hash)));
                }
                case DISCARD -> forEachPiece(req, (sector, start, end, hash) -> {
                    sectors.remove(sector);
                    dirty.add(sector);
                });
                case FLUSH -> {
                    flushes++;
                    flushCovers.put(req.id, new ArrayList<>(ackedUnpromised.values()));
                }
            }
        } else if (r.tag().equals(WriteLogFormat.GUEST_DONE)) {
            Request req = open.remove(r.number("id"));
            if (req == null) {
                throw new IOException("write log line " + r.line() + ": g-done for id " + r.get("id")
                        + " that no g-req opened");
            }
            long ret = r.number("ret");
            if (req.kind == WriteLog.Kind.FLUSH) {
                List<Request> covered = flushCovers.remove(req.id);
                if (ret == 0) {
                    flushesCompleted++;
                    for (Request w : covered) {
                        promise(w, req.id, r.seq());
                        ackedUnpromised.remove(w.id);
                    }
                } else {
                    flushesFailed++;
                }
            } else if ((req.kind == WriteLog.Kind.WRITE || req.kind == WriteLog.Kind.ZEROES) && ret >= 0) {
                if (req.fua) {
                    // Write cache off: the completion itself said "durable".
                    fuaWrites++;
                    promise(req, 0, r.seq());
                } else {
                    ackedUnpromised.put(req.id, req);
                }
            }
        }
    }

    private void promise(Request w, long flushId, long flushDoneSeq) {
        forEachPiece(w, (sector, start, end, hash) -> {
            SectorHistory h = sectors.get(sector);
            if (h == null) {
                return;   // discarded since: its contents are no longer promised
            }
            int i = 0;
            while (i < h.pieces.size() && h.pieces.get(i).writeId() != w.id) {
                i++;
            }
            if (i == h.pieces.size() || i < h.promised) {
                return;
            }
            h.pieces.subList(0, i).clear();
            h.promised = 0;
            h.flushId = flushId;
            h.flushDoneSeq = flushDoneSeq;
            dirty.add(sector);
        });
    }

    /** Sectors with a promise, in order (live view). */
    TreeMap<Long, SectorHistory> sectors() {
        return sectors;
    }

    long promisedSectors() {
        return sectors.values().stream().filter(h -> h.promised >= 0).count();
    }

    interface PieceVisitor {
        void visit(long sector, int start, int end, long hash);
    }

    private static void forEachPiece(Request req, PieceVisitor v) {
        long cur = req.offset;
        long end = req.offset + req.length;
        int index = 0;
        while (cur < end) {
            long sector = cur / WriteLogFormat.SECTOR;
            int start = (int) (cur - sector * WriteLogFormat.SECTOR);
            int stop = (int) Math.min(WriteLogFormat.SECTOR, end - sector * WriteLogFormat.SECTOR);
            long hash;
            if (req.kind == WriteLog.Kind.WRITE) {
                hash = index < req.hashes.length ? req.hashes[index] : 0;
            } else {
                hash = WriteLogFormat.hash(new byte[stop - start], 0, stop - start);
            }
            v.visit(sector, start, stop, hash);
            cur = sector * WriteLogFormat.SECTOR + stop;
            index++;
        }
    }

    /**
     * Whether {@code bytes} (the sector's bytes [start, end) of its promised piece) are allowed: the
     * promised piece or a later piece covering the same bytes; a later piece over other bytes of
     * the sector makes the check pass (mixed contents cannot be judged by piece hashes).
     */
    static boolean allowed(SectorHistory h, long hash) {
        Piece p = h.pieces.get(h.promised);
        for (int i = h.promised; i < h.pieces.size(); i++) {
            Piece q = h.pieces.get(i);
            if (q.start() != p.start() || q.end() != p.end()) {
                return true;
            }
            if (q.hash() == hash) {
                return true;
            }
        }
        return false;
    }
}
