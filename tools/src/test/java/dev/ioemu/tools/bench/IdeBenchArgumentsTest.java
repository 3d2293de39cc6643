package dev.ioemu.tools.bench;

import dev.ioemu.devices.block.CacheMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ide-bench's command line: defaults, and bad arguments that exit 1 with a message naming the option. Nothing is timed. */
class IdeBenchArgumentsTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return IdeBench.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void defaultsAreCacheNone128KiBAllCases() {
        IdeBench.Settings s = IdeBench.Settings.parse(new String[]{"disk.img"});
        assertEquals(Path.of("disk.img"), s.image());
        assertEquals(CacheMode.NONE, s.cache());
        assertEquals(128 << 10, s.transferBytes());
        assertEquals(3, s.repeat());
        assertEquals(EnumSet.allOf(IdeBench.Case.class), s.cases());
    }

    @Test
    void optionsAreApplied() {
        IdeBench.Settings s = IdeBench.Settings.parse(new String[]{"--cache", "writeback", "--bs", "64k",
                "--runtime", "0.5", "--repeat", "5", "--warmup", "0", "--cases", "dma-read,pio-write", "x.img"});
        assertEquals(CacheMode.WRITEBACK, s.cache());
        assertEquals(64 << 10, s.transferBytes());
        assertEquals(0.5, s.runtimeSeconds());
        assertEquals(5, s.repeat());
        assertEquals(0.0, s.warmupSeconds());
        assertEquals(EnumSet.of(IdeBench.Case.DMA_READ, IdeBench.Case.PIO_WRITE), s.cases());
    }

    @Test
    void helpExitsZero() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: ide-bench"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--cache bogus x.img                | cache: 'bogus' (expected: writeback, none",
            "--bs 1000 x.img                    | --bs: 1000 (expected: a multiple of 512 up to 128k",
            "--bs 256k x.img                    | --bs: 262144 (expected: a multiple of 512 up to 128k",
            "--bs lots x.img                    | --bs: 'lots' (expected: a non-negative byte count",
            "--runtime 0 x.img                  | --runtime: 0.0 (expected: 0 < seconds ≤ 60)",
            "--runtime soon x.img               | --runtime: 'soon' (expected: a number of seconds)",
            "--repeat 0 x.img                   | --repeat: 0 (expected: 1-15)",
            "--repeat 2.5 x.img                 | --repeat: '2.5' (expected: a whole number)",
            "--warmup -1 x.img                  | --warmup: -1.0 (expected: 0 ≤ seconds ≤ 60)",
            "--cases dma-read,trim x.img        | --cases: 'trim' (expected: a comma-separated list",
            "--frobnicate x.img                 | option: '--frobnicate' (expected: --cache",
            "a.img b.img                        | image: 'b.img' after 'a.img' (expected: exactly one image)",
            "--cache none                       | image: missing (expected: an image file to overwrite)",
            "x.img --runtime                    | --runtime: missing value",
    })
    void badArgumentsExitOneNamingTheOption(String args, String message) {
        assertEquals(1, run(args.trim().split(" +")));
        assertTrue(stderr().startsWith("ide-bench: " + message.trim()), stderr());
        assertTrue(stderr().contains("Try 'ide-bench --help'"), stderr());
        assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing measured");
    }

    @Test
    void aMissingImageExitsOneBeforeAnythingIsCreated() {
        Path missing = dir.resolve("none.img");
        assertEquals(1, run("--repeat", "1", missing.toString()));
        assertTrue(stderr().contains("is not a file"), stderr());
        assertTrue(Files.notExists(missing));
    }

    @Test
    void anImageSmallerThanOneTransferExitsOne() throws Exception {
        Path small = dir.resolve("small.img");
        Files.write(small, new byte[4096]);
        assertEquals(1, run("--cache", "writeback", small.toString()));
        assertTrue(stderr().contains("expected: at least --bs 131072"), stderr());
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.0, BenchArguments.median(new double[]{3, 1, 2}));
        assertEquals(2.5, BenchArguments.median(new double[]{4, 1, 2, 3}));
    }
}
