package dev.ioemu.tools.crashcheck;

import dev.ioemu.devices.block.writelog.WriteLogFormat;
import dev.ioemu.devices.block.writelog.WriteLogReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * {@code ioemu-img crashcheck [options] LOG IMAGE} (issue 14, "Crash-consistency simulator"):
 * replays the host side of a write log ({@link WriteLogFormat}, recorded with
 * {@code x-write-log=LOG}) over IMAGE — the image as it was before the run or after it; the log's
 * {@code h-old} records rebuild the start — and enumerates the crash states the host allows
 * ({@link CrashDisk}): at each crash point (before every record that changes what may be on the
 * disk, and at the end) the durable image plus subsets of the pending writes — none, all, each
 * prefix in log order, every subset when there are at most {@value #EXHAUSTIVE_UP_TO}, and
 * {@code --samples} more drawn with a seeded RNG. Each state is checked by
 * <ul>
 *   <li>the built-in checker ({@link GuestPromises}): every write the guest saw acknowledged
 *       before a flush the guest saw complete is present;</li>
 *   <li>with {@code --journal LBA:SECTORS}, the journal workload's checker ({@link JournalChecker});</li>
 *   <li>with {@code --check 'CMD {}'}, a command run on the state's image ({} is its path; a
 *       non-zero exit fails the state).</li>
 * </ul>
 * Output is deterministic for a log, an image and a seed. Exit status as {@code qemu-img check}:
 * 0 every state passed, 2 some state failed, 1 the check could not be done.
 */
public final class CrashCheck {
    public static final String USAGE = String.join("\n",
            "Usage: ioemu-img crashcheck [--seed N] [--samples N] [--torn sector|none] [--max-states N]",
            "                            [--journal LBA:SECTORS] [--check 'CMD {}'] [--dump-state N:FILE] LOG IMAGE",
            "Replays the host side of a write log (-drive ...,x-write-log=LOG) over IMAGE (the image before",
            "or after the run) and checks every crash state the host allows: the durable writes plus subsets",
            "of the writes no completed fdatasync covered (none, all, each prefix, --samples random ones per",
            "crash point, default 16, seed --seed, default 1; --torn sector, the default, lets each 512-byte",
            "sector of a write land on its own). Checkers: every write acknowledged before a completed flush",
            "is present (built in); --journal: every committed transaction of the journal workload in",
            "LBA..LBA+SECTORS-1 is complete; --check: CMD on the state's image ({} is its path) exits 0.",
            "--max-states N stops after N states; --dump-state N:FILE writes state N's image to FILE and stops",
            "there. Exit: 0 all states pass, 2 a state fails, 1 error.");

    static final int EXHAUSTIVE_UP_TO = 4;
    /** At most this many prefixes per crash point (evenly spaced when there are more). */
    static final int MAX_PREFIXES = 32;
    /** Sectors of promised data read at a time. */
    private static final int RUN_SECTORS = 256;

    record Settings(Path log, Path image, long seed, int samples, int torn, long maxStates, long journalStart,
                    int journalSectors, String check, long dumpState, Path dumpFile) {
    }

    /** The first failing state, as reported. */
    record Failure(long state, long crashBeforeSeq, String what, String applied) {
    }

    private final Settings settings;
    private final PrintStream out;
    private GuestPromises guest;
    private CrashDisk disk;
    private JournalChecker journal;
    private final Set<Long> dirty = new HashSet<>();
    private final Map<Long, String> durableViolations = new HashMap<>();
    private long crashPoints;
    private long states;
    private long statesFailing;
    private long statesFailingBuiltIn;
    private long statesFailingJournal;
    private long statesFailingCommand;
    private Failure first;
    private long maxPending;
    private boolean dumped;

