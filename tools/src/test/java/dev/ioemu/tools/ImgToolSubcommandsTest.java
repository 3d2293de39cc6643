package dev.ioemu.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ioemu-img's resize, bench, {@code -p} progress and info's disk contents and lock holders, each
 * run as a user runs it and, where qemu-img has the subcommand, against qemu-img on a copy of the
 * same file: same exit status, same lines (qemu-img's program name aside), same resulting file.
 */
class ImgToolSubcommandsTest {
    static final boolean QEMU_IMG = ImgToolTest.commandWorks("qemu-img", "--version");
    static final boolean SFDISK = ImgToolTest.commandWorks("sfdisk", "--version");

    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
        /** stderr with the program name made neutral, for comparing ours with qemu-img's. */
        String errText() {
            return err.replace("ioemu-img: ", "").replace("qemu-img: ", "");
        }
    }

    static Result ours(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = ImgTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result qemuImg(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("qemu-img"));
        command.addAll(List.of(args));
        Path errFile = Files.createTempFile("qemu-img", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(errFile.toFile()).start();
            byte[] stdout = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), new String(stdout, StandardCharsets.UTF_8), Files.readString(errFile));
        } finally {
            Files.deleteIfExists(errFile);
        }
    }

    /** A 1 MiB image with random data in its first and last 64 KiB and a hole between. */
    Path image(String name) throws IOException {
        Path p = dir.resolve(name);
        Random r = new Random(11);
        byte[] data = new byte[65536];
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            r.nextBytes(data);
            f.write(data);
            f.setLength(1 << 20);
            r.nextBytes(data);
            f.seek((1 << 20) - 65536);
            f.write(data);
        }
        return p;
    }

    static long allocatedBytes(Path p) throws IOException {
        return ImgToolTest.allocated(p);
    }

    @Nested
    class Resize {
        /** Each case: the arguments after "resize" with FILE where the image goes. */
        static final List<List<String>> CASES = List.of(
                List.of("FILE", "2M"), List.of("FILE", "+512K"), List.of("FILE", "1M"), List.of("FILE", "512K"),
                List.of("--shrink", "FILE", "512K"), List.of("--shrink", "FILE", "--", "-256K"),
                List.of("--shrink", "FILE", "1000"), List.of("FILE", "0"), List.of("--shrink", "FILE", "0"),
                List.of("--shrink", "FILE", "--", "-2M"), List.of("-q", "FILE", "3M"),
                List.of("--preallocation=falloc", "FILE", "4M"), List.of("--preallocation=full", "FILE", "3M"),
                List.of("--preallocation=falloc", "--shrink", "FILE", "512K"), List.of("FILE", "+0"));

        @Test
        void everyCaseEndsAsQemuImgsDoes() throws Exception {
            assumeTrue(QEMU_IMG, "skipped: qemu-img not installed");
            for (List<String> c : CASES) {
                Path mine = image("mine.img");
                Path theirs = image("theirs.img");
                Result o = ours(args("resize", c, mine));
                List<String> q = new ArrayList<>(List.of("-f", "raw"));
                q.addAll(Arrays.asList(args("", c, theirs)).subList(1, c.size() + 1));
                Result t = qemuImg(concat("resize", q));
                String what = c.toString();
                assertEquals(t.exit(), o.exit(), what + ": " + o.err() + " vs " + t.err());
                assertEquals(t.out(), o.out(), what);
                assertEquals(t.errText().replace(theirs.toString(), "FILE"),
                        o.errText().replace(mine.toString(), "FILE"), what);
                assertEquals(Files.size(theirs), Files.size(mine), what);
                assertEquals(-1, Files.mismatch(theirs, mine), what);
                assertEquals(allocatedBytes(theirs), allocatedBytes(mine), what + " allocation");
                Files.delete(mine);
                Files.delete(theirs);
            }
        }

        @Test
        void shrinkWithoutTheFlagChangesNothing() throws IOException {
            Path p = image("a.img");
            byte[] before = Files.readAllBytes(p);
            Result r = ours("resize", p.toString(), "4K");
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("Use the --shrink option"), r.err());
            assertEquals(-1, Arrays.mismatch(before, Files.readAllBytes(p)));
        }

        @Test
        void aLockedImageIsRefusedAndUnchanged() throws Exception {
            assumeTrue(ImgToolTest.commandWorks("qemu-system-x86_64", "--version"),
                    "skipped: qemu-system-x86_64 not installed");
            Path p = image("vm.img");
            Process vm = startQemuOn(p);
            try {
                Result r = ours("resize", p.toString(), "2M");
                assertEquals(1, r.exit());
                assertEquals("ioemu-img: Could not open '" + p + "': Failed to get \"write\" lock\n"
                        + "Is another process using the image [" + p + "]?\n", r.err());
                assertEquals(1 << 20, Files.size(p));
            } finally {
                vm.destroy();
                vm.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A paused QEMU holding {@code image} as a writable IDE disk, once its lock bytes are taken. */
    static Process startQemuOn(Path image) throws Exception {
        Process vm = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S", "-display",
                "none", "-drive", "file=" + image + ",format=raw,if=ide", "-qtest", "stdio")
                .redirectErrorStream(true).start();
        vm.getOutputStream().write("clock_step 0\n".getBytes(StandardCharsets.US_ASCII));
        vm.getOutputStream().flush();
        byte[] reply = new byte[2];
        assertEquals(2, vm.getInputStream().readNBytes(reply, 0, 2), "QEMU answered its first qtest line");
        // QEMU takes the drive's WRITE permission a moment after its monitor answers.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && dev.ioemu.devices.block.ImageLockHolders.of(image.toString()).stream()
                .noneMatch(h -> h.heldNames().contains("write"))) {
            Thread.sleep(20);
        }
        return vm;
    }

    @Nested
    class Bench {
        static final List<List<String>> CASES = List.of(
                List.of("-c", "200", "FILE"),
                List.of("-c", "300", "-d", "4", "-w", "-s", "8k", "-S", "16k", "-o", "4096", "--flush-interval=100",
                        "FILE"),
                List.of("-c", "64", "-d", "1", "-w", "--pattern=0xab", "FILE"),
                List.of("-c", "100", "-w", "--flush-interval=64", "--no-drain", "FILE"),
                List.of("-c", "3", "-o", "1048000", "FILE"),
                List.of("-c", "10", "--flush-interval=10", "FILE"),
                List.of("-c", "10", "-w", "--flush-interval=10", "FILE"),
                List.of("-c", "20", "-t", "none", "-s", "64k", "FILE"),
                List.of("-c", "x", "FILE"),
                List.of("--pattern=256", "FILE"));

        private static final Pattern COMPLETED = Pattern.compile("Run completed in \\d+\\.\\d{3} seconds\\.\n");

        @Test
        void sameLinesStatusAndBytesAsQemuImgBench() throws Exception {
            assumeTrue(QEMU_IMG, "skipped: qemu-img not installed");
            for (List<String> c : CASES) {
                Path mine = image("mine.img");
                Path theirs = image("theirs.img");
                Result o = ours(args("bench", c, mine));
                List<String> q = new ArrayList<>(List.of("bench", "-f", "raw"));
                q.addAll(Arrays.asList(args("", c, theirs)).subList(1, c.size() + 1));
                Result t = qemuImg(q.toArray(String[]::new));
                String what = c.toString();
                assertEquals(t.exit(), o.exit(), what + ": " + o.err() + " vs " + t.err());
                assertEquals(COMPLETED.matcher(t.out()).replaceAll("Run completed.\n"),
                        COMPLETED.matcher(o.out()).replaceAll("Run completed.\n"), what);
                if (t.exit() == 0 || t.err().contains("Failed request")) {
                    assertEquals(t.errText(), o.errText(), what);
                } else {
                    assertTrue(o.err().startsWith("ioemu-img: ") && !o.err().isBlank(), what + ": " + o.err());
                }
                assertEquals(-1, Files.mismatch(theirs, mine), what + ": the image after the run");
                Files.delete(mine);
                Files.delete(theirs);
            }
        }

        @Test
        void aZeroQueueDepthIsRefusedInsteadOfWaitingForever() throws IOException {
            Result r = ours("bench", "-d", "0", image("a.img").toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("-d: 0"), r.err());
        }

        @Test
        void forceShareIsForReadersOnly() throws IOException {
            Path p = image("a.img");
            byte[] before = Files.readAllBytes(p);
            Result r = ours("bench", "-U", "-w", "-c", "4", "--pattern=1", p.toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("force-share=on can only be used with read-only images"), r.err());
            assertEquals(-1, Arrays.mismatch(before, Files.readAllBytes(p)));
        }
    }

    @Nested
    class ConvertProgress {
        private static final Pattern LINE = Pattern.compile("    \\((\\d+\\.\\d\\d)/100%\\)\r");

        @ParameterizedTest
        @ValueSource(strings = {"convert", "compare"})
        void printsQemuImgsProgressLines(String command) throws Exception {
            Path src = image("src.img");
            Path other = image("other.img");
            Result o = command.equals("convert") ? ours("convert", "-p", src.toString(), dir.resolve("dst.img").toString())
                    : ours("compare", "-p", src.toString(), other.toString());
            assertEquals(0, o.exit(), o.err());
            List<Double> figures = figures(o.out());
            assertEquals(0.0, figures.get(0));
            assertEquals(100.0, figures.get(figures.size() - 1));
            for (int i = 1; i < figures.size(); i++) {
                assertTrue(figures.get(i) >= figures.get(i - 1), figures.toString());
            }
            if (QEMU_IMG) {
                Result t = command.equals("convert")
                        ? qemuImg("convert", "-p", "-f", "raw", "-O", "raw", src.toString(),
                                dir.resolve("dst2.img").toString())
                        : qemuImg("compare", "-p", "-f", "raw", "-F", "raw", src.toString(), other.toString());
                assertEquals(t.exit(), o.exit());
                List<Double> theirs = figures(t.out());
                assertEquals(theirs.get(0), figures.get(0));
                assertEquals(theirs.get(theirs.size() - 1), figures.get(figures.size() - 1));
                assertEquals(t.out().substring(t.out().lastIndexOf('\r') + 1),
                        o.out().substring(o.out().lastIndexOf('\r') + 1), "what follows the last progress line");
            }
        }

        @Test
        void withoutTheFlagNothingIsPrinted() throws IOException {
            Result o = ours("convert", image("src.img").toString(), dir.resolve("dst.img").toString());
            assertEquals("", o.out());
        }

        private List<Double> figures(String out) {
            List<Double> f = new ArrayList<>();
            Matcher m = LINE.matcher(out);
            while (m.find()) {
                f.add(Double.parseDouble(m.group(1)));
            }
            assertTrue(f.size() >= 2, "progress lines in " + out.replace("\r", "\\r"));
            return f;
        }
    }

    @Nested
    class InfoContents {
        @Test
        void dosTableWithLogicalPartitionsAsSfdiskReadsIt() throws Exception {
            assumeTrue(SFDISK, "skipped: sfdisk not installed");
            Path p = blank("dos.img", 64 << 20);
            sfdisk(p, "label: dos\nstart=2048, size=20480, type=e, bootable\nstart=22528, size=40960, type=5\n"
                    + "start=24576, size=8192, type=83\nstart=34816, size=8192, type=82\n");
            assertSameAsSfdisk(p);
        }

        @Test
        void gptAsSfdiskReadsIt() throws Exception {
            assumeTrue(SFDISK, "skipped: sfdisk not installed");
            Path p = blank("gpt.img", 64 << 20);
            sfdisk(p, "label: gpt\nstart=2048, size=4096, type=21686148-6449-6E6F-744E-656564454649\n"
                    + "start=8192, size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
            assertSameAsSfdisk(p);
            Result human = ours("info", p.toString());
            assertTrue(human.out().contains("partition table: gpt"), human.out());
            assertTrue(human.out().contains("type BIOS boot (21686148-6449-6E6F-744E-656564454649)"), human.out());
        }

        @Test
        void aDamagedGptIsReportedNotTrusted() throws Exception {
            assumeTrue(SFDISK, "skipped: sfdisk not installed");
            Path p = blank("gpt.img", 16 << 20);
            sfdisk(p, "label: gpt\nstart=2048, size=4096\n");
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                f.seek(2 * 512 + 40);
                f.write(0x5a);
            }
            Result r = ours("info", p.toString());
            assertEquals(0, r.exit());
            assertTrue(r.out().contains("warning: GPT entry array CRC mismatch"), r.out());
        }

        @Test
        void anEbrChainThatLoopsEndsWithAWarning() throws IOException {
            Path p = blank("loop.img", 1 << 20);
            try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
                // Primary 1: extended at LBA 100; its second EBR (at 150) names itself as the next.
                writeEntry(f, 0, 446, 0x05, 100, 1000);
                writeEntry(f, 100, 446, 0x83, 1, 10);
                writeEntry(f, 100, 462, 0x05, 50, 100);
                writeEntry(f, 150, 446, 0x83, 1, 10);
                writeEntry(f, 150, 462, 0x05, 50, 100);
                signature(f, 0);
                signature(f, 100);
                signature(f, 150);
            }
            Result r = ours("info", p.toString());
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("warning: more than 128 logical partitions"), r.out());
        }

        @Test
        void anUnpartitionedImagePrintsOnlyQemuImgsLines() throws IOException {
            Path p = blank("plain.img", 1 << 20);
            assertEquals(4, ours("info", p.toString()).out().lines().count());
        }

        @Test
        void namesTheProcessHoldingTheLock() throws Exception {
            assumeTrue(ImgToolTest.commandWorks("qemu-system-x86_64", "--version"),
                    "skipped: qemu-system-x86_64 not installed");
            Path p = blank("vm.img", 1 << 20);
            Process vm = startQemuOn(p);
            try {
                Result r = ours("info", p.toString());
                assertEquals(0, r.exit(), r.err());
                assertTrue(r.out().contains("Locked by:\n    pid " + vm.pid() + " (qemu-system-x86): holds "
                        + "consistent read, write; refuses to share write\n"), r.out());
                Result json = ours("info", "--output=json", p.toString());
                assertTrue(json.out().contains("\"ioemu-locked-by\": [{\"pid\": " + vm.pid()), json.out());
            } finally {
                vm.destroy();
                vm.waitFor(10, TimeUnit.SECONDS);
            }
            assertTrue(!ours("info", p.toString()).out().contains("Locked by"), "no holder once QEMU ended");
        }

        private void assertSameAsSfdisk(Path p) throws Exception {
            Process s = new ProcessBuilder("sfdisk", "--json", p.toString()).redirectErrorStream(true).start();
            String peer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, s.waitFor());
            Result r = ours("info", "--output=json", p.toString());
            assertEquals(0, r.exit(), r.err());
            List<String> theirs = new ArrayList<>();
            Matcher m = Pattern.compile("\"start\": (\\d+),\\s*\"size\": (\\d+),\\s*\"type\": \"([^\"]+)\"(,\\s*\"uuid\": "
                    + "\"[^\"]+\")?(,\\s*\"bootable\": true)?").matcher(peer);
            while (m.find()) {
                String type = m.group(3).length() <= 2 ? String.format("0x%02x", Integer.parseInt(m.group(3), 16))
                        : m.group(3);
                theirs.add(m.group(1) + "/" + m.group(2) + "/" + type + "/" + (m.group(5) != null));
            }
            List<String> mine = new ArrayList<>();
            Matcher n = Pattern.compile("\"bootable\": (true|false), \"start\": (\\d+), \"sectors\": (\\d+), "
                    + "\"type-id\": \"([^\"]+)\"").matcher(r.out());
            while (n.find()) {
                mine.add(n.group(2) + "/" + n.group(3) + "/" + n.group(4) + "/" + n.group(1));
            }
            assertTrue(!theirs.isEmpty(), peer);
            assertEquals(theirs, mine);
            String id = Pattern.compile("\"id\": \"([^\"]+)\"").matcher(peer).results().findFirst().orElseThrow()
                    .group(1);
            assertTrue(r.out().contains("\"disk-identifier\": \"" + id + "\""), r.out());
        }

        private void sfdisk(Path p, String script) throws Exception {
            Process s = new ProcessBuilder("sfdisk", "-q", p.toString()).redirectErrorStream(true).start();
            s.getOutputStream().write(script.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().close();
            String out = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, s.waitFor(), out);
        }

        private void writeEntry(RandomAccessFile f, long lba, int at, int type, long start, long sectors)
                throws IOException {
            byte[] e = new byte[16];
            e[4] = (byte) type;
            putLe(e, 8, start);
            putLe(e, 12, sectors);
            f.seek(lba * 512 + at);
            f.write(e);
        }

        private void signature(RandomAccessFile f, long lba) throws IOException {
            f.seek(lba * 512 + 510);
            f.write(new byte[] {0x55, (byte) 0xaa});
        }

        private void putLe(byte[] b, int at, long v) {
            for (int i = 0; i < 4; i++) {
                b[at + i] = (byte) (v >>> (8 * i));
            }
        }
    }

    Path blank(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    static String[] args(String command, List<String> template, Path file) {
        List<String> a = new ArrayList<>();
        a.add(command);
        for (String s : template) {
            a.add(s.equals("FILE") ? file.toString() : s);
        }
        return a.toArray(String[]::new);
    }

    static String[] concat(String first, List<String> rest) {
        List<String> a = new ArrayList<>(List.of(first));
        a.addAll(rest);
        return a.toArray(String[]::new);
    }
}
