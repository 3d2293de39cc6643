package dev.ioemu.tools.trace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ioemu-trace summary FILE}: reads an ioemu trace log (QEMU's "log" backend lines,
 * {@code PID@SEC.USEC:event fields}) and tells the seed's story: which path — INT 13h, IDE PIO,
 * IDE DMA — wrote which sectors, and whether each write reached a successful flush, by the guest
 * by the BIOS before an INT 13h call returned (firmware-writes=sync), or by the host when the VM ended. Also counts BIOS calls by interrupt and function.
 */
public final class TraceSummary {
    private static final Pattern LINE = Pattern.compile("^\\d+@(\\d+)\\.(\\d{6}):(\\S+) ?(.*)$");
    private static final Pattern INT13 = Pattern.compile(
            "dl 0x(\\p{XDigit}+) ah 0x(\\p{XDigit}+) lba (\\d+) count (\\d+) buf 0x\\p{XDigit}+ status 0x(\\p{XDigit}+) done (\\d+)");
    private static final Pattern IDE_PIO = Pattern.compile("bus (\\d+) unit (\\d+) sector (\\d+) nsectors (\\d+)");
    private static final Pattern IDE_DMA = Pattern.compile("bus (\\d+) ret (-?\\d+) sector (\\d+) nsectors (\\d+) write (\\d)");
    private static final Pattern BLK_FLUSH = Pattern.compile("image (\\S+) mode (\\S+) ret (-?\\d+) lat_ns (\\d+)");
    private static final Pattern INT13_SYNC = Pattern.compile("lba (\\d+) bytes \\d+ synced (\\d) ret");
    private static final Pattern BIOS_CALL = Pattern.compile("int 0x(\\p{XDigit}+) ax 0x(\\p{XDigit}{2})");

