package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.BlockStatus;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.rbd.RbdImages;
import dev.ioemu.devices.block.rbd.RbdSpec;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.block.LockingMode;
import dev.ioemu.devices.block.Preallocation;
import dev.ioemu.devices.block.RawImageCreation;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ioemu-img}: create, inspect, map, copy and compare raw images as {@code qemu-img} does,
 * with qemu-img's output so scripts and eyes can diff the two (shared/spec/block.md §9):
 * <pre>
 * ioemu-img create [-f raw] [-o preallocation=off|falloc|full] FILE SIZE
 * ioemu-img info [-f raw] [-U] [--output=human|json] FILE
 * ioemu-img map [-f raw] [-U] [--output=human|json] FILE
 * ioemu-img convert [-f raw] [-U] [-O raw] [-n] [-p] [-t CACHE] SRC DST
 * ioemu-img compare [-f raw] [-U] [-p] A B
 * ioemu-img resize [-f raw] [--preallocation=off|falloc|full] [-q] [--shrink] FILE [+|-]SIZE
 * ioemu-img crashcheck [options] LOG IMAGE   (dev.ioemu.tools.crashcheck.CrashCheck)
 * ioemu-img bench [-c COUNT] [-d DEPTH] [-f raw] [--flush-interval=N] [--no-drain] [-o OFFSET]
 *                 [--pattern=BYTE] [-q] [-s SIZE] [-S STEP] [-t CACHE] [-w] [-U] FILE
 * </pre>
 * info also says what qemu-img does not, when there is something to say: the MBR boot signature
 * and partition table or GPT ({@link PartitionTable}), and which processes hold the image's
 * lock bytes and with which permissions ({@link ImageLockHolders}).
 * Every image is opened through the block layer ({@link BlockDevices}), so QEMU's lock bytes
 * apply (§7.1): info, map and compare open read-only and share everything, so they work while a
 * VM writes the image; a convert source refuses to share WRITE (x-no-share), so a running writer
 * makes it fail with 'Failed to get shared "write" lock'; {@code -U} opens without locks.
 * The allocation map is the block layer's SEEK_DATA/SEEK_HOLE walk (§9); convert copies data
 * extents and leaves holes, and blocks of zeros inside data, unwritten in a new image.
 *
 * <p>Every argument is checked before a file is opened, so a malformed invocation exits 1 with a
 * one-line message and creates or changes nothing. compare keeps qemu-img's codes: 0 identical,
 * 1 different, 2 when an image cannot be read.
 */
public final class ImgTool {
    private static final String USAGE = String.join("\n",
            "Usage: ioemu-img create [-f raw] [-o preallocation=off|falloc|full] FILE SIZE",
            "       ioemu-img info [-f raw] [-U] [--output=human|json] FILE",
            "       ioemu-img map [-f raw] [-U] [--output=human|json] FILE",
            "       ioemu-img convert [-f raw] [-U] [-O raw] [-n] [-p] [-t CACHE] SRC DST",
            "       ioemu-img compare [-f raw] [-U] [-p] A B",
            "       ioemu-img resize [-f raw] [--preallocation=off|falloc|full] [-q] [--shrink] FILE [+|-]SIZE",
            "       ioemu-img bench [-c COUNT] [-d DEPTH] [-f raw] [--flush-interval=N] [--no-drain] [-o OFFSET]",
            "                       [--pattern=BYTE] [-q] [-s SIZE] [-S STEP] [-t CACHE] [-w] [-U] FILE",
            "       ioemu-img crashcheck [--seed N] [--samples N] [--torn sector|none] [--max-states N]",
            "                            [--journal LBA:SECTORS] [--check 'CMD {}'] [--dump-state N:FILE] LOG IMAGE",
            "Sizes: 512, 64K, 1M, 2G (rounded up to a multiple of 512)",
            "Cache modes (-t): unsafe (default for convert), writeback, none, writethrough, directsync, fadvise");

