package dev.ioemu.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ioemu-io as a user drives it: qemu-io's output lines, pattern checks, and bad arguments that write nothing. */
class IoToolTest {
    @TempDir
    Path dir;
    Path image;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void createImage() throws Exception {
        image = dir.resolve("io.img");
        byte[] data = new byte[1 << 20];
        Arrays.fill(data, (byte) 0x11);
        Files.write(image, data);
    }

    private int run(String... args) {
        return IoTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"writeback", "none", "writethrough", "directsync", "unsafe", "fadvise"})
    void aPatternWrittenReadsBackInEveryCacheMode(String cache) throws Exception {
        assertEquals(0, run("--cache", cache, "-c", "write -P 0xab 4096 64k", "-c", "read -P 0xab 4096 64k",
                "-c", "flush", image.toString()), err.toString());
        assertTrue(stdout().contains("wrote 65536/65536 bytes at offset 4096"), stdout());
        assertTrue(stdout().contains("read 65536/65536 bytes at offset 4096"), stdout());
        byte[] file = Files.readAllBytes(image);
        assertEquals((byte) 0xab, file[4096]);
        assertEquals((byte) 0xab, file[4096 + 65535]);
        assertEquals((byte) 0x11, file[4095]);
    }

    @Test
    void aPatternMismatchExitsOneAndSaysWhere() {
        assertEquals(1, run("-c", "read -P 0xab 0 512", image.toString()));
        assertTrue(stdout().contains("Pattern verification failed at offset 0, 512 bytes"), stdout());
    }

    @ParameterizedTest
    @ValueSource(strings = {"write -P 0x1ff 0 512", "write 0", "scribble 0 512", "write -P 0xab 1M 512",
            "write -x 0 512", "read 0 -1"})
    void badArgumentsExitOneWithAMessageAndWriteNothing(String badCommand) throws Exception {
        byte[] before = Files.readAllBytes(image);
        assertEquals(1, run("-c", "write -P 0x22 0 4096", "-c", badCommand, image.toString()));
        assertTrue(err.toString().startsWith("ioemu-io: "), err.toString());
        assertTrue(err.toString().contains("expected"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(image), "an earlier valid command must not have run");
    }

    @Test
    void unknownOptionsAndMissingImageAreBadArguments() {
        assertEquals(1, run("--bogus", "-c", "flush", image.toString()));
        assertEquals(1, run("-c", "flush"));
        assertEquals(1, run("--cache", "fast", "-c", "flush", image.toString()));
        assertTrue(err.toString().contains("cache: 'fast' (expected: writeback, none"), err.toString());
    }

    @Test
    void discardAndWriteZeroesReachTheImage() throws Exception {
        assertEquals(0, run("-d", "unmap", "-c", "discard 0 64k", "-c", "write -z 64k 4k", image.toString()),
                err.toString());
        byte[] file = Files.readAllBytes(image);
        assertEquals(0, file[0]);
        assertEquals(0, file[65536 + 4095]);
        assertEquals(0x11, file[65536 + 4096]);
    }

    @Test
    void benchPrintsOneJsonObjectWithThroughputAndLatencyPercentiles() {
        assertEquals(0, run("bench", "--rw", "randwrite", "--bs", "4k", "--size", "1M", "--cache", "none",
                "--flush-every", "16", "--json", image.toString()), err.toString());
        String json = stdout().trim();
        assertTrue(json.startsWith("{") && json.endsWith("}") && !json.contains("\n"), json);
        for (String key : new String[] {"\"mbps\":", "\"iops\":", "\"lat_us_p50\":", "\"lat_us_p99\":",
                "\"ops\":256", "\"flushes\":16"}) {
            assertTrue(json.contains(key), key + " missing in " + json);
        }
    }

    @Test
    void benchRefusesASizeLargerThanTheImage() {
        assertEquals(1, run("bench", "--rw", "read", "--bs", "4k", "--size", "2M", image.toString()));
        assertTrue(err.toString().contains("is larger than the image"), err.toString());
    }

    @Test
    void benchRefusesAnUnknownPattern() throws Exception {
        byte[] before = Files.readAllBytes(image);
        assertEquals(1, run("bench", "--rw", "trim", "--size", "1M", image.toString()));
        assertTrue(err.toString().contains("--rw: 'trim' (expected: read, write, randread, randwrite)"));
        assertArrayEquals(before, Files.readAllBytes(image));
    }

    @Test
    void aLockedImageIsRefusedWithQemusMessage() throws Exception {
        try (var holder = dev.ioemu.devices.block.BlockDevices.open(
                dev.ioemu.devices.block.DriveOptions.parse("file=" + image))) {
            assertEquals(1, run("-c", "write 0 512", image.toString()));
            assertTrue(err.toString().contains("Failed to get \"write\" lock"), err.toString());
            assertEquals(0, run("-U", "-r", "-c", "read 0 512", image.toString()), err.toString());
        }
    }

    /** Issue 8 item 1: -U is qemu-io's force-share, for readers only; it never writes into a VM's image. */
    @Test
    void forceShareRefusesAWriterAsQemuIoDoes() throws Exception {
        byte[] before = Files.readAllBytes(image);
        try (var holder = dev.ioemu.devices.block.BlockDevices.open(
                dev.ioemu.devices.block.DriveOptions.parse("file=" + image))) {
            assertEquals(1, run("-U", "-c", "write -P 0x22 0 512", image.toString()));
            assertEquals("ioemu-io: can't open device " + image
                    + ": force-share=on can only be used with read-only images" + System.lineSeparator(), err.toString());
        }
        assertEquals(1, run("-U", "-c", "read 0 512", image.toString()), "even a read needs -r with -U (qemu-io)");
        assertEquals(1, run("bench", "-U", "--rw", "write", "--bs", "4k", "--size", "64k", image.toString()));
        assertArrayEquals(before, Files.readAllBytes(image));
    }

    /** Issue 8 item 8: -U with an explicit -o locking= is not "'locking' given twice". */
    @Test
    void forceShareWithExplicitLockingIsAccepted() {
        assertEquals(0, run("-U", "-r", "-o", "locking=off", "-c", "read -P 0x11 0 512", image.toString()), err.toString());
        assertEquals(0, run("-U", "-o", "readonly=on", "-c", "read -P 0x11 0 512", image.toString()), err.toString());
    }
}
