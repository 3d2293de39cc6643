package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.host.Errno;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ioemu-io}: exercise and measure an image through the block layer, as qemu-io does for
 * QEMU's. Two forms:
 * <pre>
 * ioemu-io [-t|--cache MODE] [-f raw] [-r] [-d ignore|unmap] [-U] [-o DRIVE-OPTS] -c COMMAND... IMAGE
 * ioemu-io bench --rw read|write|randread|randwrite --bs SIZE --size SIZE [--flush-every N]
 *                [--runtime SECONDS] [--ramp-time SECONDS] [--cache MODE] [--json] [--seed N]
 *                [-o DRIVE-OPTS] IMAGE
 * </pre>
 * Commands ({@link IoCommand}) print qemu-io's lines ("wrote 65536/65536 bytes at offset 4096").
 * Every argument — commands, sizes, ranges against the image size — is checked before the first
 * request, so a bad argument exits 1 with a message and writes nothing. {@code read -P} that
 * finds another byte exits 1. Like qemu-io, the image is flushed before it is closed.
 * {@code -U} (qemu's force-share) is for readers only, as in qemu-io: it needs {@code -r} (else
 * "force-share=on can only be used with read-only images") and then takes no locks, so it can
 * read an image a VM is writing but never write into it; {@code -o} appends -drive options
 * such as {@code x-align=4096} or {@code inject-error.0.iotype=flush}; {@code --write-log LOG} is
 * {@code -o x-write-log=LOG}, the crash-consistency write log that {@code ioemu-img crashcheck} replays.
 */
public final class IoTool {
    private static final String USAGE = String.join("\n",
            "Usage: ioemu-io [-t|--cache MODE] [-f raw] [-r] [-d ignore|unmap] [-U] [-o DRIVE-OPTS] [--write-log LOG]",
            "                -c COMMAND... IMAGE",
            "       ioemu-io bench --rw read|write|randread|randwrite --bs SIZE --size SIZE [--flush-every N]",
            "                [--runtime SECONDS] [--ramp-time SECONDS] [--cache MODE] [--json] [--seed N]",
            "                [-o DRIVE-OPTS] IMAGE",
            "Commands: read [-P PATTERN] OFFSET LENGTH | write [-P PATTERN|-z] OFFSET LENGTH |",
            "          discard OFFSET LENGTH | flush",
            "Cache modes: writeback (default), none, writethrough, directsync, unsafe, fadvise",
            "Sizes: 512, 4k, 64K, 1M, 2G");

    private IoTool() {
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.exit(run(args, System.out, System.err));
    }

    /** Runs ioemu-io and returns its exit code (0 success, 1 any failure). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length > 0 && (args[0].equals("-h") || args[0].equals("--help"))) {
                out.println(USAGE);
                return 0;
            }
            if (args.length > 0 && args[0].equals("bench")) {
                return bench(args, out, err);
            }
            return commands(args, out, err);
        } catch (ForceShareException e) {
            err.println("ioemu-io: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("ioemu-io: " + e.getMessage());
            err.println("Try 'ioemu-io --help' for more information.");
            return 1;
        }
    }

    /** Options shared by both forms. */
    private static final class Common {
        CacheMode cache = CacheMode.WRITEBACK;
        String format = "raw";
        boolean readOnly;
        String discard = "ignore";
        boolean forceShare;
        final List<String> extra = new ArrayList<>();
        String image;

        /** Consumes option {@code args[i]} if it is a common one; returns the next index, or -1. */
        int accept(String[] args, int i) {
            String a = args[i];
            switch (a) {
                case "-t", "--cache" -> cache = CacheMode.parse(value(args, i));
                case "-f", "--format" -> format = value(args, i);
                case "-d", "--discard" -> discard = value(args, i);
                case "-o", "--drive-opts" -> extra.add(value(args, i));
                case "--write-log" -> extra.add(DriveOptions.WRITE_LOG_KEY + "=" + value(args, i).replace(",", ",,"));
                case "-r", "--read-only" -> {
                    readOnly = true;
                    return i + 1;
                }
                case "-U", "--force-share" -> {
                    forceShare = true;
                    return i + 1;
                }
                default -> {
                    if (a.startsWith("-")) {
                        return -1;
                    }
                    if (image != null) {
                        throw new IllegalArgumentException("image: '" + a + "' after '" + image
                                + "' (expected: exactly one image)");
                    }
                    image = a;
                    return i + 1;
                }
            }
            return i + 2;
        }

