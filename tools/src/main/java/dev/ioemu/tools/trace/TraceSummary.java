package dev.ioemu.tools.trace;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * {@code ioemu-trace summary LOG…}: tells the seed's story from a trace — which path (INT 13h,
 * IDE PIO, IDE DMA) wrote which sectors and whether each write reached a successful flush (by the
 * guest, by the BIOS before an INT 13h call returned with firmware-writes=sync, or by the host when
 * the VM ended) — and counts events, ATA commands, INT 13h functions, errors, flushes and bytes by
 * path, ending with the warnings a person looks for: writes never flushed (the seed's bug), failed
 * flushes, guest resets while I/O was in flight, firmware writes left in the host cache.
 *
 * <p>Memory is bounded: the first {@link #LISTED} writes are listed one by one, later ones are
 * counted by path and fate.
 */
final class TraceSummary implements Consumer<TraceRecord> {
    static final int LISTED = 1000;
    private static final int EXAMPLES = 5;

    /** One write the guest made, and what became of it. */
    private static final class Write {
        final long micros;
        final String path;
        final String drive;
        final long lba;
        final long count;
        String flushedBy;
        long flushMicros;

        Write(long micros, String path, String drive, long lba, long count) {
            this.micros = micros;
            this.path = path;
            this.drive = drive;
            this.lba = lba;
            this.count = count;
        }
    }

    private final List<Write> writes = new ArrayList<>();
    private final List<Write> pending = new ArrayList<>();
    /** Writes beyond {@link #LISTED}: path → fate → {requests, sectors}. */
    private final Map<String, Map<String, long[]>> unlisted = new TreeMap<>();
    private final Map<String, long[]> unlistedPending = new TreeMap<>();
    private final Map<String, long[]> totals = new LinkedHashMap<>();
    private final Map<String, long[]> bytesByPath = new TreeMap<>();
    private final Map<String, Integer> biosCalls = new TreeMap<>();
    private final Map<String, long[]> int13Functions = new TreeMap<>();
    private final Map<String, long[]> ataCommands = new TreeMap<>();
    private final Map<String, Long> events = new TreeMap<>();
    private final Map<String, Long> errorKinds = new TreeMap<>();
    private final List<String> errorExamples = new ArrayList<>();
    private final List<String> flushFailures = new ArrayList<>();
    private final List<String> resetsDuringIo = new ArrayList<>();
    private long resetsDuringIoCount;
    private final Map<Long, Long> syncedLba = new HashMap<>();
    private final List<String> cachedFirmwareWrites = new ArrayList<>();
    /** Per IDE bus: what is in flight (a started DMA, a FLUSH CACHE not yet answered). */
    private final Map<String, String> inFlight = new HashMap<>();
    private boolean vmStopped;
    /** Where the guest's FLUSH CACHE is: the block-layer flush that follows it (if traced) is the guest's. */
    private enum GuestFlush { NONE, ISSUED, BLOCK_DONE, COMPLETED_FIRST }

    private GuestFlush guestFlush = GuestFlush.NONE;
    private long flushes;
    private long failedFlushes;
    private long first = TraceRecord.NO_TIME;

    /** Summarises lines held in memory (tests). */
    static void summarise(List<String> lines, PrintStream out) {
        TraceSummary s = new TraceSummary();
        TraceReader.Counts counts = TraceReader.readLines(lines, s);
        s.report(counts, out);
    }

    @Override
    public void accept(TraceRecord r) {
        if (first == TraceRecord.NO_TIME) {
            first = r.micros();
        }
        events.merge(r.event(), 1L, Long::sum);
        IoOp io = IoOp.of(r);
        if (io != null && io.guestPath() && !io.failed()) {
            bytesByPath.computeIfAbsent(io.path() + " " + io.op(), k -> new long[2])[0] += io.bytes();
            bytesByPath.get(io.path() + " " + io.op())[1]++;
        }
        switch (r.event()) {
            case "int13_disk_op" -> int13(r);
            case "ide_sector_write" -> addWrite(r.micros(), "IDE PIO", r.drive(), r.num("sector", 0), r.num("nsectors", 0));
            case "ide_dma_cb" -> {
                if (io != null && io.op().equals("write") && !io.failed()) {
                    addWrite(r.micros(), "IDE DMA", r.drive(), io.lba(), io.bytes() / IoOp.SECTOR);
                }
            }
            case "ide_exec_cmd" -> {
                long cmd = r.num("cmd", -1);
                String name = r.has("cmd_name") ? r.str("cmd_name") : AtaNames.of(cmd);
                ataCommands.computeIfAbsent(String.format("%02Xh %s", cmd, name), k -> new long[2])[0]++;
                if (AtaNames.isFlush(cmd)) {
                    inFlight.put(busKey(r), "FLUSH CACHE");
                    guestFlush = GuestFlush.ISSUED;   // the block-layer flush that follows is the guest's
                    if (r.qemu()) {
                        // QEMU logs no block-layer flush: the command is the best evidence there is.
                        flushed(r, "guest FLUSH CACHE");
                        flushes++;
                    }
                }
            }
            case "ide_cmd_complete" -> {
                long status = r.num("status", 0);
                if ((status & 0x01) != 0) {
                    String key = String.format("%02Xh %s", r.num("cmd", -1), AtaNames.of(r.num("cmd", -1)));
                    ataCommands.computeIfAbsent(key, k -> new long[2])[1]++;
                    error("ATA command ended with ERR", r);
                }
            }
            case "ide_flush" -> {
                // Logged when the guest's flush completes: after its blk_flush, or alone when blk_* is not traced.
                inFlight.remove(busKey(r));
                if (r.num("ret", 0) != 0) {
                    error("IDE flush failed", r);
                }
                if (guestFlush == GuestFlush.ISSUED) {
                    flushes++;
                    if (r.num("ret", 0) != 0) {
                        flushFailed(r);
                    } else {
                        flushed(r, "guest FLUSH CACHE");
                    }
                }
                guestFlush = guestFlush == GuestFlush.NONE ? GuestFlush.COMPLETED_FIRST : GuestFlush.NONE;
            }
            case "bmdma_cmd_writeb" -> {
                if ((r.num("val", 0) & 1) != 0) {
                    inFlight.put(busKey(r), "bus-master DMA");
                } else {
                    inFlight.remove(busKey(r));
                }
            }
            case "ide_reset", "system_reset_request", "qemu_system_reset_request" -> resetSeen(r);
            case "ide_io_error", "ide_guest_error", "ide_atapi_cmd_error", "int13_guest_error", "int13_io_error",
                 "blk_inject_error", "bios_trap_unknown", "bios_unsupported" -> error(r.event(), r);
            case "int13_drive" -> {
                if ("cache".equals(r.str("firmware_writes"))) {
                    cachedFirmwareWrites.add(r.str("image"));
                }
            }
            case "int13_sync" -> {
                // The BIOS's flush of one INT 13h write, logged before that call's int13_disk_op.
                if (r.num("synced", 0) == 1) {
                    syncedLba.put(r.num("lba", -1), r.micros());
                }
            }
            case "vm_state_change" -> vmStopped |= r.num("running", 1) == 0;
            case "blk_flush" -> {
                flushes++;
                boolean guests = guestFlush != GuestFlush.NONE;
                if (r.num("ret", 0) != 0) {
                    flushFailed(r);
                } else {
                    flushed(r, guests ? "guest FLUSH CACHE" : vmStopped ? "host, at VM exit" : "host");
                }
                guestFlush = guestFlush == GuestFlush.ISSUED ? GuestFlush.BLOCK_DONE : GuestFlush.NONE;
            }
            case "bios_call" -> biosCalls.merge(String.format("INT %02Xh AH=%02Xh", r.num("int", 0),
                    (r.num("ax", 0) >> 8) & 0xFF), 1, Integer::sum);
            default -> { }
        }
        if (r.event().startsWith("blk_") && r.num("ret", 0) < 0 && !r.event().equals("blk_flush")) {
            error(r.event() + " failed", r);
        }
    }

    private void flushFailed(TraceRecord r) {
        failedFlushes++;
        if (flushFailures.size() < EXAMPLES) {
            flushFailures.add("line " + r.line() + ": " + r.event() + " " + r.text());
        }
    }

    private void int13(TraceRecord r) {
        int ah = (int) r.num("ah", -1);
        long status = r.num("status", 0);
        long[] f = int13Functions.computeIfAbsent(String.format("AH=%02Xh %s", ah, int13Name(ah)), k -> new long[2]);
        f[0]++;
        if (status != 0) {
            f[1]++;
            error("INT 13h returned an error status", r);
        }
        long done = r.num("done", 0);
        if ((ah == 0x03 || ah == 0x43) && done > 0) {
            long lba = r.num("lba", 0);
            Long synced = syncedLba.remove(lba);
            Write w = addWrite(synced != null ? synced : r.micros(), String.format("INT 13h AH=%02Xh", ah),
                    String.format("drive %02xh", r.num("dl", 0)), lba, done, synced == null);
            if (synced != null && w != null) {
                w.flushedBy = "the BIOS, before INT 13h returned";
                w.flushMicros = synced;
            }
        }
    }

    private static String int13Name(int ah) {
        return switch (ah) {
            case 0x00 -> "reset";
            case 0x01 -> "status";
            case 0x02 -> "read (CHS)";
            case 0x03 -> "write (CHS)";
            case 0x04 -> "verify (CHS)";
            case 0x08 -> "drive parameters";
            case 0x15 -> "drive type";
            case 0x41 -> "EDD installation check";
            case 0x42 -> "extended read";
            case 0x43 -> "extended write";
            case 0x44 -> "extended verify";
            case 0x48 -> "extended drive parameters";
            default -> "";
        };
    }

    private void addWrite(long micros, String path, String drive, long lba, long count) {
        addWrite(micros, path, drive, lba, count, true);
    }

    private Write addWrite(long micros, String path, String drive, long lba, long count, boolean pendingFlush) {
        long[] t = totals.computeIfAbsent(path, k -> new long[2]);
        t[0] += count;
        t[1]++;
        if (writes.size() < LISTED) {
            Write w = new Write(micros, path, drive, lba, count);
            writes.add(w);
            if (pendingFlush) {
                pending.add(w);
            }
            return w;
        }
        if (pendingFlush) {
            long[] p = unlistedPending.computeIfAbsent(path, k -> new long[2]);
            p[0]++;
            p[1] += count;
        } else {
            long[] u = unlisted.computeIfAbsent(path, k -> new TreeMap<>())
                    .computeIfAbsent("the BIOS, before INT 13h returned", k -> new long[2]);
            u[0]++;
            u[1] += count;
        }
        return null;
    }

    private void flushed(TraceRecord r, String by) {
        for (Write w : pending) {
            w.flushedBy = by;
            w.flushMicros = r.micros();
        }
        pending.clear();
        unlistedPending.forEach((path, p) -> {
            long[] u = unlisted.computeIfAbsent(path, k -> new TreeMap<>()).computeIfAbsent(by, k -> new long[2]);
            u[0] += p[0];
            u[1] += p[1];
        });
        unlistedPending.clear();
    }

    private static String busKey(TraceRecord r) {
        return r.has("bus") && !r.qemu() ? "ide" + r.num("bus", 0) : "ide";
    }

    private void resetSeen(TraceRecord r) {
        boolean wholeMachine = !r.event().equals("ide_reset") || "machine".equals(r.str("kind"));
        List<String> busy = new ArrayList<>();
        inFlight.forEach((bus, what) -> {
            if (wholeMachine || bus.equals(busKey(r)) || r.qemu()) {
                busy.add(what + " on " + bus);
            }
        });
        if (!busy.isEmpty()) {
            resetsDuringIoCount++;
            if (resetsDuringIo.size() < EXAMPLES) {
                resetsDuringIo.add(at(r.micros()) + " line " + r.line() + ": " + r.event() + " " + r.text() + " while "
                        + String.join(", ", busy) + " was in flight");
            }
        }
        if (wholeMachine) {
            inFlight.clear();
        } else {
            inFlight.remove(busKey(r));
        }
    }

    private void error(String kind, TraceRecord r) {
        errorKinds.merge(kind, 1L, Long::sum);
        if (errorExamples.size() < EXAMPLES) {
            errorExamples.add("line " + r.line() + ": " + r.event() + " " + r.text());
        }
    }

    private String at(long micros) {
        return micros == TraceRecord.NO_TIME || first == TraceRecord.NO_TIME ? "        ?   "
                : String.format("%+10.3f ms", (micros - first) / 1000.0);
    }

    void report(TraceReader.Counts counts, PrintStream out) {
        out.println("trace: " + counts.describe());
        out.println("writes by path (sectors):");
        if (writes.isEmpty()) {
            out.println("  none");
        }
        long unflushedRequests = 0;
        long unflushedSectors = 0;
        long hostOnly = 0;
        for (Write w : writes) {
            String range = w.count == 1 ? "LBA " + w.lba : "LBA " + w.lba + "-" + (w.lba + w.count - 1);
            String fate = w.flushedBy == null ? "NOT FLUSHED"
                    : w.flushMicros == w.micros || w.micros == TraceRecord.NO_TIME ? "flushed by " + w.flushedBy
                    : String.format("flushed by %s after %.3f ms", w.flushedBy, (w.flushMicros - w.micros) / 1000.0);
            out.printf("  %s  %-14s %-10s %-16s %s%n", at(w.micros), w.path, w.drive, range, fate);
            if (w.flushedBy == null) {
                unflushedRequests++;
                unflushedSectors += w.count;
            } else if (w.flushedBy.startsWith("host")) {
                hostOnly++;
            }
        }
        unlisted.forEach((path, fates) -> fates.forEach((by, c) ->
                out.printf("  (not listed) %-14s %d requests, %d sectors, flushed by %s%n", path, c[0], c[1], by)));
        for (Map.Entry<String, long[]> p : unlistedPending.entrySet()) {
            out.printf("  (not listed) %-14s %d requests, %d sectors, NOT FLUSHED%n", p.getKey(), p.getValue()[0],
                    p.getValue()[1]);
            unflushedRequests += p.getValue()[0];
            unflushedSectors += p.getValue()[1];
        }
        totals.forEach((path, t) -> out.printf("  total %-14s %d sectors in %d requests%n", path, t[0], t[1]));
        out.printf("flushes: %d (%d failed)%n", flushes, failedFlushes);
        long firmware = writes.stream().filter(w -> w.path.startsWith("INT 13h")).count();
        long durable = writes.stream().filter(w -> w.path.startsWith("INT 13h") && w.flushedBy != null
                && !w.flushedBy.startsWith("host")).count();
        if (firmware > 0) {
            out.printf("firmware writes: %d, durable before the guest went on: %d%n", firmware, durable);
        }
        if (!bytesByPath.isEmpty()) {
            out.println("bytes by path:");
            bytesByPath.forEach((k, v) -> out.printf("  %-20s %d bytes in %d requests%n", k, v[0], v[1]));
        }
        if (!ataCommands.isEmpty()) {
            out.println("ATA commands:");
            ataCommands.forEach((k, v) -> out.printf("  %-36s %d%s%n", k, v[0], v[1] > 0 ? " (" + v[1] + " with ERR)" : ""));
        }
        if (!int13Functions.isEmpty()) {
            out.println("INT 13h functions:");
            int13Functions.forEach((k, v) -> out.printf("  %-36s %d%s%n", k, v[0], v[1] > 0 ? " (" + v[1] + " failed)" : ""));
        }
        if (!biosCalls.isEmpty()) {
            out.println("BIOS calls:");
            biosCalls.forEach((k, v) -> out.printf("  %-20s %d%n", k, v));
        }
        if (!errorKinds.isEmpty()) {
            out.println("errors:");
            errorKinds.forEach((k, v) -> out.printf("  %-36s %d%n", k, v));
            errorExamples.forEach(e -> out.println("    e.g. " + e));
        }
        out.println("events:");
        events.forEach((k, v) -> out.printf("  %-24s %d%n", k, v));
        // The warnings come last, where a person's eye lands.
        if (unflushedRequests > 0) {
            out.printf("warning: the seed's bug: %d writes (%d sectors) were never followed by a successful flush before %s;"
                    + " the guest was told they were written, a host crash or power cut loses them%n",
                    unflushedRequests, unflushedSectors, vmStopped ? "shutdown" : "the trace ends");
        }
        if (hostOnly > 0) {
            out.printf("warning: %d writes were made durable only by the host's flush, never by the guest's%n", hostOnly);
        }
        if (failedFlushes > 0) {
            out.printf("warning: %d flushes failed: data the guest believes durable may be lost (the error is sticky)%n",
                    failedFlushes);
            flushFailures.forEach(f -> out.println("    " + f));
        }
        if (resetsDuringIoCount > 0) {
            out.printf("warning: %d guest resets while I/O was in flight:%n", resetsDuringIoCount);
            resetsDuringIo.forEach(f -> out.println("    " + f));
        }
        for (String image : cachedFirmwareWrites) {
            out.printf("warning: %s has firmware-writes=cache: INT 13h writes stay in the host page cache until"
                    + " someone flushes, invisible to a reader below it (the 2007 story)%n", image);
        }
        if (firmware > durable) {
            out.printf("warning: %d of %d firmware (INT 13h) writes were left in the host cache when the call returned%n",
                    firmware - durable, firmware);
        }
    }

    private TraceSummary() {
    }

    static TraceSummary create() {
        return new TraceSummary();
    }
}