    static final String COMMANDS = "create, info, map, convert, compare, resize, bench, crashcheck";

    /** qemu-img's sector: create rounds sizes up to it, compare reports mismatches at its granularity. */
    static final int SECTOR = 512;
    /** qemu-img convert's default -S: a zero block this large inside data is not written. */
    static final int ZERO_BLOCK = 4096;
    /** The most one read or write of convert and compare moves. */
    static final int CHUNK = 1 << 20;
    /** qemu-img compare's exit code when an image cannot be opened or read. */
    static final int COMPARE_ERROR = 2;

    private ImgTool() {
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.exit(run(args, System.out, System.err));
    }

    /** Runs ioemu-img and returns its exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0) {
                throw new IllegalArgumentException("command: missing (expected: " + COMMANDS + ")");
            }
            String[] rest = Arrays.copyOfRange(args, 1, args.length);
            return switch (args[0]) {
                case "-h", "--help" -> {
                    out.println(USAGE);
                    yield 0;
                }
                case "create" -> create(Arguments.parse("create", rest, Set.of("-f", "-o"), Set.of(), 2), out, err);
                case "info" -> info(Arguments.parse("info", rest, Set.of("-f", "--output"), Set.of("-U"), 1), out, err);
                case "map" -> map(Arguments.parse("map", rest, Set.of("-f", "--output"), Set.of("-U"), 1), out, err);
                case "convert" -> convert(Arguments.parse("convert", rest, Set.of("-f", "-O", "-t"),
                        Set.of("-U", "-n", "-p"), 2), out, err);
                case "compare" -> compare(Arguments.parse("compare", rest, Set.of("-f"), Set.of("-U", "-p"), 2),
                        out, err);
                case "resize" -> ImgResize.run(Arguments.parse("resize", rest, Set.of("-f", "--preallocation"),
                        Set.of("-q", "--shrink"), 2), out, err);
                case "bench" -> ImgBench.run(Arguments.parse("bench", rest, Set.of("-c", "-d", "-f", "-i", "-o", "-s",
                        "-S", "-t", "--pattern", "--flush-interval"), Set.of("-n", "-q", "-w", "-U", "--no-drain"), 1),
                        out, err);
                case "crashcheck" -> {
                    if (rest.length == 1 && (rest[0].equals("-h") || rest[0].equals("--help"))) {
                        out.println(dev.ioemu.tools.crashcheck.CrashCheck.USAGE);
                        yield 0;
                    }
                    yield dev.ioemu.tools.crashcheck.CrashCheck.run(rest, out, err);
                }
                default -> throw new IllegalArgumentException("command: '" + args[0]
                        + "' (expected: " + COMMANDS + ")");
            };
        } catch (IllegalArgumentException e) {
            err.println("ioemu-img: " + e.getMessage());
            err.println("Try 'ioemu-img --help' for more information.");
            return 1;
        }
    }

    /** A subcommand's options (each at most once) and its positional arguments, checked for count. */
    record Arguments(String command, Map<String, String> values, Set<String> flags, List<String> positional) {
        static Arguments parse(String command, String[] args, Set<String> valued, Set<String> booleans, int count) {
            Map<String, String> values = new HashMap<>();
            Set<String> flags = new HashSet<>();
            List<String> positional = new ArrayList<>();
            boolean optionsEnded = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (optionsEnded) {
                    positional.add(a);
                    continue;
                }
                if (a.equals("--")) {
                    optionsEnded = true;
                    continue;
                }
                String name = a;
                String value = null;
                if (a.startsWith("--") && a.contains("=")) {
                    name = a.substring(0, a.indexOf('='));
                    value = a.substring(a.indexOf('=') + 1);
                }
                if (valued.contains(name)) {
                    if (value == null) {
                        value = IoTool.value(args, i++);
                    }
                    if (values.put(name, value) != null) {
                        throw new IllegalArgumentException(command + ": " + name + " given twice (expected: once)");
                    }
                } else if (booleans.contains(a)) {
                    flags.add(a);
                } else if (a.startsWith("-") && a.length() > 1) {
                    List<String> known = new ArrayList<>(valued);
                    known.addAll(booleans);
                    known.sort(null);
                    throw new IllegalArgumentException(command + " option: '" + a + "' (expected: "
                            + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
                } else {
                    positional.add(a);
                }
            }
            if (positional.size() != count) {
                throw new IllegalArgumentException(command + ": " + positional.size() + " file/size arguments "
                        + positional + " (expected: " + expectedPositional(command) + ")");
            }
            String format = values.getOrDefault("-f", "raw");
            if (!format.equals("raw")) {
                throw new IllegalArgumentException("-f: '" + format + "' (expected: raw)");
            }
            return new Arguments(command, values, flags, positional);
        }

