package dev.ioemu.tools.bench;

import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.tools.SizeArgument;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The in-process IDE benchmark (issue 4 "Benchmark"): how much the PIIX3 IDE device model costs
 * on top of the block layer it sits on. On one image opened once with one cache mode it
 * measures, in the same run and alternating, MB/s of
 * <ul>
 *   <li>READ/WRITE DMA EXT of {@code --bs} (128 KiB) per command through the model, driven as a
 *       guest driver drives it ({@link InProcessIdeMachine}: ports, a PRD table in guest memory, BM
 *       Start, polling BM status), against the block layer alone doing the same reads/writes at
 *       the same offsets into the same guest-memory buffer;</li>
 *   <li>READ/WRITE MULTIPLE EXT (16-sector DRQ blocks moved with {@code rep insw/outsw}) of the
 *       same size, against the block layer alone with the same whole requests, and with requests
 *       of the DRQ block size (the requests the model itself issues, so the protocol's cost and the
 *       model's cost can be told apart).</li>
 * </ul>
 * DMA also runs against the block layer through a {@link BlockAio} I/O thread, the hand-off the
 * model must make because a command never blocks the guest's thread: on a small, busy machine
 * that hand-off (waking a parked thread) costs tens of microseconds per request by itself, and
 * this peer shows how much of the overhead is the hand-off and how much the model.
 * Offsets are sequential from 0, wrapping at the image end. After one untimed warm-up per side,
 * each of {@code --repeat} runs gives every side {@code --runtime} seconds in 0.1 s slices taken
 * in turn (order flipping every slice), so a change in disk speed during the run hits all sides
 * alike. The table shows the medians over runs of MB/s and of overhead = 1 − model/block. Not a
 * test: the numbers vary run to run.
 * tools/bench/ide-vs-block.sh creates the image and runs it for cache=none and writeback.
 */
public final class IdeBench {
    static final String USAGE = String.join("\n",
            "Usage: ide-bench [--cache MODE] [--bs SIZE] [--runtime SECONDS] [--repeat N] [--warmup SECONDS]",
            "                 [--cases dma-read,dma-write,pio-read,pio-write] IMAGE",
            "Compares the PIIX3 IDE device model with the block layer alone on IMAGE (which is overwritten).",
            "Defaults: --cache none --bs 128k --runtime 2 --repeat 3 --warmup 0.5, all cases.",
            "Cache modes: writeback, none, writethrough, directsync, unsafe, fadvise");
    static final int MAX_TRANSFER = 256 * InProcessIdeMachine.SECTOR;
    static final double MAX_RUNTIME = 60;
    static final int MAX_REPEAT = 15;
    /** Sides take turns in slices this long, so a drift in disk speed hits both alike. */
    static final double SLICE_SECONDS = 0.1;

    /** One measured workload. */
    enum Case {
        DMA_READ("dma-read", false, false),
        DMA_WRITE("dma-write", true, false),
        PIO_READ("pio-read", false, true),
        PIO_WRITE("pio-write", true, true);

        final String optionName;
        final boolean write;
        final boolean pio;

        Case(String optionName, boolean write, boolean pio) {
            this.optionName = optionName;
            this.write = write;
            this.pio = pio;
        }

        static Case parse(String value) {
            for (Case c : values()) {
                if (c.optionName.equals(value)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("--cases: '" + value
                    + "' (expected: a comma-separated list of dma-read, dma-write, pio-read, pio-write)");
        }
    }

    /** Who moves the bytes in a run. */
    enum Side {
        /** The device model driven through ports and guest memory. */
        MODEL,
        /** BlockDevice.read/write of the whole transfer into the guest buffer. */
        BLOCK,
        /** BlockDevice.read/write in DRQ-block-sized pieces (PIO cases only). */
        BLOCK_DRQ_SIZED,
        /**
         * The whole transfer through a {@link BlockAio} I/O thread, the caller polling for the
         * completion (DMA cases only): the block layer with the same thread hand-off the model
         * makes, so the difference is what the device model itself costs.
         */
        BLOCK_AIO
    }

    /**
     * Validated settings.
     *
     * @throws IllegalArgumentException "what: value (expected: …)"
     */
    record Settings(Path image, CacheMode cache, int transferBytes, double runtimeSeconds, int repeat,
                    double warmupSeconds, Set<Case> cases) {
        Settings {
            if (image == null) {
                throw new IllegalArgumentException("image: missing (expected: an image file to overwrite)");
            }
            if (transferBytes <= 0 || transferBytes % InProcessIdeMachine.SECTOR != 0 || transferBytes > MAX_TRANSFER) {
                throw new IllegalArgumentException("--bs: " + transferBytes
                        + " (expected: a multiple of 512 up to 128k, one ATA command)");
            }
            if (!(runtimeSeconds > 0) || runtimeSeconds > MAX_RUNTIME) {
                throw new IllegalArgumentException("--runtime: " + runtimeSeconds + " (expected: 0 < seconds ≤ 60)");
            }
            if (repeat < 1 || repeat > MAX_REPEAT) {
                throw new IllegalArgumentException("--repeat: " + repeat + " (expected: 1-15)");
            }
            if (!(warmupSeconds >= 0) || warmupSeconds > MAX_RUNTIME) {
                throw new IllegalArgumentException("--warmup: " + warmupSeconds + " (expected: 0 ≤ seconds ≤ 60)");
            }
            if (cases.isEmpty()) {
                throw new IllegalArgumentException("--cases: none (expected: at least one case)");
            }
            cases = Set.copyOf(cases);
        }

        /**
         * Parses the command line.
         *
         * @throws IllegalArgumentException naming the option and what it expects
         */
        static Settings parse(String[] args) {
            Path image = null;
            CacheMode cache = CacheMode.NONE;
            long bs = 128 << 10;
            double runtime = 2;
            int repeat = 3;
            double warmup = 0.5;
            Set<Case> cases = EnumSet.allOf(Case.class);
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--cache" -> cache = CacheMode.parse(BenchArguments.value(args, i++));
                    case "--bs" -> bs = SizeArgument.parse("--bs", BenchArguments.value(args, i++));
                    case "--runtime" -> runtime = BenchArguments.seconds(a, BenchArguments.value(args, i++));
                    case "--warmup" -> warmup = BenchArguments.seconds(a, BenchArguments.value(args, i++));
                    case "--repeat" -> repeat = BenchArguments.wholeNumber(a, BenchArguments.value(args, i++));
                    case "--cases" -> {
                        cases = EnumSet.noneOf(Case.class);
                        for (String c : BenchArguments.value(args, i++).split(",", -1)) {
                            cases.add(Case.parse(c.trim()));
                        }
                    }
                    default -> {
                        if (a.startsWith("-")) {
                            throw new IllegalArgumentException("option: '" + a
                                    + "' (expected: --cache, --bs, --runtime, --repeat, --warmup, --cases)");
                        }
                        if (image != null) {
                            throw new IllegalArgumentException("image: '" + a + "' after '" + image
                                    + "' (expected: exactly one image)");
                        }
                        image = Path.of(a);
                    }
                }
            }
            return new Settings(image, cache, (int) Math.min(Integer.MAX_VALUE, bs), runtime, repeat, warmup, cases);
        }
    }

    /**
     * One case's medians: MB/s of each side, and overhead (1 − model/block) taken per run; the
     * DRQ-sized peer is 0 for DMA cases.
     */
    record Row(Case c, Side secondPeer, double model, double block, double second, double overhead,
               double overheadSecond) {
    }

    private final Settings settings;
    private final BlockDevice disk;
    private final InProcessIdeMachine guest;
    private final long transfers;
    private final BlockAio aio;
    /** The last {@link #aio} completion: bytes or −errno; 1 while a request is in flight. */
    private volatile int aioResult;

    private IdeBench(Settings settings, BlockDevice disk, InProcessIdeMachine guest) {
        this.settings = settings;
        this.disk = disk;
        this.guest = guest;
        this.transfers = disk.size() / settings.transferBytes();
        this.aio = new BlockAio(disk, "bench-aio");
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the benchmark and returns the exit code: 0, or 1 for a bad argument or a failed run. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        BenchArguments.Parsed<Settings> parsed = BenchArguments.parse("ide-bench", USAGE, args, Settings::parse, out, err);
        Settings s = parsed.settings();
        if (s == null) {
            return parsed.exitCode();
        }
        try {
            if (!BenchArguments.imageUsable("ide-bench", s.image(), s.transferBytes(), "tools/bench/ide-vs-block.sh",
                    err)) {
                return 1;
            }
        } catch (IOException e) {
            err.println("ide-bench: image: " + e.getMessage());
            return 1;
        }
        BlockDevice disk;
        try {
            disk = BlockDevices.open(DriveOptions.parse("file=" + s.image().toString().replace(",", ",,")
                    + ",format=raw,cache=" + s.cache().optionName()));
        } catch (BlockOpenException e) {
            err.println("ide-bench: can't open " + s.image() + ": " + e.getMessage());
            return 1;
        }
        try (disk; InProcessIdeMachine guest = new InProcessIdeMachine(disk, s.transferBytes())) {
            IdeBench bench = new IdeBench(s, disk, guest);
            try {
                bench.checkModelMovesTheImageBytes();
                List<Row> rows = bench.measureAll(err);
                printTable(out, s, disk, rows);
                return 0;
            } finally {
                bench.aio.close();
            }
        } catch (BenchFailure e) {
            err.println("ide-bench: " + e.getMessage());
            return 1;
        }
    }

    /** One DMA and one PIO read of the first transfer must land the image's bytes in guest memory. */
    private void checkModelMovesTheImageBytes() throws BenchFailure {
        int n = settings.transferBytes();
        ByteBuffer expected = ByteBuffer.allocateDirect(n + 4096).alignedSlice(4096).limit(n).slice();
        check("read for the self-check", disk.read(0, expected));
        byte[] want = new byte[n];
        expected.get(0, want);
        byte[] got = new byte[n];
        for (boolean pio : new boolean[]{false, true}) {
            guest.memory.fill(InProcessIdeMachine.BUFFER, n, (byte) 0);
            if (pio) {
                guest.pio(false, 0);
            } else {
                guest.dma(false, 0);
            }
            guest.memory.read(InProcessIdeMachine.BUFFER, got, 0, n);
            if (!Arrays.equals(want, got)) {
                throw new BenchFailure((pio ? "PIO" : "DMA") + " read of LBA 0 through the model does not match the"
                        + " image (device model bug?)");
            }
        }
    }

    private List<Row> measureAll(PrintStream progress) throws BenchFailure {
        SplittableRandom random = new SplittableRandom(4);
        byte[] data = new byte[settings.transferBytes()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) random.nextInt(256);
        }
        List<Row> rows = new ArrayList<>();
        for (Case c : Case.values()) {
            if (!settings.cases().contains(c)) {
                continue;
            }
            Side secondPeer = c.pio ? Side.BLOCK_DRQ_SIZED : Side.BLOCK_AIO;
            List<Side> sides = List.of(Side.MODEL, Side.BLOCK, secondPeer);
            guest.memory.write(InProcessIdeMachine.BUFFER, data, 0, data.length);
            Map<Side, double[]> runs = new EnumMap<>(Side.class);
            for (Side side : sides) {
                measure(c, side, 0, settings.warmupSeconds());
                runs.put(side, new double[settings.repeat()]);
            }
            double[] overhead = new double[settings.repeat()];
            double[] overheadSecond = new double[settings.repeat()];
            int slices = (int) Math.ceil(settings.runtimeSeconds() / SLICE_SECONDS);
            double slice = settings.runtimeSeconds() / slices;
            for (int r = 0; r < settings.repeat(); r++) {
                Map<Side, long[]> opsAndNanos = new EnumMap<>(Side.class);
                for (Side side : sides) {
                    opsAndNanos.put(side, new long[2]);
                }
                for (int k = 0; k < slices; k++) {
                    List<Side> order = new ArrayList<>(sides);
                    if ((k + r) % 2 == 1) {
                        Collections.reverse(order);
                    }
                    for (Side side : order) {
                        long[] done = opsAndNanos.get(side);
                        long t0 = System.nanoTime();
                        done[0] += measure(c, side, done[0], slice);
                        done[1] += System.nanoTime() - t0;
                    }
                }
                for (Side side : sides) {
                    long[] done = opsAndNanos.get(side);
                    runs.get(side)[r] = done[0] * (double) settings.transferBytes() / (done[1] / 1e9) / 1e6;
                    progress.printf(Locale.ROOT, "%s %s run %d: %.1f MB/s%n", c.optionName,
                            side.name().toLowerCase(Locale.ROOT), r + 1, runs.get(side)[r]);
                }
                overhead[r] = 1 - runs.get(Side.MODEL)[r] / runs.get(Side.BLOCK)[r];
                overheadSecond[r] = 1 - runs.get(Side.MODEL)[r] / runs.get(secondPeer)[r];
            }
            rows.add(new Row(c, secondPeer, BenchArguments.median(runs.get(Side.MODEL)),
                    BenchArguments.median(runs.get(Side.BLOCK)), BenchArguments.median(runs.get(secondPeer)),
                    BenchArguments.median(overhead), BenchArguments.median(overheadSecond)));
        }
        return rows;
    }

    /**
     * Runs {@code side} for {@code seconds}, continuing the sequential walk at transfer number
     * {@code firstOp} (wrapping at the image end); returns the number of transfers done.
     */
    private long measure(Case c, Side side, long firstOp, double seconds) throws BenchFailure {
        if (seconds == 0) {
            return 0;
        }
        int n = settings.transferBytes();
        int drqBytes = InProcessIdeMachine.MULTIPLE_SECTORS * InProcessIdeMachine.SECTOR;
        ByteBuffer whole = guest.buffer().buffer();
        MemorySpan span = guest.buffer();
        long limit = (long) (seconds * 1e9);
        long ops = 0;
        long start = System.nanoTime();
        do {
            long offset = ((firstOp + ops) % transfers) * n;
            switch (side) {
                case MODEL -> {
                    long lba = offset / InProcessIdeMachine.SECTOR;
                    if (c.pio) {
                        guest.pio(c.write, lba);
                    } else {
                        guest.dma(c.write, lba);
                    }
                }
                case BLOCK -> check(c.optionName, c.write ? disk.write(offset, whole) : disk.read(offset, whole));
                case BLOCK_AIO -> {
                    aioResult = 1;
                    if (c.write) {
                        aio.write(offset, whole, r -> aioResult = r);
                    } else {
                        aio.read(offset, whole, r -> aioResult = r);
                    }
                    while (aioResult == 1) {
                        Thread.yield();
                    }
                    check(c.optionName, aioResult);
                }
                case BLOCK_DRQ_SIZED -> {
                    for (int at = 0; at < n; at += drqBytes) {
                        ByteBuffer piece = span.buffer().slice(at, Math.min(drqBytes, n - at));
                        check(c.optionName, c.write ? disk.write(offset + at, piece) : disk.read(offset + at, piece));
                    }
                }
            }
            ops++;
        } while (System.nanoTime() - start < limit);
        return ops;
    }

    private static void check(String what, int result) throws BenchFailure {
        if (result < 0) {
            throw new BenchFailure(what + ": block layer failed with " + Errno.name(result));
        }
    }

    private static void printTable(PrintStream out, Settings s, BlockDevice disk, List<Row> rows) {
        String kib = s.transferBytes() % 1024 == 0 ? (s.transferBytes() / 1024) + " KiB" : s.transferBytes() + " B";
        out.printf(Locale.ROOT, "%s, cache=%s, %s per command, %d runs × %.1f s per side in alternating 0.1 s slices (medians),"
                        + " %d cores, image %s (%d MiB)%n%n",
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
                s.cache().optionName(), kib, s.repeat(), s.runtimeSeconds(),
                Runtime.getRuntime().availableProcessors(), s.image(), disk.size() >> 20);
        out.println("| device model: command | model MB/s | block layer alone: requests | block MB/s"
                + " | overhead 1 − model/block (median of runs) |");
        out.println("| --- | --- | --- | --- | --- |");
        for (Row r : rows) {
            String op = r.c().write ? "write" : "read";
            String what = r.c().pio ? (r.c().write ? "WRITE" : "READ") + " MULTIPLE EXT " + kib + " (PIO, 16-sector"
                    + " DRQ blocks, rep " + (r.c().write ? "outsw" : "insw") + ")"
                    : (r.c().write ? "WRITE" : "READ") + " DMA EXT " + kib;
            out.printf(Locale.ROOT, "| %s | %.1f | %s %s, calling thread | %.1f | %s |%n", what, r.model(), op, kib,
                    r.block(), percent(r.overhead()));
            String second = r.secondPeer() == Side.BLOCK_AIO ? op + " " + kib + " via a BlockAio I/O thread"
                    : op + " 8 KiB × " + (r.c().pio ? s.transferBytes() / 8192 : 0) + ", calling thread";
            out.printf(Locale.ROOT, "| %s | %.1f | %s | %.1f | %s |%n", what, r.model(), second, r.second(),
                    percent(r.overheadSecond()));
        }
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f %%", 100 * fraction);
    }
}