    /** One write the guest made, and what became of it. */
    record Write(long micros, String path, String drive, long lba, long count, String flushedBy, long flushMicros) { }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 2 || !args[0].equals("summary")) {
            err.println("usage: ioemu-trace summary TRACE-LOG");
            return 2;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(args[1]));
        } catch (NoSuchFileException e) {
            err.println("ioemu-trace: " + args[1] + ": No such file or directory");
            return 1;
        } catch (IOException e) {
            err.println("ioemu-trace: " + args[1] + ": " + e.getMessage());
            return 1;
        }
        summarise(lines, out);
        return 0;
    }

    static void summarise(List<String> lines, PrintStream out) {
        List<Write> writes = new ArrayList<>();
        List<Integer> pending = new ArrayList<>();      // writes not yet covered by a flush
        Map<String, Integer> biosCalls = new TreeMap<>();
        Map<String, Integer> events = new TreeMap<>();
        boolean vmStopped = false;
        boolean guestFlushSeen = false;
        Map<Long, Long> syncedLba = new java.util.HashMap<>();
        List<String> cachedFirmwareWrites = new ArrayList<>();   // int13_sync not yet matched to its call
        int flushes = 0;
        int failedFlushes = 0;
        long first = -1;
        int unparsed = 0;
        for (String raw : lines) {
            Matcher m = LINE.matcher(raw);
            if (!m.matches()) {
                unparsed++;
                continue;
            }
            long micros = Long.parseLong(m.group(1)) * 1_000_000 + Long.parseLong(m.group(2));
            if (first < 0) {
                first = micros;
            }
            String event = m.group(3);
            String fields = m.group(4);
            events.merge(event, 1, Integer::sum);
            Matcher f;
            switch (event) {
                case "int13_disk_op" -> {
                    if ((f = INT13.matcher(fields)).find()) {
                        int ah = Integer.parseInt(f.group(2), 16);
                        long done = Long.parseLong(f.group(6));
                        if ((ah == 0x03 || ah == 0x43) && done > 0) {
                            long lba = Long.parseLong(f.group(3));
                            Long synced = syncedLba.remove(lba);
                            if (synced == null) {
                                pending.add(writes.size());
                            }
                            writes.add(new Write(synced != null ? synced : micros, "INT 13h AH=" + hex2(ah),
                                    "drive " + f.group(1) + "h", lba, done,
                                    synced != null ? "the BIOS, before INT 13h returned" : null,
                                    synced != null ? synced : 0));
                        }
                    }
                }
                case "ide_sector_write" -> {
                    if ((f = IDE_PIO.matcher(fields)).find()) {
                        pending.add(writes.size());
                        writes.add(new Write(micros, "IDE PIO", "ide" + f.group(1) + "." + f.group(2),
                                Long.parseLong(f.group(3)), Long.parseLong(f.group(4)), null, 0));
                    }
                }
                case "ide_dma_cb" -> {
                    if ((f = IDE_DMA.matcher(fields)).find() && f.group(5).equals("1") && Long.parseLong(f.group(4)) > 0) {
                        pending.add(writes.size());
                        writes.add(new Write(micros, "IDE DMA", "ide" + f.group(1),
                                Long.parseLong(f.group(3)), Long.parseLong(f.group(4)), null, 0));
                    }
                }
                case "ide_flush" -> guestFlushSeen = true;
                case "int13_drive" -> {
                    int at = fields.indexOf(" firmware_writes cache");
                    if (at > 0 && fields.startsWith("image ")) {
                        cachedFirmwareWrites.add(fields.substring("image ".length(), at));
                    }
                }
                case "int13_sync" -> {
                    // The BIOS's flush of one INT 13h write, logged before that call's int13_disk_op.
                    if ((f = INT13_SYNC.matcher(fields)).find() && f.group(2).equals("1")) {
                        syncedLba.put(Long.parseLong(f.group(1)), micros);
                    }
                }
                case "vm_state_change" -> vmStopped |= fields.startsWith("running 0");
                case "blk_flush" -> {
                    if ((f = BLK_FLUSH.matcher(fields)).find()) {
                        flushes++;
                        if (Long.parseLong(f.group(3)) != 0) {
                            failedFlushes++;
                        } else {
                            String by = guestFlushSeen ? "guest FLUSH CACHE" : vmStopped ? "host, at VM exit" : "host";
                            for (int i : pending) {
                                Write w = writes.get(i);
                                writes.set(i, new Write(w.micros, w.path, w.drive, w.lba, w.count, by, micros));
                            }
                            pending.clear();
                        }
                        guestFlushSeen = false;
                    }
                }
                case "bios_call" -> {
                    if ((f = BIOS_CALL.matcher(fields)).find()) {
                        biosCalls.merge("INT " + f.group(1).toUpperCase() + "h AH=" + f.group(2).toUpperCase() + "h",
                                1, Integer::sum);
                    }
                }
                default -> { }
            }
        }
        out.printf("trace: %d lines, %d events%s%n", lines.size(), lines.size() - unparsed,
                unparsed > 0 ? " (" + unparsed + " lines not in the trace format)" : "");
        out.println("writes by path (sectors):");
        if (writes.isEmpty()) {
            out.println("  none");
        }
        Map<String, long[]> totals = new LinkedHashMap<>();
        for (Write w : writes) {
            String range = w.count == 1 ? "LBA " + w.lba : "LBA " + w.lba + "-" + (w.lba + w.count - 1);
            String fate = w.flushedBy == null ? "NOT FLUSHED"
                    : w.flushMicros == w.micros ? "flushed by " + w.flushedBy
                    : String.format("flushed by %s after %.3f ms", w.flushedBy, (w.flushMicros - w.micros) / 1000.0);
            out.printf("  %+10.3f ms  %-14s %-10s %-16s %s%n", (w.micros - first) / 1000.0, w.path, w.drive, range, fate);
            totals.computeIfAbsent(w.path, k -> new long[2])[0] += w.count;
            totals.get(w.path)[1]++;
        }
        totals.forEach((path, t) -> out.printf("  total %-14s %d sectors in %d requests%n", path, t[0], t[1]));
        out.printf("flushes: %d (%d failed)%n", flushes, failedFlushes);
        long firmware = writes.stream().filter(w -> w.path.startsWith("INT 13h")).count();
        long durable = writes.stream().filter(w -> w.path.startsWith("INT 13h") && w.flushedBy != null
                && !w.flushedBy.startsWith("host")).count();
        if (firmware > 0) {
            out.printf("firmware writes: %d, durable before the guest went on: %d%n", firmware, durable);
        }
        for (String image : cachedFirmwareWrites) {
            out.printf("warning: %s has firmware-writes=cache: INT 13h writes stay in the host page cache until"
                    + " someone flushes, invisible to a reader below it (the 2007 story)%n", image);
        }
        if (!biosCalls.isEmpty()) {
            out.println("BIOS calls:");
            biosCalls.forEach((k, v) -> out.printf("  %-20s %d%n", k, v));
        }
        out.println("events:");
        events.forEach((k, v) -> out.printf("  %-24s %d%n", k, v));
    }

    private static String hex2(int v) {
        return String.format("%02Xh", v);
    }

    private TraceSummary() {
    }
}