        private static String expectedPositional(String command) {
            return switch (command) {
                case "create" -> "FILE SIZE";
                case "convert" -> "SRC DST";
                case "compare" -> "A B";
                case "resize" -> "FILE [+|-]SIZE";
                default -> "FILE";
            };
        }

        boolean has(String flag) {
            return flags.contains(flag);
        }

        boolean json() {
            String output = values.getOrDefault("--output", "human");
            return switch (output) {
                case "human" -> false;
                case "json" -> true;
                default -> throw new IllegalArgumentException("--output: '" + output + "' (expected: human, json)");
            };
        }

        /** Read-only options for an inspected image: shares everything; -U drops the locks. */
        DriveOptions readOnly(String file) {
            DriveOptions o = DriveOptions.of(file).withReadOnly(true);
            return has("-U") ? o.withLocking(LockingMode.OFF) : o;
        }
    }

    // ---------------------------------------------------------------------------------------
    // create

    private static int create(Arguments a, PrintStream out, PrintStream err) {
        String file = a.positional().get(0);
        long requested = SizeArgument.parse("size", a.positional().get(1));
        if (requested > Long.MAX_VALUE - SECTOR) {
            throw new IllegalArgumentException("size: '" + a.positional().get(1) + "' (expected: at most "
                    + (Long.MAX_VALUE - SECTOR) + " bytes)");
        }
        Preallocation preallocation = Preallocation.OFF;
        if (a.values().containsKey("-o")) {
            for (String option : a.values().get("-o").split(",")) {
                if (!option.startsWith("preallocation=")) {
                    throw new IllegalArgumentException("-o: '" + option
                            + "' (expected: preallocation=off|falloc|full)");
                }
                preallocation = Preallocation.parse(option.substring("preallocation=".length()));
            }
        }
        out.println("Formatting '" + file + "', fmt=raw size=" + requested
                + (a.values().containsKey("-o") ? " preallocation=" + preallocation.optionName() : ""));
        long size = roundUp(requested, SECTOR);
        try {
            if (RbdSpec.isRbd(file)) {
                RbdImages.create(file, size);
            } else {
                RawImageCreation.create(file, size, preallocation);
            }
            return 0;
        } catch (BlockOpenException e) {
            err.println("ioemu-img: " + file + ": " + e.getMessage());
            return 1;
        }
    }

    // ---------------------------------------------------------------------------------------
    // info

    private static int info(Arguments a, PrintStream out, PrintStream err) {
        boolean json = a.json();
        String file = a.positional().get(0);
        BlockDevice dev = open(a.readOnly(file), err);
        if (dev == null) {
            return 1;
        }
        try (dev) {
            long allocated = dev.allocatedSize();
            if (json) {
                out.println("{");
                out.println("    \"virtual-size\": " + virtualSize(dev) + ",");
                out.println("    \"filename\": " + jsonString(file) + ",");
                out.println("    \"format\": \"raw\",");
                if (allocated >= 0) {
                    out.println("    \"actual-size\": " + allocated + ",");
                }
                DiskContents contents = DiskContents.of(dev, file);
                out.println("    \"dirty-flag\": false" + (contents.isEmpty() ? "" : ","));
                contents.printJson(out);
                out.println("}");
            } else {
                out.println("image: " + file);
                out.println("file format: raw");
                out.println("virtual size: " + sizeToStr(virtualSize(dev)) + " (" + virtualSize(dev) + " bytes)");
                out.println("disk size: " + (allocated >= 0 ? sizeToStr(allocated) : "unavailable"));
                DiskContents.of(dev, file).printHuman(out);
            }
            return 0;
        }
    }