    private CrashCheck(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Parses arguments after "crashcheck" and runs; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Settings s;
        try {
            s = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("ioemu-img: crashcheck: " + e.getMessage());
            err.println("Try 'ioemu-img --help' for more information.");
            return 1;
        }
        try {
            return new CrashCheck(s, out).check();
        } catch (IOException | RuntimeException e) {
            err.println("ioemu-img: crashcheck: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    static Settings parse(String[] args) {
        long seed = 1;
        int samples = 16;
        int torn = 512;
        long maxStates = Long.MAX_VALUE;
        long journalStart = -1;
        int journalSectors = 0;
        String check = null;
        long dumpState = -1;
        Path dumpFile = null;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a;
            String value = null;
            if (a.startsWith("--") && a.contains("=")) {
                name = a.substring(0, a.indexOf('='));
                value = a.substring(a.indexOf('=') + 1);
            }
            if (List.of("--seed", "--samples", "--torn", "--max-states", "--journal", "--check", "--dump-state")
                    .contains(name) && value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + ": missing value");
                }
                value = args[++i];
            }
            switch (name) {
                case "--seed" -> seed = number(name, value, Long.MIN_VALUE, Long.MAX_VALUE);
                case "--samples" -> samples = (int) number(name, value, 0, 100_000);
                case "--max-states" -> maxStates = number(name, value, 1, Long.MAX_VALUE);
                case "--torn" -> torn = switch (value) {
                    case "sector" -> 512;
                    case "none" -> 0;
                    default -> throw new IllegalArgumentException("--torn: '" + value + "' (expected: sector, none)");
                };
                case "--journal" -> {
                    int colon = value.indexOf(':');
                    if (colon <= 0) {
                        throw new IllegalArgumentException("--journal: '" + value + "' (expected: LBA:SECTORS)");
                    }
                    journalStart = number("--journal LBA", value.substring(0, colon), 0, Long.MAX_VALUE / 512);
                    journalSectors = (int) number("--journal SECTORS", value.substring(colon + 1), 1, 1 << 16);
                }
                case "--check" -> {
                    if (!value.contains("{}")) {
                        throw new IllegalArgumentException("--check: '" + value
                                + "' (expected: a command with {} where the image path goes)");
                    }
                    check = value;
                }
                case "--dump-state" -> {
                    int colon = value.indexOf(':');
                    if (colon <= 0 || colon == value.length() - 1) {
                        throw new IllegalArgumentException("--dump-state: '" + value + "' (expected: N:FILE)");
                    }
                    dumpState = number("--dump-state N", value.substring(0, colon), 1, Long.MAX_VALUE);
                    dumpFile = Path.of(value.substring(colon + 1));
                }
                default -> {
                    if (a.startsWith("-") && a.length() > 1) {
                        throw new IllegalArgumentException("option: '" + a + "' (expected: --seed, --samples, --torn, "
                                + "--max-states, --journal, --check, --dump-state)");
                    }
                    positional.add(a);
                }
            }
        }
        if (positional.size() != 2) {
            throw new IllegalArgumentException(positional.size() + " file arguments " + positional
                    + " (expected: LOG IMAGE)");
        }
        return new Settings(Path.of(positional.get(0)), Path.of(positional.get(1)), seed, samples, torn, maxStates,
                journalStart, journalSectors, check, dumpState, dumpFile);
    }

    private static long number(String what, String value, long min, long max) {
        try {
            long v = Long.parseLong(value);
            if (v < min || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + value + "' (expected: a whole number "
                    + (max == Long.MAX_VALUE ? "≥ " + min : min + "-" + max) + ")");
        }
    }

    // ---------------------------------------------------------------------------------------

    private int check() throws IOException {
        if (!Files.isRegularFile(settings.image())) {
            throw new IOException("image '" + settings.image() + "': not a regular file");
        }
        Path scratch = Files.createTempFile("crashcheck-", ".img");
        try {
            String header;
            long size;
            long oldRanges;
            long oldDiffering;
            // Pass 1: the image as it was when the log began (IMAGE plus the h-old contents).
            try (WriteLogReader log = WriteLogReader.open(settings.log())) {
                WriteLogReader.Record open = log.next();
                if (open == null || !open.tag().equals(WriteLogFormat.OPEN)) {
                    throw new IOException("write log '" + settings.log() + "': no open record (expected: it first)");
                }
                size = open.number("size");
                header = "image " + WriteLogFormat.decode(open.get("image")) + ", " + size + " bytes, cache="
                        + open.get("cache") + ", direct=" + open.get("direct") + ", dsync=" + open.get("dsync");
                long imageSize = Files.size(settings.image());
                if (imageSize < size - 511 || imageSize > size) {
                    throw new IOException("image '" + settings.image() + "': " + imageSize + " bytes (expected: "
                            + size + ", the size the log was recorded with)");
                }
                sparseCopy(settings.image(), scratch, size);
                long[] counts = restoreOld(log, scratch);
                oldRanges = counts[0];
                oldDiffering = counts[1];
            }
            out.println("log: " + settings.log() + " (" + header + ")");
            out.println("start: rebuilt from " + oldRanges + " recorded ranges; IMAGE differs from the start in "
                    + oldDiffering + " of them (" + (oldDiffering == 0 ? "the image before the run"
                    : "the image after the run, or changed since") + ")");
            // Pass 2: the simulation.
            try (WriteLogReader log = WriteLogReader.open(settings.log());
                 CrashDisk d = new CrashDisk(log, scratch, size, settings.torn(), dirty)) {
                disk = d;
                guest = new GuestPromises(dirty);
                journal = settings.journalStart() >= 0
                        ? new JournalChecker(settings.journalStart(), settings.journalSectors()) : null;
                long records = 0;
                WriteLogReader.Record r;
                while ((r = log.next()) != null && states < settings.maxStates() && !dumped) {
                    records++;
                    if (r.isHost()) {
                        if (CrashDisk.changesDisk(r)) {
                            crashPoint(r.seq());
                        }
                        disk.accept(r);
                    } else {
                        guest.accept(r);
                    }
                }
                if (states < settings.maxStates() && !dumped) {
                    crashPoint(-1);
                }
                report(records);
            }
            if (settings.dumpState() > 0 && !dumped) {
                throw new IOException("--dump-state: state " + settings.dumpState() + " does not exist (there are "
                        + states + ")");
            }
            return statesFailing == 0 ? 0 : 2;
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    private void report(long records) {
        out.println("records: " + records + " (guest: " + guest.writes + " writes, " + guest.fuaWrites
                + " acknowledged durable (write cache off), " + guest.flushes + " flushes, "
                + guest.flushesCompleted + " completed, " + guest.flushesFailed + " failed; host: " + disk.pwrites
                + " pwrite, " + disk.directWrites + " O_DIRECT, " + disk.dsyncWrites + " O_DSYNC, " + disk.zeroings
                + " zeroing, " + disk.syncs + " fdatasync/fsync, " + disk.syncsFailed + " failed, " + disk.fadvises
                + " fadvise)");
        out.println("crash points: " + crashPoints + " (at most " + maxPending + " writes pending; torn "
                + (settings.torn() == 0 ? "none" : "sector") + ", seed " + settings.seed() + ", " + settings.samples()
                + " samples per point)");
        out.println("promised sectors: " + guest.promisedSectors());
        out.println("states checked: " + states);
        out.println("states failing: " + statesFailing + " (flushed writes lost: " + statesFailingBuiltIn
                + (journal != null ? ", incomplete committed transactions: " + statesFailingJournal : "")
                + (settings.check() != null ? ", check command failed: " + statesFailingCommand : "") + ")");
        if (journal != null) {
            out.println("journal: up to " + journal.maxCommitted + " committed transactions in a state");
        }
        if (first != null) {
            out.println("first failing state: " + first.state() + " (crash "
                    + (first.crashBeforeSeq() < 0 ? "at the end of the log" : "before record " + first.crashBeforeSeq())
                    + ", " + first.applied() + "): " + first.what());
            out.println("replay: ioemu-img crashcheck --seed " + settings.seed()
                    + (settings.torn() == 0 ? " --torn none" : "") + " --samples " + settings.samples()
                    + (journal == null ? "" : " --journal " + settings.journalStart() + ":" + settings.journalSectors())
                    + " --dump-state " + first.state() + ":STATE.img " + settings.log() + " " + settings.image());
        } else {
            out.println("result: no flushed write lost in " + states + " crash states");
        }
    }

    // ---------------------------------------------------------------------------------------
    // Crash points and states

    private void crashPoint(long beforeSeq) throws IOException {
        crashPoints++;
        List<CrashDisk.Unit> pending = disk.pending();
        int n = pending.size();
        maxPending = Math.max(maxPending, n);
        Set<BitSet> seen = new LinkedHashSet<>();
        BitSet all = new BitSet(n);
        all.set(0, n);
        seen.add(new BitSet(n));
        seen.add(all);
        if (n <= EXHAUSTIVE_UP_TO) {
            for (int mask = 1; mask < (1 << n); mask++) {
                seen.add(BitSet.valueOf(new long[] {mask}));
            }
        } else {
            int prefixes = Math.min(n - 1, MAX_PREFIXES);
            for (int j = 1; j <= prefixes; j++) {
                int k = prefixes == n - 1 ? j : (int) ((long) j * n / (prefixes + 1));
                BitSet p = new BitSet(n);
                p.set(0, Math.max(1, k));
                seen.add(p);
            }
            SplittableRandom rng = new SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L + crashPoints);
            for (int i = 0; i < settings.samples(); i++) {
                BitSet b = new BitSet(n);
                for (int u = 0; u < n; u++) {
                    if (rng.nextBoolean()) {
                        b.set(u);
                    }
                }
                seen.add(b);
            }
        }
        for (BitSet subset : seen) {
            if (states >= settings.maxStates() || dumped) {
                return;
            }
            checkState(beforeSeq, subset, n);
        }
    }

    private void checkState(long beforeSeq, BitSet subset, int pendingCount) throws IOException {
        long state = ++states;
        List<ByteBuffer> saved = new ArrayList<>();
        List<CrashDisk.Unit> applied = disk.materialise(subset, saved);
        try {
            String appliedText = "applied " + applied.size() + " of " + pendingCount + " pending writes"
                    + (applied.isEmpty() ? "" : " (records " + recordList(applied) + ")");
            String builtIn = checkPromises(subset.isEmpty(), applied);
            String journalProblem = journal == null ? null : journal.check(disk);
            String commandProblem = settings.check() == null ? null : runCommand();
            if (builtIn != null) {
                statesFailingBuiltIn++;
            }
            if (journalProblem != null) {
                statesFailingJournal++;
            }
            if (commandProblem != null) {
                statesFailingCommand++;
            }
            String problem = builtIn != null ? builtIn : journalProblem != null ? journalProblem : commandProblem;
            if (problem != null) {
                statesFailing++;
                if (first == null) {
                    first = new Failure(state, beforeSeq, problem, appliedText);
                }
            }
            if (state == settings.dumpState()) {
                disk.copyTo(settings.dumpFile());
                dumped = true;
                out.println("state " + state + " (crash " + (beforeSeq < 0 ? "at the end of the log"
                        : "before record " + beforeSeq) + ", " + appliedText + ") written to " + settings.dumpFile()
                        + (problem == null ? "" : ": " + problem));
            }
        } finally {
            disk.undo(applied, saved);
        }
    }

    private static String recordList(List<CrashDisk.Unit> applied) {
        TreeSet<Long> seqs = new TreeSet<>();
        for (CrashDisk.Unit u : applied) {
            seqs.add(u.recordSeq());
        }
        StringBuilder b = new StringBuilder();
        int shown = 0;
        for (long s : seqs) {
            if (shown == 8) {
                b.append(",…");
                break;
            }
            b.append(shown++ == 0 ? "" : ",").append(s);
        }
        return b.toString();
    }

    /**
     * The built-in check. In the durable state (empty subset) the sectors that changed since the
     * last durable check are read and their verdicts kept; in any other state only the sectors
     * its subset wrote can differ from the durable state.
     */
    private String checkPromises(boolean durableState, List<CrashDisk.Unit> applied) throws IOException {
        TreeSet<Long> toRead = new TreeSet<>();
        Set<Long> coveredBySubset = new HashSet<>();
        for (CrashDisk.Unit u : applied) {
            for (long s = u.offset() / 512; s * 512 < u.offset() + u.length(); s++) {
                coveredBySubset.add(s);
            }
        }
        if (durableState) {
            toRead.addAll(dirty);
            dirty.clear();
        }
        toRead.addAll(coveredBySubset);
        String firstProblem = null;
        Map<Long, String> verdicts = readAndJudge(toRead);
        if (durableState) {
            for (long s : toRead) {
                String v = verdicts.get(s);
                if (v == null) {
                    durableViolations.remove(s);
                } else {
                    durableViolations.put(s, v);
                }
            }
        }
        for (String v : verdicts.values()) {
            firstProblem = v;
            break;
        }
        if (firstProblem == null) {
            for (Map.Entry<Long, String> e : new TreeMap<>(durableViolations).entrySet()) {
                if (!coveredBySubset.contains(e.getKey())) {
                    firstProblem = e.getValue();
                    break;
                }
            }
        }
        return firstProblem;
    }

    /** Reads the promised sectors among {@code sectors} in runs; returns sector → problem for the bad ones, in order. */
    private Map<Long, String> readAndJudge(TreeSet<Long> sectors) throws IOException {
        Map<Long, String> bad = new TreeMap<>();
        List<Long> run = new ArrayList<>();
        for (long s : sectors) {
            GuestPromises.SectorHistory h = guest.sectors().get(s);
            if (h == null || h.promised < 0) {
                continue;
            }
            if (!run.isEmpty() && (s != run.get(run.size() - 1) + 1 || run.size() == RUN_SECTORS)) {
                judgeRun(run, bad);
                run.clear();
            }
            run.add(s);
        }
        if (!run.isEmpty()) {
            judgeRun(run, bad);
        }
        return bad;
    }

    private void judgeRun(List<Long> run, Map<Long, String> bad) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(run.size() * 512);
        disk.readFully(b, run.get(0) * 512);
        byte[] bytes = b.array();
        for (int i = 0; i < run.size(); i++) {
            long s = run.get(i);
            GuestPromises.SectorHistory h = guest.sectors().get(s);
            GuestPromises.Piece p = h.pieces.get(h.promised);
            long hash = WriteLogFormat.hash(bytes, i * 512 + p.start(), p.end() - p.start());
            if (!GuestPromises.allowed(h, hash)) {
                bad.put(s, "sector " + s + " (offset " + (s * 512 + p.start()) + ") lacks write id " + p.writeId()
                        + " (g-req record " + p.requestSeq() + "), " + (h.flushId == 0
                        ? "acknowledged as durable with the write cache off (record " + h.flushDoneSeq + ")"
                        : "acknowledged before flush id " + h.flushId + " completed (record " + h.flushDoneSeq + ")"));
            }
        }
    }

    private String runCommand() throws IOException {
        disk.file().force(false);
        String path = disk.path().toString().replace("'", "'\\''");
        String cmd = settings.check().replace("{}", "'" + path + "'");
        Path output = Files.createTempFile("crashcheck-", ".out");
        try {
            Process p = new ProcessBuilder("sh", "-c", cmd).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return "check command timed out after 10 minutes";
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(output, StandardCharsets.ISO_8859_1);
                return "check command exited " + p.exitValue() + (lines.isEmpty() ? "" : ": " + lines.get(0));
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running the check command");
        } finally {
            Files.deleteIfExists(output);
        }
    }

    // ---------------------------------------------------------------------------------------
    // The starting image

    /** Copies the first {@code size} bytes of {@code from}, leaving all-zero 64 KiB blocks as holes. */
    private static void sparseCopy(Path from, Path to, long size) throws IOException {
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
             FileChannel o = FileChannel.open(to, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 16);
            long pos = 0;
            while (pos < size) {
                b.clear();
                b.limit((int) Math.min(b.capacity(), size - pos));
                int n = in.read(b, pos);
                if (n <= 0) {
                    break;
                }
                b.flip();
                boolean zero = allZero(b, 0, n);
                if (!zero) {
                    while (b.hasRemaining()) {
                        o.write(b, pos + b.position());
                    }
                }
                pos += n;
            }
            if (o.size() < size) {
                o.write(ByteBuffer.allocate(1), size - 1);
            }
        }
    }

    private static boolean allZero(ByteBuffer b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Writes every h-old range into {@code scratch}; returns {ranges, ranges that differed}. */
    private static long[] restoreOld(WriteLogReader log, Path scratch) throws IOException {
        long ranges = 0;
        long differing = 0;
        try (FileChannel f = FileChannel.open(scratch, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            WriteLogReader.Record r;
            while ((r = log.next()) != null) {
                if (!r.tag().equals(WriteLogFormat.HOST_OLD)) {
                    continue;
                }
                ranges++;
                long off = r.number("off");
                long len = r.number("len");
                boolean differs = false;
                for (long done = 0; done < len; done += 1 << 20) {
                    int n = (int) Math.min(1 << 20, len - done);
                    ByteBuffer old = ByteBuffer.allocate(n);
                    log.readData(r.number("data") + done, old);
                    old.flip();
                    ByteBuffer now = ByteBuffer.allocate(n);
                    f.read(now, off + done);
                    now.position(0);
                    now.limit(n);
                    if (!now.equals(old)) {
                        differs = true;
                        while (old.hasRemaining()) {
                            f.write(old, off + done + old.position());
                        }
                    }
                }
                differing += differs ? 1 : 0;
            }
        }
        return new long[] {ranges, differing};
    }
}