        DriveOptions driveOptions() {
            if (image == null) {
                throw new IllegalArgumentException("image: missing (expected: an image file or block device)");
            }
            StringBuilder s = new StringBuilder("file=").append(image.replace(",", ",,"))
                    .append(",format=").append(format).append(",cache=").append(cache.optionName())
                    .append(",discard=").append(discard);
            if (readOnly) {
                s.append(",readonly=on");   // off is the default, so -o readonly=on also works
            }
            for (String e : extra) {
                s.append(',').append(e);
            }
            DriveOptions options = DriveOptions.parse(s.toString());
            if (forceShare) {
                // qemu-io's rule: sharing every permission with other users is only safe for a
                // reader, so -U never lets this process write into an image a VM is using.
                if (!options.readOnly()) {
                    throw new ForceShareException("can't open device " + image
                            + ": force-share=on can only be used with read-only images");
                }
                // A reader that shares everything takes no lock (unless -o locking= says otherwise).
                if (extra.stream().noneMatch(IoTool::setsLocking)) {
                    options = options.withLocking(dev.ioemu.devices.block.LockingMode.OFF);
                }
            }
            return options;
        }
    }

    /** A refused open, reported as qemu-io reports it: one line, no usage hint. */
    static final class ForceShareException extends RuntimeException {
        ForceShareException(String message) {
            super(message, null, false, false);
        }
    }

    /** Whether a -o option string has a locking= key (",," is an escaped comma, not a separator). */
    private static boolean setsLocking(String driveOptions) {
        for (String element : driveOptions.replace(",,", "\u0000").split(",")) {
            if (element.equals("locking") || element.startsWith("locking=")) {
                return true;
            }
        }
        return false;
    }