    // ---------------------------------------------------------------------------------------
    // map

    private static int map(Arguments a, PrintStream out, PrintStream err) {
        boolean json = a.json();
        String file = a.positional().get(0);
        BlockDevice dev = open(a.readOnly(file), err);
        if (dev == null) {
            return 1;
        }
        try (dev) {
            List<BlockStatus> extents = allocationMap(dev);
            if (json && extents.isEmpty()) {
                // qemu-img's entry for an empty image: nothing is present.
                out.println("[{ \"start\": 0, \"length\": 0, \"depth\": 0, \"present\": false, \"zero\": false, "
                        + "\"data\": false}]");
            } else if (json) {
                List<String> entries = new ArrayList<>();
                for (BlockStatus e : extents) {
                    entries.add(String.format("{ \"start\": %d, \"length\": %d, \"depth\": 0, \"present\": true, "
                            + "\"zero\": %b, \"data\": %b, \"offset\": %d}", e.offset(), e.length(), e.zero(),
                            e.data(), e.offset()));
                }
                out.println("[" + String.join(",\n", entries) + "]");
            } else {
                out.printf("%-16s%-16s%-16s%s%n", "Offset", "Length", "Mapped to", "File");
                for (BlockStatus e : extents) {
                    if (e.data()) {
                        out.printf("%-16s%-16s%-16s%s%n", hex(e.offset()), hex(e.length()), hex(e.offset()), file);
                    }
                }
            }
            return 0;
        }
    }

    /**
     * The image's extents up to its virtual size, in order, neighbours of the same kind merged as
     * qemu-img map merges them. The padding after a file's last partial sector reads as zeros.
     */
    static List<BlockStatus> allocationMap(BlockDevice dev) {
        List<BlockStatus> extents = new ArrayList<>();
        long offset = 0;
        while (offset < virtualSize(dev)) {
            BlockStatus s = offset < dev.size() ? dev.blockStatus(offset, dev.size() - offset)
                    : new BlockStatus(offset, virtualSize(dev) - offset, false);
            int last = extents.size() - 1;
            if (last >= 0 && extents.get(last).data() == s.data()) {
                BlockStatus prev = extents.get(last);
                extents.set(last, new BlockStatus(prev.offset(), prev.length() + s.length(), s.data()));
            } else {
                extents.add(s);
            }
            offset = s.end();
        }
        return extents;
    }

    /** C's {@code %#x}: "0" for zero, "0x…" otherwise. */
    private static String hex(long v) {
        return v == 0 ? "0" : "0x" + Long.toHexString(v);
    }

    // ---------------------------------------------------------------------------------------
    // convert

