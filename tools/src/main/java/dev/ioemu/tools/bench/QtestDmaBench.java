package dev.ioemu.tools.bench;

import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.GuestDriverException;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.tools.SizeArgument;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The side-by-side qtest benchmark (issue 4 "Benchmark"): the same qtest DMA workload against QEMU
 * and against ioemu, in one run, alternating. Each request is what a libqtest-based test does
 * (shared/spec/ide.md §8.5, qtest.md §6): data moved into guest memory with {@code b64write} (for
 * a write), the bus-master engine stopped, Interrupt cleared and pointed at a PRD table in guest
 * memory, READ DMA EXT (0x25) / WRITE DMA EXT (0x35) of {@code --bs} at sequential LBAs, the
 * engine started, BM status polled with {@code inb} until the transfer is over, the ATA status
 * read, and (for a read) the data fetched with {@code b64read}.
 *
 * <p>Each emulator is a child process on {@code -qtest stdio} with the drive on ide.0 and
 * {@code -qtest-log /dev/null}: QEMU as {@code -accel tcg -S} (Debian's 7.2 has no qtest
 * accelerator; vCPUs stay stopped), ioemu as {@code -accel qtest}. They take turns on the same
 * image (one process at a time, so image locking stays on): per repeat each one starts, is set up
 * (PCI BAR4 at 0xC000, I/O + bus master, PRD table), checked (a DMA read of LBA 0 must return the
 * image's bytes), warmed up, measured for every case, and ended with SIGTERM; the order flips
 * every repeat. The table shows the medians of MB/s and of the per-repeat ratio ioemu/QEMU (the
 * two runs of a repeat are back to back, so a change in machine load between repeats cancels out;
 * issue goal ≥ 1.2).
 */
public final class QtestDmaBench {
    static final String USAGE = String.join("\n",
            "Usage: qtest-dma-bench [--qemu PROGRAM] [--ioemu PROGRAM] [--targets qemu,ioemu] [--cache MODE]",
            "                       [--bs SIZE] [--runtime SECONDS] [--repeat N] [--warmup SECONDS]",
            "                       [--cases read,write] IMAGE",
            "Runs the same qtest DMA workload against QEMU and ioemu on IMAGE (which is overwritten).",
            "Defaults: --qemu qemu-system-x86_64 --ioemu emulator/bin/ioemu --targets qemu,ioemu --cache none",
            "          --bs 128k --runtime 2 --repeat 3 --warmup 1 --cases read,write");
    static final int SECTOR = Ata.SECTOR_SIZE;
    static final int MAX_TRANSFER = 256 * SECTOR;
    static final int BM_BASE = PciConfigAccess.IO_WINDOW_BASE;
    /** libqos's first guest allocation; the PRD table follows the buffer. */
    static final long BUFFER = 0x100000;

    /** An emulator on the other end of the qtest stream. */
    enum Target {
        QEMU("qemu", "QEMU"),
        IOEMU("ioemu", "ioemu");

        final String optionName;
        final String label;

        Target(String optionName, String label) {
            this.optionName = optionName;
            this.label = label;
        }

        static Target parse(String value) {
            for (Target t : values()) {
                if (t.optionName.equals(value)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("--targets: '" + value + "' (expected: qemu, ioemu or both)");
        }
    }

    /** READ DMA EXT or WRITE DMA EXT. */
    enum Case {
        READ("read", Ata.CMD_READ_DMA_EXT),
        WRITE("write", Ata.CMD_WRITE_DMA_EXT);

        final String optionName;
        final int opcode;

        Case(String optionName, int opcode) {
            this.optionName = optionName;
            this.opcode = opcode;
        }

        static Case parse(String value) {
            for (Case c : values()) {
                if (c.optionName.equals(value)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("--cases: '" + value + "' (expected: read, write or both)");
        }
    }

    /**
     * Validated settings.
     *
     * @throws IllegalArgumentException "what: value (expected: …)"
     */
    record Settings(Path image, String qemu, String ioemu, Set<Target> targets, CacheMode cache, int transferBytes,
                    double runtimeSeconds, int repeat, double warmupSeconds, Set<Case> cases) {
        Settings {
            if (image == null) {
                throw new IllegalArgumentException("image: missing (expected: an image file to overwrite)");
            }
            if (transferBytes <= 0 || transferBytes % SECTOR != 0 || transferBytes > MAX_TRANSFER) {
                throw new IllegalArgumentException("--bs: " + transferBytes
                        + " (expected: a multiple of 512 up to 128k, one ATA command)");
            }
            if (!(runtimeSeconds > 0) || runtimeSeconds > 60) {
                throw new IllegalArgumentException("--runtime: " + runtimeSeconds + " (expected: 0 < seconds ≤ 60)");
            }
            if (repeat < 1 || repeat > 15) {
                throw new IllegalArgumentException("--repeat: " + repeat + " (expected: 1-15)");
            }
            if (!(warmupSeconds >= 0) || warmupSeconds > 60) {
                throw new IllegalArgumentException("--warmup: " + warmupSeconds + " (expected: 0 ≤ seconds ≤ 60)");
            }
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("--targets: none (expected: qemu, ioemu or both)");
            }
            if (cases.isEmpty()) {
                throw new IllegalArgumentException("--cases: none (expected: read, write or both)");
            }
            if (qemu.isBlank() || ioemu.isBlank()) {
                throw new IllegalArgumentException("--qemu/--ioemu: empty (expected: a program)");
            }
            targets = Set.copyOf(targets);
            cases = Set.copyOf(cases);
        }

        /**
         * Parses the command line.
         *
         * @throws IllegalArgumentException naming the option and what it expects
         */
        static Settings parse(String[] args) {
            Path image = null;
            String qemu = "qemu-system-x86_64";
            String ioemu = "emulator/bin/ioemu";
            Set<Target> targets = EnumSet.allOf(Target.class);
            CacheMode cache = CacheMode.NONE;
            long bs = 128 << 10;
            double runtime = 2;
            int repeat = 3;
            double warmup = 1;
            Set<Case> cases = EnumSet.allOf(Case.class);
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--qemu" -> qemu = BenchArguments.value(args, i++);
                    case "--ioemu" -> ioemu = BenchArguments.value(args, i++);
                    case "--targets" -> {
                        targets = EnumSet.noneOf(Target.class);
                        for (String t : BenchArguments.value(args, i++).split(",", -1)) {
                            targets.add(Target.parse(t.trim()));
                        }
                    }
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
                            throw new IllegalArgumentException("option: '" + a + "' (expected: --qemu, --ioemu,"
                                    + " --targets, --cache, --bs, --runtime, --repeat, --warmup, --cases)");
                        }
                        if (image != null) {
                            throw new IllegalArgumentException("image: '" + a + "' after '" + image
                                    + "' (expected: exactly one image)");
                        }
                        image = Path.of(a);
                    }
                }
            }
            return new Settings(image, qemu, ioemu, targets, cache, (int) Math.min(Integer.MAX_VALUE, bs), runtime,
                    repeat, warmup, cases);
        }

        /** The emulator's command line: the drive on ide.0, qtest on stdio, its log discarded. */
        List<String> command(Target target) {
            List<String> cmd = new ArrayList<>();
            cmd.add(target == Target.QEMU ? qemu : ioemu);
            cmd.addAll(List.of("-machine", "pc", "-accel"));
            if (target == Target.QEMU) {
                cmd.addAll(List.of("tcg", "-S"));
            } else {
                cmd.add("qtest");
            }
            cmd.addAll(List.of("-qtest", "stdio", "-qtest-log", "/dev/null", "-nodefaults", "-display", "none",
                    "-drive", "file=" + image.toString().replace(",", ",,") + ",if=ide,format=raw,cache="
                            + cache.optionName()));
            return cmd;
        }
    }

    private final Settings settings;
    private final byte[] data;
    private final long transfers;

    private QtestDmaBench(Settings settings, long imageSize) {
        this.settings = settings;
        this.transfers = imageSize / settings.transferBytes();
        this.data = new byte[settings.transferBytes()];
        SplittableRandom random = new SplittableRandom(4);
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) random.nextInt(256);
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the benchmark and returns the exit code: 0, or 1 for a bad argument or a failed run. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        BenchArguments.Parsed<Settings> parsed = BenchArguments.parse("qtest-dma-bench", USAGE, args, Settings::parse,
                out, err);
        Settings s = parsed.settings();
        if (s == null) {
            return parsed.exitCode();
        }
        try {
            if (!BenchArguments.imageUsable("qtest-dma-bench", s.image(), s.transferBytes(),
                    "tools/bench/qtest-dma-vs-qemu.sh", err)) {
                return 1;
            }
            long size = Files.size(s.image());
            QtestDmaBench bench = new QtestDmaBench(s, size);
            Map<Target, Map<Case, double[]>> runs = bench.measureAll(err);
            printTable(out, s, size, runs);
            return 0;
        } catch (BenchFailure | IOException e) {
            err.println("qtest-dma-bench: " + e.getMessage());
            return 1;
        }
    }

    private Map<Target, Map<Case, double[]>> measureAll(PrintStream progress) throws BenchFailure, IOException {
        List<Target> targets = new ArrayList<>();
        for (Target t : Target.values()) {
            if (settings.targets().contains(t)) {
                targets.add(t);
            }
        }
        Map<Target, Map<Case, double[]>> runs = new EnumMap<>(Target.class);
        for (Target t : targets) {
            Map<Case, double[]> byCase = new EnumMap<>(Case.class);
            for (Case c : settings.cases()) {
                byCase.put(c, new double[settings.repeat()]);
            }
            runs.put(t, byCase);
        }
        for (int r = 0; r < settings.repeat(); r++) {
            List<Target> order = new ArrayList<>(targets);
            if (r % 2 == 1) {
                java.util.Collections.reverse(order);
            }
            for (Target t : order) {
                try (Session session = new Session(t)) {
                    session.setUp();
                    session.checkReadMatchesImage();
                    for (Case c : Case.values()) {
                        if (!settings.cases().contains(c)) {
                            continue;
                        }
                        session.measure(c, settings.warmupSeconds());
                        double mbps = session.measure(c, settings.runtimeSeconds());
                        runs.get(t).get(c)[r] = mbps;
                        progress.printf(Locale.ROOT, "%s %s run %d: %.1f MB/s%n", t.label, c.optionName, r + 1, mbps);
                    }
                }
            }
        }
        return runs;
    }

    /** One emulator process and the guest-side state of the workload, driven by the guest-driver kit. */
    private final class Session implements AutoCloseable {
        private final Target target;
        private final QtestClient qtest;
        private final QtestTransport transport;
        private final AtaDriver driver;
        private final long table;

        Session(Target target) throws BenchFailure {
            this.target = target;
            this.table = BUFFER + ((settings.transferBytes() + 4095L) & ~4095L);
            try {
                this.qtest = QtestClient.start(target.label, settings.command(target), ProcessBuilder.Redirect.DISCARD);
            } catch (IOException e) {
                throw new BenchFailure(target.label + ": cannot start " + settings.command(target).get(0) + ": "
                        + e.getMessage(), e);
            }
            this.transport = new QtestTransport(qtest);
            this.driver = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, BM_BASE);
        }

        private BenchFailure failure(String what, Exception e) {
            return new BenchFailure(target.label + ": " + what + ": " + e.getMessage(), e);
        }

        /** get_pci_device(): 8086:7010 at 00:01.1, BAR4 at 0xC000, I/O | memory | bus master; the PRD table. */
        void setUp() throws BenchFailure {
            try {
                String hello = qtest.command("endianness");
                if (!hello.equals("OK little")) {
                    throw new BenchFailure(target.label + ": endianness answered '" + hello + "' (expected: OK little)");
                }
                AtaDriver.setUpController(new PciConfigAccess(transport), BM_BASE);
                driver.writePrdTable(table, PrdDescriptor.covering(BUFFER, settings.transferBytes()));
            } catch (IOException | UncheckedIOException | GuestDriverException e) {
                throw failure("set-up", e);
            }
        }

        /** The first read must return the image's bytes, or the run would measure nothing real. */
        void checkReadMatchesImage() throws BenchFailure, IOException {
            byte[] want = new byte[settings.transferBytes()];
            try (RandomAccessFile f = new RandomAccessFile(settings.image().toFile(), "r")) {
                f.readFully(want);
            }
            byte[] got = request(Case.READ, 0);
            if (!Arrays.equals(want, got)) {
                throw new BenchFailure(target.label + ": READ DMA EXT of LBA 0 does not return the image's bytes");
            }
        }

        /** Runs {@code c} for {@code seconds} at sequential LBAs from 0; returns MB/s. */
        double measure(Case c, double seconds) throws BenchFailure {
            if (seconds == 0) {
                return 0;
            }
            long limit = (long) (seconds * 1e9);
            long ops = 0;
            long start = System.nanoTime();
            long elapsed;
            do {
                request(c, (ops % transfers) * (settings.transferBytes() / SECTOR));
                ops++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < limit);
            return ops * (double) settings.transferBytes() / (elapsed / 1e9) / 1e6;
        }

        /**
         * One DMA request as ide-test's send_dma_request + wait_dma_completion (the kit's
         * {@link AtaDriver#dma}), with the data moved by {@code b64write} before a write and
         * {@code b64read} after a read; a read returns the data.
         */
        byte[] request(Case c, long lba) throws BenchFailure {
            try {
                if (c == Case.WRITE) {
                    transport.writeMemory(BUFFER, data);
                }
                DmaCompletion done = driver.dma(DmaRequest.of(c.opcode, lba, settings.transferBytes() / SECTOR, table));
                if (!done.succeeded()) {
                    throw new BenchFailure(String.format("%s: %s DMA EXT at LBA %d: %s (expected: BM 0x04, DRDY without"
                            + " BSY/DRQ/DF/ERR)", target.label, c.optionName, lba, done));
                }
                return c == Case.READ ? transport.readMemory(BUFFER, settings.transferBytes()) : null;
            } catch (UncheckedIOException | GuestDriverException e) {
                throw failure(c.optionName + " DMA at LBA " + lba, e);
            }
        }

        @Override
        public void close() throws BenchFailure {
            try {
                qtest.terminate();
            } catch (IOException e) {
                throw failure("shutdown", e);
            }
        }
    }

    private static void printTable(PrintStream out, Settings s, long imageSize, Map<Target, Map<Case, double[]>> runs) {
        int n = s.transferBytes();
        String size = n % 1024 == 0 ? (n / 1024) + " KiB" : n + " B";
        out.printf(Locale.ROOT, "%s, cache=%s, %s per command, %d runs × %.1f s per emulator and case"
                        + " (median, alternating order, one process per run), %d cores, image %s (%d MiB)%n%n",
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")),
                s.cache().optionName(), size, s.repeat(), s.runtimeSeconds(),
                Runtime.getRuntime().availableProcessors(), s.image(), imageSize >> 20);
        boolean both = runs.size() == 2;
        out.println(both ? "| qtest workload | QEMU MB/s | ioemu MB/s | ioemu/QEMU (median of per-run ratios) |"
                : "| qtest workload | " + runs.keySet().iterator().next().label + " MB/s |");
        out.println(both ? "| --- | --- | --- | --- |" : "| --- | --- |");
        for (Case c : Case.values()) {
            if (!s.cases().contains(c)) {
                continue;
            }
            String what = (c == Case.READ ? "READ DMA EXT + b64read " : "b64write + WRITE DMA EXT ") + size;
            if (both) {
                double[] qemuRuns = runs.get(Target.QEMU).get(c);
                double[] ioemuRuns = runs.get(Target.IOEMU).get(c);
                double[] ratios = new double[qemuRuns.length];
                for (int r = 0; r < ratios.length; r++) {
                    ratios[r] = ioemuRuns[r] / qemuRuns[r];
                }
                out.printf(Locale.ROOT, "| %s | %.1f | %.1f | **%.2f** |%n", what, BenchArguments.median(qemuRuns),
                        BenchArguments.median(ioemuRuns), BenchArguments.median(ratios));
            } else {
                out.printf(Locale.ROOT, "| %s | %.1f |%n", what,
                        BenchArguments.median(runs.values().iterator().next().get(c)));
            }
        }
    }
}
