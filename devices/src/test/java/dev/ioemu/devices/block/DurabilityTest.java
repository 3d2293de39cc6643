package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * When a write is acknowledged, where is it (shared/spec/block.md §2, §5)? With the guest write
 * cache off — writethrough, directsync, or any mode after SET FEATURES 82h — every acknowledged
 * write is already below the page cache: another process reading the backing file of our loop
 * device with O_DIRECT sees it without any flush. {@code unsafe} flushes return at once without
 * fdatasync, and flushes with nothing written since the last one skip the syscall.
 */
@ExtendWith(NoLeakedBuffers.class)
class DurabilityTest {
    static final int SIZE = 4 << 20;
    static final AlignedBufferPool POOL = new AlignedBufferPool(AlignedBufferPool.Settings.DEFAULT);

    @TempDir
    Path dir;


    /** Reads 4096 bytes at {@code offset} of {@code file} with O_DIRECT in a separate dd process. */
    private static byte[] readInAnotherProcess(Path file, long offset) throws Exception {
        Process p = new ProcessBuilder("dd", "if=" + file, "iflag=direct", "bs=4096", "skip=" + offset / 4096,
                "count=1", "status=none").start();
        byte[] out = p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), new String(p.getErrorStream().readAllBytes()));
        return out;
    }

    private static void assertEachWriteIsBelowTheCache(RawImage image, Path file) throws Exception {
        for (int i = 0; i < 4; i++) {
            long at = (1 << 20) + i * 8192L;
            byte[] data = TestImages.filled(4096, 0x30 + i);
            assertEquals(4096, image.write(at, ByteBuffer.wrap(data)));
            assertArrayEquals(data, readInAnotherProcess(file, at), image.cacheMode() + " write " + i
                    + " acknowledged but not below the page cache");
            // An unaligned sector-sized write too (the RMW path with O_DIRECT).
            byte[] sector = TestImages.filled(512, 0x40 + i);
            assertEquals(512, image.write(at + 4096 + 512, ByteBuffer.wrap(sector)));
            byte[] block = readInAnotherProcess(file, at + 4096);
            assertArrayEquals(sector, java.util.Arrays.copyOfRange(block, 512, 1024));
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITETHROUGH", "DIRECTSYNC"})
    void writeThroughModesMakeEveryWriteDurableWithoutAFlush(CacheMode mode) throws Exception {
        Path file = TestImages.randomImage(dir, "d.img", SIZE, 1);
        try (TestImages.LoopDevice loop = TestImages.LoopDevice.attachOrSkip(file, 512);
             RawImage image = RawImage.open(DriveOptions.of(loop.path).withCache(mode), POOL,
                     RawImage.LIBC_HOST_CALLS)) {
            assertFalse(image.isWriteCacheEnabled(), mode + " must default to WCE off");
            assertEachWriteIsBelowTheCache(image, file);
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "NONE", "FADVISE"})
    void turningTheWriteCacheOffMakesEveryWriteDurableWithoutAFlush(CacheMode mode) throws Exception {
        Path file = TestImages.randomImage(dir, "wce.img", SIZE, 2);
        try (TestImages.LoopDevice loop = TestImages.LoopDevice.attachOrSkip(file, 512);
             RawImage image = RawImage.open(DriveOptions.of(loop.path).withCache(mode), POOL,
                     RawImage.LIBC_HOST_CALLS)) {
            image.setWriteCacheEnabled(false);
            assertEachWriteIsBelowTheCache(image, file);
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITETHROUGH", "DIRECTSYNC"})
    void writeThroughModesAreReadableWithODirectOnTheSameFileAfterEachWrite(CacheMode mode) throws Exception {
        // Same-inode O_DIRECT readers are coherent in every mode (block.md §2.2); this is the
        // no-root variant, the loop-device tests above are the below-cache proof.
        Path file = TestImages.randomImage(dir, "same.img", SIZE, 3);
        CountingHostCalls host = new CountingHostCalls();
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(mode), POOL, host)) {
            for (int i = 0; i < 3; i++) {
                byte[] data = TestImages.filled(4096, 0x50 + i);
                assertEquals(4096, image.write(i * 4096L, ByteBuffer.wrap(data)));
                assertEquals(i + 1, host.fdatasyncs.get(), "one fdatasync per acknowledged write");
                assertArrayEquals(data, readInAnotherProcess(file, i * 4096L));
            }
        }
    }

    @Test
    void unsafeFlushReturnsAtOnceWithoutFdatasync() throws Exception {
        Path file = TestImages.randomImage(dir, "u.img", SIZE, 4);
        CountingHostCalls host = new CountingHostCalls();
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(CacheMode.UNSAFE), POOL, host)) {
            assertEquals(4096, image.write(0, ByteBuffer.allocate(4096)));
            for (int i = 0; i < 5; i++) {
                assertEquals(0, image.flush());
            }
            image.setWriteCacheEnabled(false);
            assertEquals(4096, image.write(0, ByteBuffer.allocate(4096)));
            assertEquals(0, host.fdatasyncs.get(), "cache=unsafe must never reach fdatasync");
            assertEquals(0, image.hostFlushes());
            assertEquals(5, image.stats().operations(BlockStats.Kind.FLUSH));
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "NONE", "FADVISE"})
    void aFlushWithNothingWrittenSinceTheLastOneSkipsFdatasync(CacheMode mode) throws Exception {
        Path file = TestImages.randomImage(dir, "g.img", SIZE, 5);
        CountingHostCalls host = new CountingHostCalls();
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(mode), POOL, host)) {
            assertEquals(0, image.flush());
            assertEquals(0, host.fdatasyncs.get(), "nothing written yet");
            assertEquals(512, image.write(512, ByteBuffer.allocate(512)));
            assertEquals(0, image.flush());
            assertEquals(0, image.flush());
            assertEquals(1, host.fdatasyncs.get());
            assertEquals(512, image.write(0, ByteBuffer.allocate(512)));
            assertEquals(0, image.flush());
            assertEquals(2, host.fdatasyncs.get());
        }
    }

    @Test
    void theBlockDeviceSizeComesFromBlkgetsize64() throws Exception {
        Path file = TestImages.randomImage(dir, "s.img", SIZE, 6);
        try (TestImages.LoopDevice loop = TestImages.LoopDevice.attachOrSkip(file, 4096);
             RawImage image = RawImage.open(DriveOptions.of(loop.path).withCache(CacheMode.NONE), POOL,
                     RawImage.LIBC_HOST_CALLS)) {
            assertEquals(SIZE, image.size());
            assertEquals(4096, image.requestAlignment(), "a 4Kn loop device needs 4096-byte O_DIRECT requests");
            byte[] data = TestImages.filled(512, 0x61);
            assertEquals(512, image.write(512, ByteBuffer.wrap(data)), "a 512-byte guest write on a 4Kn device");
            ByteBuffer back = ByteBuffer.allocate(512);
            assertEquals(512, image.read(512, back));
            assertArrayEquals(data, back.array());
        }
    }
}