    private static int convert(Arguments a, PrintStream out, PrintStream err) {
        String outputFormat = a.values().getOrDefault("-O", "raw");
        if (!outputFormat.equals("raw")) {
            throw new IllegalArgumentException("-O: '" + outputFormat + "' (expected: raw)");
        }
        CacheMode cache = CacheMode.parse(a.values().getOrDefault("-t", "unsafe"));
        boolean existing = a.has("-n");
        String srcFile = a.positional().get(0);
        String dstFile = a.positional().get(1);
        DriveOptions srcOptions = a.has("-U") ? a.readOnly(srcFile) : a.readOnly(srcFile).withNoShare(true);
        BlockDevice src = open(srcOptions, err);
        if (src == null) {
            return 1;
        }
        try (src) {
            if (!existing) {
                try {
                    if (RbdSpec.isRbd(dstFile)) {
                        RbdImages.create(dstFile, virtualSize(src));
                    } else {
                        RawImageCreation.create(dstFile, virtualSize(src), Preallocation.OFF);
                    }
                } catch (BlockOpenException e) {
                    err.println("ioemu-img: " + dstFile + ": error while converting raw: " + e.getMessage());
                    return 1;
                }
            }
            BlockDevice dst = open(DriveOptions.of(dstFile).withCache(cache), err);
            if (dst == null) {
                return 1;
            }
            try (dst) {
                if (virtualSize(dst) < virtualSize(src)) {
                    err.println("ioemu-img: " + dstFile + ": " + virtualSize(dst) + " bytes, smaller than the source's "
                            + virtualSize(src) + " (expected: a target at least as large as the source with -n)");
                    return 1;
                }
                Progress progress = new Progress(a.has("-p"), 1.0, out);
                String failure = copy(src, dst, existing, progress);
                if (failure == null) {
                    int r = dst.flush();
                    failure = r < 0 ? "flush: " + Errno.strerror(r) : null;
                }
                if (failure != null) {
                    err.println("ioemu-img: error while writing " + dstFile + ": " + failure);
                    return 1;
                }
                progress.finish();
                progress.end();
                return 0;
            }
        }
    }

