package dev.ioemu.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.DriveOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ioemu-img as a user runs it, through {@link ImgTool#run} with its exit status and output, and
 * against the real qemu-img on the same files (shared/spec/block.md §7.1, §9).
 *
 * <p>The fixture {@code sparse.img} is 1 MiB with data at 40960 (8 KiB), 409600 (4 KiB) and
 * 819200 (8 KiB of zeros, written, so allocated); everything else is a hole.
 */
class ImgToolTest {
    static final long SIZE = 1 << 20;

    @TempDir
    Path dir;
    Path sparse;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void createSparseImage() throws IOException {
        sparse = dir.resolve("sparse.img");
        Random random = new Random(7);
        try (FileChannel ch = FileChannel.open(sparse, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            write(ch, 40960, randomBytes(random, 8192));
            write(ch, 409600, randomBytes(random, 4096));
            write(ch, 819200, new byte[8192]);
        }
        setLength(sparse, SIZE);
    }

    private static void setLength(Path file, long length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(length);
        }
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        b[0] = 1;
        return b;
    }

    private static void write(FileChannel ch, long offset, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.hasRemaining()) {
            ch.write(b, offset + b.position());
        }
    }

    int run(String... args) {
        out.reset();
        err.reset();
        return ImgTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    String path(String name) {
        return dir.resolve(name).toString();
    }

    static long allocated(Path file) throws IOException {
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(file.toString()).withReadOnly(true))) {
            return dev.allocatedSize();
        }
    }

    @Nested
    class Create {
        @ParameterizedTest
        @CsvSource({"512, 512, 512", "1000, 1000, 1024", "1, 1, 512", "0, 0, 0", "64M, 67108864, 67108864",
                "1G, 1073741824, 1073741824", "4k, 4096, 4096"})
        void roundsTheSizeUpTo512AndPrintsQemuImgsLine(String size, long printed, long length) throws IOException {
            assertEquals(0, run("create", "-f", "raw", path("new.img"), size), stderr());
            assertEquals("Formatting '" + path("new.img") + "', fmt=raw size=" + printed + "\n", stdout());
            assertEquals(length, Files.size(dir.resolve("new.img")));
            assertTrue(allocated(dir.resolve("new.img")) <= 4096, "preallocation=off leaves the image sparse");
        }

        @ParameterizedTest
        @CsvSource({"falloc", "full"})
        void preallocationAllocatesEveryByte(String mode) throws IOException {
            assertEquals(0, run("create", "-o", "preallocation=" + mode, path("p.img"), "1M"), stderr());
            assertEquals("Formatting '" + path("p.img") + "', fmt=raw size=1048576 preallocation=" + mode + "\n",
                    stdout());
            assertEquals(SIZE, Files.size(dir.resolve("p.img")));
            assertTrue(allocated(dir.resolve("p.img")) >= SIZE);
        }

        @Test
        void createOverAnImageEmptiesIt() throws IOException {
            assertEquals(0, run("create", sparse.toString(), "2M"), stderr());
            assertEquals(2 * SIZE, Files.size(sparse));
            assertArrayEquals(new byte[(int) (2 * SIZE)], Files.readAllBytes(sparse));
        }
    }

    @Nested
    class Info {
        @Test
        void humanOutputHasQemuImgsFourLines() {
            assertEquals(0, run("info", sparse.toString()), stderr());
            assertEquals("image: " + sparse + "\nfile format: raw\nvirtual size: 1 MiB (1048576 bytes)\n"
                    + "disk size: 20 KiB\n", stdout());
        }

        @Test
        void jsonOutputHasQemuImgsKeys() {
            assertEquals(0, run("info", "--output=json", "-U", sparse.toString()), stderr());
            assertEquals("{\n    \"virtual-size\": 1048576,\n    \"filename\": \"" + sparse + "\",\n"
                    + "    \"format\": \"raw\",\n    \"actual-size\": 20480,\n    \"dirty-flag\": false\n}\n",
                    stdout());
        }

        @ParameterizedTest
        @CsvSource({"0, 0 B", "512, 512 B", "1024, 1 KiB", "1024000, 0.977 MiB", "1047552, 0.999 MiB",
                "1572864, 1.5 MiB", "10737418240, 10 GiB", "1099511627776, 1 TiB"})
        void sizesReadAsQemuImgPrintsThem(long bytes, String text) {
            assertEquals(text, ImgTool.sizeToStr(bytes));
        }
    }

    @Nested
    class Mapping {
        @Test
        void jsonListsEveryExtentWithItsFlags() {
            assertEquals(0, run("map", "--output=json", sparse.toString()), stderr());
            assertEquals(String.join(",\n",
                    entry(0, 40960, false), entry(40960, 8192, true), entry(49152, 360448, false),
                    entry(409600, 4096, true), entry(413696, 405504, false), entry(819200, 8192, true),
                    entry(827392, 221184, false)), stdout().substring(1, stdout().length() - 2));
            assertTrue(stdout().startsWith("[{") && stdout().endsWith("}]\n"), stdout());
        }

        private String entry(long start, long length, boolean data) {
            return "{ \"start\": " + start + ", \"length\": " + length + ", \"depth\": 0, \"present\": true, \"zero\": "
                    + !data + ", \"data\": " + data + ", \"offset\": " + start + "}";
        }

        @Test
        void aPartialLastSectorIsPaddedWithAZeroExtent() throws IOException {
            Path odd = dir.resolve("odd.img");
            Files.write(odd, new byte[] {1, 2, 3});
            assertEquals(0, run("map", "--output=json", odd.toString()), stderr());
            assertEquals("[" + entry(0, 3, true) + ",\n" + entry(3, 509, false) + "]\n", stdout());
            assertEquals(0, run("convert", odd.toString(), path("odd-copy.img")), stderr());
            assertEquals(512, Files.size(dir.resolve("odd-copy.img")));
        }

        @Test
        void humanListsTheDataExtentsInHex() {
            assertEquals(0, run("map", sparse.toString()), stderr());
            assertEquals(String.format("%-16s%-16s%-16s%s%n", "Offset", "Length", "Mapped to", "File")
                    + String.format("%-16s%-16s%-16s%s%n", "0xa000", "0x2000", "0xa000", sparse)
                    + String.format("%-16s%-16s%-16s%s%n", "0x64000", "0x1000", "0x64000", sparse)
                    + String.format("%-16s%-16s%-16s%s%n", "0xc8000", "0x2000", "0xc8000", sparse), stdout());
        }
    }

    @Nested
    class Convert {
        @Test
        void copiesTheBytesAndLeavesHolesSparse() throws IOException {
            Path big = dir.resolve("big.img");
            Files.copy(sparse, big);
            setLength(big, 256L << 20);
            Path copy = dir.resolve("copy.img");
            assertEquals(0, run("convert", "-O", "raw", big.toString(), copy.toString()), stderr());
            assertEquals(256L << 20, Files.size(copy));
            assertTrue(allocated(copy) <= 64 << 10, "allocated " + allocated(copy) + " of 256 MiB");
            assertEquals(-1, Files.mismatch(big, copy));
        }

        @Test
        void zeroBlocksInsideDataAreNotWritten() throws IOException {
            Path copy = dir.resolve("copy.img");
            assertEquals(0, run("convert", sparse.toString(), copy.toString()), stderr());
            assertEquals(0, run("map", "--output=json", copy.toString()));
            assertFalse(stdout().contains("\"start\": 819200"),
                    "the written zeros at 800 KiB stay a hole: " + stdout());
        }

        @Test
        void intoAnExistingImageOverwritesItsHolesWithZeros() throws IOException {
            Path target = dir.resolve("target.img");
            byte[] ones = new byte[(int) SIZE];
            Arrays.fill(ones, (byte) 0xff);
            Files.write(target, ones);
            assertEquals(0, run("convert", "-n", "-t", "writeback", sparse.toString(), target.toString()), stderr());
            assertEquals(-1, Files.mismatch(sparse, target));
        }
    }

    @Nested
    class Compare {
        @Test
        void identicalImages() throws IOException {
            Path copy = dir.resolve("copy.img");
            Files.copy(sparse, copy);
            assertEquals(0, run("compare", sparse.toString(), copy.toString()), stderr());
            assertEquals("Images are identical.\n", stdout());
        }

        @Test
        void aMismatchIsReportedAtItsSector() throws IOException {
            Path copy = dir.resolve("copy.img");
            Files.copy(sparse, copy);
            patch(copy, 40960 + 600, (byte) 0x5a);
            assertEquals(1, run("compare", sparse.toString(), copy.toString()));
            assertEquals("Content mismatch at offset 41472!\n", stdout());
        }

        @Test
        void aLongerImageMatchesWhenItsExtraAreaIsZero() throws IOException {
            Path longer = dir.resolve("longer.img");
            Files.copy(sparse, longer);
            setLength(longer, 2 * SIZE);
            assertEquals(0, run("compare", sparse.toString(), longer.toString()), stderr());
            assertEquals("Warning: Image size mismatch!\nImages are identical.\n", stdout());
            patch(longer, 1500000, (byte) 'x');
            assertEquals(1, run("compare", longer.toString(), sparse.toString()));
            assertEquals("Warning: Image size mismatch!\nContent mismatch at offset 1499648!\n", stdout());
        }

        @Test
        void aMissingImageIsAnErrorNotADifference() {
            assertEquals(2, run("compare", sparse.toString(), path("missing.img")));
            assertEquals("ioemu-img: Could not open '" + path("missing.img") + "': No such file or directory\n",
                    stderr());
        }
    }

    static void patch(Path file, long offset, byte value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {value}), offset);
        }
    }

    @Nested
    class BadInput {
        static Stream<Arguments> malformed() {
            return Stream.of(
                    Arguments.of((Object) new String[] {}),
                    Arguments.of((Object) new String[] {"rebase", "IMG", "1M"}),
                    Arguments.of((Object) new String[] {"resize", "IMG"}),
                    Arguments.of((Object) new String[] {"resize", "IMG", "12Q"}),
                    Arguments.of((Object) new String[] {"resize", "--preallocation=metadata", "IMG", "2M"}),
                    Arguments.of((Object) new String[] {"resize", "--shrink", "IMG", "-1M"}),
                    Arguments.of((Object) new String[] {"bench", "-c", "x", "IMG"}),
                    Arguments.of((Object) new String[] {"bench", "-d", "0", "IMG"}),
                    Arguments.of((Object) new String[] {"bench", "--pattern=0x100", "-w", "IMG"}),
                    Arguments.of((Object) new String[] {"bench", "-i", "native", "-w", "IMG"}),
                    Arguments.of((Object) new String[] {"bench", "-s", "2G", "-w", "IMG"}),
                    Arguments.of((Object) new String[] {"create", "NEW"}),
                    Arguments.of((Object) new String[] {"create", "NEW", "12Q"}),
                    Arguments.of((Object) new String[] {"create", "NEW", "-5"}),
                    Arguments.of((Object) new String[] {"create", "NEW", "1M", "2M"}),
                    Arguments.of((Object) new String[] {"create", "-f", "qcow2", "NEW", "1M"}),
                    Arguments.of((Object) new String[] {"create", "-o", "preallocation=bogus", "NEW", "1M"}),
                    Arguments.of((Object) new String[] {"create", "-o", "cluster_size=64k", "NEW", "1M"}),
                    Arguments.of((Object) new String[] {"create", "-o"}),
                    Arguments.of((Object) new String[] {"info"}),
                    Arguments.of((Object) new String[] {"info", "--output=xml", "IMG"}),
                    Arguments.of((Object) new String[] {"info", "--bogus", "IMG"}),
                    Arguments.of((Object) new String[] {"info", "IMG", "IMG"}),
                    Arguments.of((Object) new String[] {"map", "--output", "yaml", "IMG"}),
                    Arguments.of((Object) new String[] {"convert", "IMG"}),
                    Arguments.of((Object) new String[] {"convert", "-O", "vmdk", "IMG", "NEW"}),
                    Arguments.of((Object) new String[] {"convert", "-t", "fast", "IMG", "NEW"}),
                    Arguments.of((Object) new String[] {"convert", "-O", "raw", "-O", "raw", "IMG", "NEW"}),
                    Arguments.of((Object) new String[] {"compare", "IMG"}),
                    Arguments.of((Object) new String[] {"compare", "-s", "IMG", "IMG"}));
        }

        @ParameterizedTest
        @MethodSource("malformed")
        void exitsOneWithAOneLineMessageAndChangesNothing(String[] template) throws IOException {
            String[] args = Arrays.stream(template)
                    .map(a -> a.equals("IMG") ? sparse.toString() : a.equals("NEW") ? path("new.img") : a)
                    .toArray(String[]::new);
            byte[] before = Files.readAllBytes(sparse);
            assertEquals(1, run(args));
            String[] lines = stderr().split("\n");
            assertTrue(lines[0].startsWith("ioemu-img: ") && lines[0].contains("(expected: "), stderr());
            assertEquals("Try 'ioemu-img --help' for more information.", lines[1]);
            assertFalse(stderr().contains("Exception") || stderr().contains("\tat "), stderr());
            assertEquals("", stdout());
            assertFalse(Files.exists(dir.resolve("new.img")), "nothing is created");
            assertArrayEquals(before, Files.readAllBytes(sparse), "nothing is changed");
        }

        @Test
        void aMissingImageIsNamed() {
            assertEquals(1, run("info", path("missing.img")));
            assertEquals("ioemu-img: Could not open '" + path("missing.img") + "': No such file or directory\n",
                    stderr());
            assertEquals(1, run("convert", path("missing.img"), path("copy.img")));
            assertFalse(Files.exists(dir.resolve("copy.img")), "no target without a source");
            assertEquals(1, run("create", path("no/such/dir.img"), "1M"));
            assertTrue(stderr().contains("Could not create '" + path("no/such/dir.img")
                    + "': No such file or directory"), stderr());
        }
    }

    /** While an ioemu writer (another open file description, as a VM's disk) holds the image. */
    @Nested
    class WhileAWriterHoldsTheImage {
        BlockDevice writer;

        @BeforeEach
        void hold() throws Exception {
            writer = BlockDevices.open(DriveOptions.of(sparse.toString()));
        }

        @AfterEach
        void release() {
            writer.close();
        }

        @Test
        void infoMapAndCompareStillWork() {
            assertEquals(0, run("info", sparse.toString()), stderr());
            assertEquals(0, run("map", sparse.toString()), stderr());
            assertEquals(0, run("compare", sparse.toString(), sparse.toString()), stderr());
        }

        @Test
        void convertIsRefusedUnlessForcedToShare() throws IOException {
            assertEquals(1, run("convert", sparse.toString(), path("copy.img")));
            assertEquals("ioemu-img: Could not open '" + sparse + "': Failed to get shared \"write\" lock\n"
                    + "Is another process using the image [" + sparse + "]?\n", stderr());
            assertFalse(Files.exists(dir.resolve("copy.img")));
            assertEquals(0, run("convert", "-U", sparse.toString(), path("copy.img")), stderr());
            assertEquals(-1, Files.mismatch(sparse, dir.resolve("copy.img")));
        }

        @Test
        void createAndConvertIntoItAreRefusedAndChangeNothing() throws IOException {
            byte[] before = Files.readAllBytes(sparse);
            Path other = dir.resolve("other.img");
            Files.write(other, new byte[4096]);
            assertEquals(1, run("create", sparse.toString(), "2M"));
            assertTrue(stderr().contains("Failed to get \"write\" lock"), stderr());
            assertEquals(1, run("convert", "-n", other.toString(), sparse.toString()));
            assertTrue(stderr().contains("Failed to get \"write\" lock"), stderr());
            assertArrayEquals(before, Files.readAllBytes(sparse));
        }
    }

    /**
     * The peer: the real qemu-img on the same files. JSON is compared field by field after
     * dropping {@link #DIFFER_ON_PURPOSE}.
     */
    @Nested
    class AgainstQemuImg {
        /** Fields qemu-img prints that ioemu-img leaves out on purpose, each with the reason. */
        static final Map<String, String> DIFFER_ON_PURPOSE = Map.of(
                "children", "QEMU ≥ 8.0 describes the protocol node under the raw node; ioemu has no node graph",
                "format-specific", "QEMU ≥ 8.0 adds the protocol driver's details (file-posix extent size hint)",
                "compressed", "QEMU ≥ 8.2 adds it to map entries; a raw image is never compressed");

        static final boolean QEMU_IMG = commandWorks("qemu-img", "--version");

        @BeforeEach
        void qemuImgInstalled() {
            assumeTrue(QEMU_IMG, "skipped: qemu-img not installed");
        }

        /** The sparse fixture, a 1000-byte file (qemu-img pads it to a whole sector) and an empty one. */
        List<Path> images() throws IOException {
            Path odd = dir.resolve("odd.img");
            byte[] data = new byte[1000];
            new Random(3).nextBytes(data);
            Files.write(odd, data);
            Path empty = Files.createFile(dir.resolve("empty.img"));
            return List.of(sparse, odd, empty);
        }

        @ParameterizedTest
        @ValueSource(strings = {"info", "map"})
        void jsonEqualsQemuImgs(String command) throws Exception {
            for (Path image : images()) {
                assertEquals(0, run(command, "--output=json", image.toString()), stderr());
                Result q = qemuImg(command, "--output=json", "-f", "raw", image.toString());
                assertEquals(0, q.exit(), q.output());
                assertEquals(withoutDeliberateDifferences(objects(q.output())), objects(stdout()), image.toString());
            }
        }

        @ParameterizedTest
        @ValueSource(strings = {"info", "map"})
        void humanOutputEqualsQemuImgs(String command) throws Exception {
            for (Path image : images()) {
                assertEquals(0, run(command, image.toString()), stderr());
                Result q = qemuImg(command, "-f", "raw", image.toString());
                assertEquals(q.output(), stdout(), image.toString());
            }
        }

        @Test
        void createdImagesAndConvertedCopiesAreAllocatedAsQemuImgsAre() throws Exception {
            assertEquals(0, run("create", path("ours.img"), "1000"));
            assertEquals(0, qemuImg("create", "-q", "-f", "raw", path("theirs.img"), "1000").exit());
            assertEquals(Files.size(dir.resolve("theirs.img")), Files.size(dir.resolve("ours.img")));
            assertEquals(qemuImg("map", "--output=json", path("theirs.img")).output(),
                    qemuImg("map", "--output=json", path("ours.img")).output());
            assertEquals(0, run("convert", sparse.toString(), path("ours-copy.img")));
            assertEquals(-1, Files.mismatch(sparse, dir.resolve("ours-copy.img")));
            assertEquals(0, qemuImg("convert", "-O", "raw", sparse.toString(), path("theirs-copy.img")).exit());
            assertEquals(qemuImg("map", "--output=json", path("theirs-copy.img")).output(),
                    qemuImg("map", "--output=json", path("ours-copy.img")).output());
        }

        @Test
        void compareAgreesWithQemuImg() throws Exception {
            Path same = dir.resolve("same.img");
            Files.copy(sparse, same);
            Path changed = dir.resolve("changed.img");
            Files.copy(sparse, changed);
            patch(changed, 409600 + 1000, (byte) 0);
            Path longer = dir.resolve("longer.img");
            Files.copy(sparse, longer);
            setLength(longer, 3 * SIZE);
            Path longerChanged = dir.resolve("longer-changed.img");
            Files.copy(longer, longerChanged);
            patch(longerChanged, 2 * SIZE + 4097, (byte) 1);
            Path padded = dir.resolve("padded.img");
            Files.write(padded, Arrays.copyOf(Files.readAllBytes(sparse), (int) SIZE - 24));
            for (Path other : List.of(same, changed, longer, longerChanged, padded)) {
                int ours = run("compare", sparse.toString(), other.toString());
                Result q = qemuImg("compare", "-f", "raw", "-F", "raw", sparse.toString(), other.toString());
                assertEquals(q.exit(), ours, other.toString());
                assertEquals(q.output(), stdout(), other.toString());
            }
        }

        @Test
        void whileAQemuVmWritesTheImageInfoWorksAndConvertIsRefusedUnlessForced() throws Exception {
            assumeTrue(commandWorks("qemu-system-x86_64", "--version"), "skipped: qemu-system-x86_64 not installed");
            Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S",
                    "-nodefaults", "-display", "none", "-drive", "file=" + sparse + ",format=raw,if=ide")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                boolean locked = false;
                while (!locked && System.nanoTime() < deadline && qemu.isAlive()) {
                    try {
                        BlockDevices.open(DriveOptions.of(sparse.toString())).close();
                        Thread.sleep(100);
                    } catch (BlockOpenException e) {
                        locked = true;
                    }
                }
                assertTrue(locked, "QEMU never locked the image: " + Files.readString(dir.resolve("qemu.log")));
                assertEquals(0, run("info", sparse.toString()), stderr());
                assertEquals(1, run("convert", sparse.toString(), path("copy.img")));
                assertEquals("ioemu-img: Could not open '" + sparse + "': Failed to get shared \"write\" lock\n"
                        + "Is another process using the image [" + sparse + "]?\n", stderr());
                assertEquals(0, run("convert", "-U", sparse.toString(), path("copy.img")), stderr());
            } finally {
                qemu.destroy();
                if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly().waitFor();
                }
            }
        }

        private List<Map<String, String>> withoutDeliberateDifferences(List<Map<String, String>> in) {
            in.forEach(m -> m.keySet().removeAll(DIFFER_ON_PURPOSE.keySet()));
            return in;
        }
    }

    /**
     * The flat objects of qemu-img's JSON, in order, each as key → raw value text. Nested objects
     * (QEMU ≥ 8.0 "children") are cut out first; their keys are in DIFFER_ON_PURPOSE.
     */
    static List<Map<String, String>> objects(String json) {
        String flat = json;
        for (String nested : List.of("\"children\"", "\"format-specific\"")) {
            int at = flat.indexOf(nested);
            if (at >= 0) {
                int open = flat.indexOf(flat.charAt(flat.indexOf(':', at) + 2), at);
                flat = flat.substring(0, at) + "\"" + nested.replace("\"", "") + "\": null"
                        + flat.substring(matching(flat, open) + 1);
            }
        }
        List<Map<String, String>> result = new ArrayList<>();
        Matcher object = Pattern.compile("\\{([^{}]*)}").matcher(flat);
        Pattern field = Pattern.compile("\"([^\"]+)\":\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}\\s]+)");
        while (object.find()) {
            Map<String, String> fields = new LinkedHashMap<>();
            Matcher f = field.matcher(object.group(1));
            while (f.find()) {
                fields.put(f.group(1), f.group(2));
            }
            result.add(fields);
        }
        return result;
    }

    private static int matching(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i;
            }
        }
        return s.length() - 1;
    }

    record Result(int exit, String output) {
    }

    /** Runs qemu-img; output is its stdout, with stderr appended (so a failure shows why). */
    static Result qemuImg(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        byte[] stderr = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("qemu-img " + command + " did not finish in 60 s");
        }
        return new Result(p.exitValue(), new String(stdout, StandardCharsets.UTF_8)
                + new String(stderr, StandardCharsets.UTF_8));
    }

    static boolean commandWorks(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
