package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * TRIM (shared/spec/block.md §6): dropped with {@code discard=ignore} (QEMU's default); with
 * {@code discard=unmap} a regular file gets a hole punched, which reads back as zeros and frees
 * the blocks, while the bytes around it stay.
 */
@ExtendWith(NoLeakedBuffers.class)
class DiscardTest {
    static final int SIZE = 1 << 20;

    @TempDir
    Path dir;


    /** st_blocks (512-byte units), from stat(1): the JDK has no portable attribute for it. */
    private static long allocatedSectors(Path file) throws Exception {
        TestImages.Result r = TestImages.run(java.util.List.of("stat", "-c", "%b", file.toString()));
        assertEquals(0, r.exit(), r.output());
        return Long.parseLong(r.output().trim());
    }

    private static byte[] read(RawImage image, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        assertEquals(length, image.read(offset, b));
        return b.array();
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "NONE", "FADVISE"})
    void unmapPunchesAHoleThatReadsAsZerosAndKeepsTheNeighbours(CacheMode mode) throws Exception {
        Path file = TestImages.randomImage(dir, "d.img", SIZE, 1);
        byte[] model = TestImages.readAll(file);
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(mode)
                .withDiscard(DiscardMode.UNMAP))) {
            long blocksBefore = allocatedSectors(file);
            assertEquals(0, image.discard(4096, 256 << 10));
            assertEquals(0, image.discard(300_000 + 7, 1000));
            Arrays.fill(model, 4096, 4096 + (256 << 10), (byte) 0);
            Arrays.fill(model, 300_007, 301_007, (byte) 0);
            assertArrayEquals(model, read(image, 0, SIZE));
            long blocksAfter = allocatedSectors(file);
            assertEquals(blocksBefore - (256 << 10) / 512, blocksAfter, "the punched range must be freed");
            assertEquals(2, image.stats().operations(BlockStats.Kind.DISCARD));
        }
    }

    @Test
    void ignoreLeavesTheImageUntouched() throws Exception {
        Path file = TestImages.randomImage(dir, "i.img", SIZE, 2);
        byte[] model = TestImages.readAll(file);
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()))) {
            assertEquals(0, image.discard(0, SIZE));
            assertArrayEquals(model, read(image, 0, SIZE));
        }
    }

    @Test
    void aDiscardPastTheEndIsEinval() throws Exception {
        Path file = TestImages.randomImage(dir, "e.img", SIZE, 3);
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withDiscard(DiscardMode.UNMAP))) {
            assertEquals(-Errno.EINVAL, image.discard(SIZE - 512, 1024));
        }
    }

    @Test
    void onABlockDeviceUnmapIssuesBlkdiscardForTheWholeSectorsInside() throws Exception {
        Path file = TestImages.randomImage(dir, "bd.img", SIZE, 4);
        byte[] model = TestImages.readAll(file);
        try (TestImages.LoopDevice loop = TestImages.LoopDevice.attachOrSkip(file, 512);
             RawImage image = RawImage.open(DriveOptions.of(loop.path).withCache(CacheMode.NONE)
                     .withDiscard(DiscardMode.UNMAP))) {
            // [1000, 1000+9000) covers whole sectors 1024..9728; the partial ends stay (discard is advisory).
            assertEquals(0, image.discard(1000, 9000));
            assertEquals(1, image.stats().operations(BlockStats.Kind.DISCARD));
            byte[] got = read(image, 0, 16384);
            assertArrayEquals(Arrays.copyOfRange(model, 0, 1024), Arrays.copyOfRange(got, 0, 1024));
            assertArrayEquals(Arrays.copyOfRange(model, 9728, 16384), Arrays.copyOfRange(got, 9728, 16384));
            // The loop driver punches the backing file, so the discarded sectors read as zeros.
            assertArrayEquals(new byte[9728 - 1024], Arrays.copyOfRange(got, 1024, 9728));
        }
    }

    @Test
    void onA4KnBlockDeviceUnmapDiscardsOnlyWhole4096ByteBlocks() throws Exception {
        Path file = TestImages.randomImage(dir, "bd4k.img", SIZE, 5);
        byte[] model = TestImages.readAll(file);
        try (TestImages.LoopDevice loop = TestImages.LoopDevice.attachOrSkip(file, 4096);
             RawImage image = RawImage.open(DriveOptions.of(loop.path).withDiscard(DiscardMode.UNMAP))) {
            // [1000, 10000) contains one whole 4096-byte block, 4096..8192; a 512-aligned BLKDISCARD would be EINVAL.
            assertEquals(0, image.discard(1000, 9000));
            byte[] got = read(image, 0, 16384);
            assertArrayEquals(Arrays.copyOfRange(model, 0, 4096), Arrays.copyOfRange(got, 0, 4096));
            assertArrayEquals(new byte[4096], Arrays.copyOfRange(got, 4096, 8192));
            assertArrayEquals(Arrays.copyOfRange(model, 8192, 16384), Arrays.copyOfRange(got, 8192, 16384));
        }
    }
}