    /**
     * Copies src's data extents to dst. Zero blocks inside data and holes are not written when dst
     * is new (it reads zeros already); into an existing target (-n) they become write-zeroes.
     * Returns null, or what failed.
     */
    private static String copy(BlockDevice src, BlockDevice dst, boolean existingTarget, Progress progress) {
        long total = virtualSize(src);
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK + 4096).alignedSlice(4096);
        for (BlockStatus extent : allocationMap(src)) {
            if (extent.zero()) {
                long length = Math.min(extent.end(), dst.size()) - extent.offset();
                if (existingTarget && length > 0) {
                    int r = dst.writeZeroes(extent.offset(), length);
                    if (r < 0) {
                        return "write zeroes at " + extent.offset() + ": " + Errno.strerror(r);
                    }
                }
                progress.at(extent.end(), total);
                continue;
            }
            long dataEnd = Math.min(extent.end(), src.size());
            for (long offset = extent.offset(); offset < dataEnd; offset += CHUNK) {
                int n = (int) Math.min(CHUNK, dataEnd - offset);
                buf.clear().limit(n);
                int r = src.read(offset, buf);
                if (r < 0) {
                    return "read " + src.name() + " at " + offset + ": " + Errno.strerror(r);
                }
                for (int block = 0; block < n; block += ZERO_BLOCK) {
                    int len = Math.min(ZERO_BLOCK, n - block);
                    ByteBuffer slice = buf.duplicate().position(block).limit(block + len);
                    if (!isZero(slice)) {
                        r = dst.write(offset + block, slice);
                    } else if (existingTarget) {
                        r = dst.writeZeroes(offset + block, len);
                    } else {
                        r = 0;
                    }
                    if (r < 0) {
                        return "write at " + (offset + block) + ": " + Errno.strerror(r);
                    }
                }
                progress.at(offset + n, total);
            }
            progress.at(extent.end(), total);
        }
        return null;
    }

    private static boolean isZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // compare

    private static int compare(Arguments a, PrintStream out, PrintStream err) {
        BlockDevice first = open(a.readOnly(a.positional().get(0)), err);
        if (first == null) {
            return COMPARE_ERROR;
        }
        try (first) {
            BlockDevice second = open(a.readOnly(a.positional().get(1)), err);
            if (second == null) {
                return COMPARE_ERROR;
            }
            try (second) {
                if (virtualSize(first) != virtualSize(second)) {
                    out.println("Warning: Image size mismatch!");
                }
                long mismatch;
                Progress progress = new Progress(a.has("-p"), 2.0, out);
                try {
                    mismatch = firstDifference(first, second, progress);
                } catch (ReadFailure e) {
                    err.println("ioemu-img: " + e.getMessage());
                    return COMPARE_ERROR;
                }
                if (mismatch >= 0) {
                    out.println("Content mismatch at offset " + mismatch + "!");
                    progress.end();
                    return 1;
                }
                out.println("Images are identical.");
                progress.end();
                return 0;
            }
        }
    }

    private static final class ReadFailure extends Exception {
        ReadFailure(String message) {
            super(message);
        }
    }

    /**
     * The first differing sector's offset, or -1. Past the shorter image the longer must read as
     * zeros, as qemu-img compare treats it; ranges both report as holes are not read.
     */
    private static long firstDifference(BlockDevice first, BlockDevice second, Progress progress)
            throws ReadFailure {
        long end = Math.max(virtualSize(first), virtualSize(second));
        ByteBuffer one = ByteBuffer.allocateDirect(CHUNK + 4096).alignedSlice(4096);
        ByteBuffer two = ByteBuffer.allocateDirect(CHUNK + 4096).alignedSlice(4096);
        long offset = 0;
        while (offset < end) {
            long hole = Math.min(holeLength(first, offset), holeLength(second, offset));
            if (hole > 0) {
                offset = hole >= end - offset ? end : offset + hole;
                progress.at(offset, end);
                continue;
            }
            int n = (int) Math.min(CHUNK, end - offset);
            readOrZeros(first, offset, one, n);
            readOrZeros(second, offset, two, n);
            int diff = one.mismatch(two);
            if (diff >= 0) {
                return (offset + diff) / SECTOR * SECTOR;
            }
            offset += n;
            progress.at(offset, end);
        }
        return -1;
    }

    /** Bytes from {@code offset} the device reports as a hole (anything past its end counts). */
    private static long holeLength(BlockDevice dev, long offset) {
        if (offset >= dev.size()) {
            return Long.MAX_VALUE;
        }
        BlockStatus s = dev.blockStatus(offset, dev.size() - offset);
        return s.zero() ? s.length() : 0;
    }

    private static void readOrZeros(BlockDevice dev, long offset, ByteBuffer buf, int n) throws ReadFailure {
        buf.clear().limit(n);
        long available = Math.max(0, Math.min(n, dev.size() - offset));
        for (int i = (int) available; i < n; i++) {
            buf.put(i, (byte) 0);
        }
        if (available > 0) {
            int r = dev.read(offset, buf.duplicate().limit((int) available));
            if (r < 0) {
                throw new ReadFailure("error while reading " + dev.name() + " at offset " + offset + ": "
                        + Errno.strerror(r));
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // helpers

    /** Opens through the block layer; on failure prints qemu-img's "Could not open" line and returns null. */
    static BlockDevice open(DriveOptions options, PrintStream err) {
        try {
            return BlockDevices.open(options);
        } catch (BlockOpenException e) {
            String prefix = e.reason().startsWith("Could not open") ? "" : "Could not open '" + options.file() + "': ";
            err.println("ioemu-img: " + prefix + e.getMessage());
            return null;
        }
    }

    /**
     * The size qemu-img reports and copies: whole 512-byte sectors (shared/spec/block.md §8), the
     * last partial one padded with zeros.
     */
    static long virtualSize(BlockDevice dev) {
        return roundUp(dev.size(), SECTOR);
    }

    private static long roundUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    /**
     * A size as qemu-img info prints it ("0 B", "512 B", "0.977 MiB", "1.5 GiB"): scaled so the
     * number stays below 1000, with three significant digits and no trailing zeros (C's %0.3g).
     */
    static String sizeToStr(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int unit = 0;
        double scaled = bytes / (1000.0 / 1024.0);
        while (unit < units.length - 1 && scaled >= 1024) {
            scaled /= 1024;
            unit++;
        }
        double value = bytes / Math.pow(1024, unit);
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(3)).stripTrailingZeros();
        return rounded.toPlainString() + " " + units[unit];
    }

    static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