    static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new IllegalArgumentException(args[i] + ": missing value (expected: a value after " + args[i] + ")");
        }
        return args[i + 1];
    }

    private static int commands(String[] args, PrintStream out, PrintStream err) {
        Common common = new Common();
        List<IoCommand> commands = new ArrayList<>();
        for (int i = 0; i < args.length;) {
            if (args[i].equals("-c") || args[i].equals("--cmd")) {
                commands.add(IoCommand.parse(value(args, i)));
                i += 2;
                continue;
            }
            int next = common.accept(args, i);
            if (next < 0) {
                throw new IllegalArgumentException("option: '" + args[i]
                        + "' (expected: -c, -t/--cache, -f, -r, -d, -U, -o)");
            }
            i = next;
        }
        DriveOptions options = common.driveOptions();
        if (commands.isEmpty()) {
            throw new IllegalArgumentException("commands: none (expected: at least one -c COMMAND)");
        }
        for (IoCommand c : commands) {
            if (c.writes() && options.readOnly()) {
                throw new IllegalArgumentException(c.kind().name().toLowerCase(Locale.ROOT)
                        + ": the image is opened read-only (expected: no -r for writes)");
            }
        }
        BlockDevice dev;
        try {
            dev = BlockDevices.open(options);
        } catch (BlockOpenException e) {
            err.println("ioemu-io: can't open device " + common.image + ": " + e.getMessage());
            return 1;
        }
        try (dev) {
            for (IoCommand c : commands) {
                if (c.kind() != IoCommand.Kind.FLUSH && c.offset() + c.length() > dev.size()) {
                    err.println("ioemu-io: " + c.kind().name().toLowerCase(Locale.ROOT) + ": offset " + c.offset()
                            + " + length " + c.length() + " is beyond the image size " + dev.size()
                            + " (expected: within the image)");
                    return 1;
                }
            }
            for (IoCommand c : commands) {
                if (!execute(dev, c, out, err)) {
                    return 1;
                }
            }
            if (!dev.isReadOnly()) {
                int f = dev.flush();
                if (f < 0) {
                    err.println("flush failed: " + Errno.strerror(f));
                    return 1;
                }
            }
            return 0;
        }
    }

    private static boolean execute(BlockDevice dev, IoCommand c, PrintStream out, PrintStream err) {
        long t0 = System.nanoTime();
        int r;
        ByteBuffer buf = null;
        switch (c.kind()) {
            case READ -> {
                buf = alignedBuffer((int) c.length());
                r = dev.read(c.offset(), buf);
            }
            case WRITE -> {
                buf = alignedBuffer((int) c.length());
                for (int i = 0; i < c.length(); i++) {
                    buf.put(i, (byte) c.pattern());
                }
                r = dev.write(c.offset(), buf);
            }
            case WRITE_ZEROES -> r = dev.writeZeroes(c.offset(), c.length());
            case DISCARD -> r = dev.discard(c.offset(), c.length());
            case FLUSH -> r = dev.flush();
            default -> throw new IllegalStateException("command kind: " + c.kind());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String name = c.kind() == IoCommand.Kind.WRITE_ZEROES ? "write" : c.kind().name().toLowerCase(Locale.ROOT);
        if (r < 0) {
            err.println(name + " failed: " + Errno.strerror(r));
            return false;
        }
        if (c.kind() == IoCommand.Kind.FLUSH) {
            return true;
        }
        if (c.kind() == IoCommand.Kind.READ && c.checkPattern()) {
            for (int i = 0; i < c.length(); i++) {
                if ((buf.get(i) & 0xff) != c.pattern()) {
                    out.printf("Pattern verification failed at offset %d, %d bytes%n", c.offset() + i, c.length());
                    return false;
                }
            }
        }
        String verb = switch (c.kind()) {
            case READ -> "read";
            case DISCARD -> "discard";
            default -> "wrote";
        };
        out.printf("%s %d/%d bytes at offset %d%n", verb, c.length(), c.length(), c.offset());
        out.printf(Locale.ROOT, "%s, 1 ops; %.4f sec (%.3f MiB/sec and %.4f ops/sec)%n",
                SizeArgument.human(c.length()), seconds, c.length() / seconds / (1 << 20), 1 / seconds);
        return true;
    }

    private static ByteBuffer alignedBuffer(int length) {
        int rounded = (length + 4095) & ~4095;
        return ByteBuffer.allocateDirect(rounded + 4096).alignedSlice(4096).limit(length).slice();
    }

    private static int bench(String[] args, PrintStream out, PrintStream err) {
        Common common = new Common();
        String rw = null;
        long bs = 4096;
        long size = -1;
        int flushEvery = 0;
        double runtime = 0;
        double ramp = 0;
        boolean json = false;
        long seed = 1;
        for (int i = 1; i < args.length;) {
            switch (args[i]) {
                case "--rw" -> rw = value(args, i);
                case "--bs" -> bs = SizeArgument.parse("--bs", value(args, i));
                case "--size" -> size = SizeArgument.parse("--size", value(args, i));
                case "--flush-every" -> flushEvery = parseInt("--flush-every", value(args, i));
                case "--runtime" -> runtime = parseSeconds("--runtime", value(args, i));
                case "--ramp-time" -> ramp = parseSeconds("--ramp-time", value(args, i));
                case "--seed" -> seed = parseInt("--seed", value(args, i));
                case "--json" -> {
                    json = true;
                    i++;
                    continue;
                }
                default -> {
                    int next = common.accept(args, i);
                    if (next < 0) {
                        throw new IllegalArgumentException("bench option: '" + args[i] + "' (expected: --rw, --bs, "
                                + "--size, --flush-every, --runtime, --ramp-time, --cache, --json, --seed, -o)");
                    }
                    i = next;
                    continue;
                }
            }
            i += 2;
        }
        if (rw == null) {
            throw new IllegalArgumentException("--rw: missing (expected: read, write, randread, randwrite)");
        }
        IoBench.Pattern pattern = IoBench.Pattern.parse(rw);
        if (size < 0) {
            throw new IllegalArgumentException("--size: missing (expected: the bytes of the image to use, e.g. 64M)");
        }
        if (bs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--bs: " + bs + " (expected: 1 byte to 64M)");
        }
        IoBench.Settings settings = new IoBench.Settings(pattern, (int) bs, size, flushEvery, runtime, ramp, seed);
        if (!pattern.writes()) {
            common.readOnly = true;
        }
        DriveOptions options = common.driveOptions();
        BlockDevice dev;
        try {
            dev = BlockDevices.open(options);
        } catch (BlockOpenException e) {
            err.println("ioemu-io: can't open device " + common.image + ": " + e.getMessage());
            return 1;
        }
        try (dev) {
            if (dev.size() < size) {
                err.println("ioemu-io: --size: " + size + " is larger than the image (" + dev.size()
                        + " bytes) (expected: at most the image size; create it first, e.g. fallocate -l "
                        + size + " " + common.image + ")");
                return 1;
            }
            IoBench.Result r = IoBench.run(dev, settings);
            IoBench.print(out, settings, options.cache().optionName(), r, json);
            return 0;
        } catch (IoBench.BenchFailure e) {
            err.println("ioemu-io: bench: " + e.getMessage());
            return 1;
        }
    }

    private static int parseInt(String what, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + value + "' (expected: a whole number)");
        }
    }

    private static double parseSeconds(String what, String value) {
        try {
            double s = Double.parseDouble(value.endsWith("s") ? value.substring(0, value.length() - 1) : value);
            if (!(s >= 0) || Double.isInfinite(s)) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": '" + value + "' (expected: seconds, e.g. 10)");
        }
    }
}
