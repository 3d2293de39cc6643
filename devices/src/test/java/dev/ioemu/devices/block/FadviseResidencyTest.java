package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * fadvise mode leaves no page of the image in the host page cache after a flush, checked with
 * mincore as QEMU's {@code x-check-cache-dropped} does (shared/spec/block.md §1, §2.3, §5.5). Runs
 * without root, so it is the proof on machines where the loop-device test skips.
 */
@ExtendWith(NoLeakedBuffers.class)
class FadviseResidencyTest {
    static final int SIZE = 8 << 20;
    static final AlignedBufferPool POOL = new AlignedBufferPool(AlignedBufferPool.Settings.DEFAULT);

    @TempDir
    Path dir;


    private static RawImage open(Path file, CacheMode mode) throws BlockOpenException {
        return RawImage.open(DriveOptions.of(file.toString()).withCache(mode), POOL, RawImage.LIBC_HOST_CALLS);
    }

    private static void touch(RawImage image, long seed) {
        Random rnd = new Random(seed);
        ByteBuffer b = ByteBuffer.allocateDirect(10000);
        for (int i = 0; i < 50; i++) {
            long at = rnd.nextInt(SIZE - 10000);
            if (i % 2 == 0) {
                assertEquals(10000, image.write(at, b.clear()));
            } else {
                assertEquals(10000, image.read(at, b.clear()));
            }
        }
    }

    @Test
    void afterAFlushInFadviseModeNoPageOfTheImageIsResident() throws Exception {
        Path file = TestImages.randomImage(dir, "r.img", SIZE, 5);
        System.out.println("mincore residency check on " + file + " (" + TestImages.fsType(file.getParent()) + ")");
        try (RawImage image = open(file, CacheMode.FADVISE)) {
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE), "cache not dropped at open");
            touch(image, 7);
            assertTrue(TestImages.residentPages(file.toString(), SIZE) > 0, "the workload should have cached pages");
            assertEquals(0, image.flush());
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE), "pages still resident after the flush");
        }
    }

    @Test
    void writebackKeepsPagesResidentAfterAFlush() throws Exception {
        Path file = TestImages.randomImage(dir, "wb.img", SIZE, 6);
        try (RawImage image = open(file, CacheMode.WRITEBACK)) {
            touch(image, 8);
            assertEquals(0, image.flush());
            assertTrue(TestImages.residentPages(file.toString(), SIZE) > 0,
                    "writeback is expected to keep its cache (this is what fadvise changes)");
        }
    }

    @Test
    void aWriteOnlyWorkloadDropsOnlyTheWrittenRange() throws Exception {
        Path file = TestImages.randomImage(dir, "wo.img", SIZE, 9);
        try (RawImage image = open(file, CacheMode.FADVISE)) {
            assertEquals(4096 * 3, image.write(4096, ByteBuffer.allocateDirect(4096 * 3)));
            assertEquals(0, image.flush());
            assertEquals(2, image.cacheDrops(), "one drop at open, one after the flush");
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE));
            assertEquals(0, image.flush());
            assertEquals(2, image.cacheDrops(), "nothing touched since: no second drop");
            assertEquals(1, image.hostFlushes(), "nothing written since: no second fdatasync");
        }
    }

    @Test
    void dropPageCacheEmptiesTheCacheOfAWritebackImageAtAHandover() throws Exception {
        Path file = TestImages.randomImage(dir, "h.img", SIZE, 10);
        CountingHostCalls host = new CountingHostCalls();
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()), POOL, host)) {
            touch(image, 11);
            assertTrue(TestImages.residentPages(file.toString(), SIZE) > 0);
            assertEquals(0, image.dropPageCache());
            assertEquals(1, host.fdatasyncs.get(), "the handover flushes first");
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE));
            assertEquals(512, image.write(0, ByteBuffer.allocate(512)));
            host.failNextFdatasync(1, Errno.EIO);
            int drops = host.drops.get();
            assertEquals(-Errno.EIO, image.dropPageCache());
            assertEquals(drops, host.drops.get(), "no drop after a failed flush");
        }
    }

    /** Pages of {@code [offset, offset+length)} resident, page by page (mincore of the whole file). */
    private static int residentIn(Path file, long offset, long length) {
        int resident = TestImages.residentPages(file.toString(), SIZE);
        return resident == 0 ? 0 : TestImages.residentPagesIn(file.toString(), SIZE, offset, length);
    }

    /**
     * Every page a write touched leaves the cache after the flush, whatever its alignment: the
     * offsets and lengths below cover an unaligned head, tail, both, a write inside one page, one
     * byte, one crossing a page and one crossing a 64 KiB and a 2 MiB folio boundary.
     */
    @ParameterizedTest(name = "write {1} bytes at {0}")
    @CsvSource({"1000, 70000", "0, 1", "4095, 2", "4096, 65536", "4097, 4094", "511, 513", "65535, 65538",
            "100, 3000", "2097000, 1000", "3000000, 1048577", "8384607, 4001"})
    void everyPageAnUnalignedWriteTouchedIsDroppedAfterTheFlush(long offset, int length) throws Exception {
        Path file = TestImages.randomImage(dir, "u.img", SIZE, 12);
        try (RawImage image = open(file, CacheMode.FADVISE)) {
            ByteBuffer b = ByteBuffer.allocateDirect(length);
            assertEquals(length, image.write(offset, b));
            assertTrue(residentIn(file, offset, length) > 0, "the write left its pages cached before the flush");
            assertEquals(0, image.flush());
            assertEquals(0, residentIn(file, offset, length), "pages of the written range still resident");
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE), "pages of the image still resident");
        }
    }

    /** Heap (bounced) buffers and odd sizes from four threads at once, then one flush: nothing stays. */
    @Test
    void writesInFlightFromOtherThreadsAreAllDroppedByTheFlushAfterThem() throws Exception {
        Path file = TestImages.randomImage(dir, "t.img", SIZE, 13);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (RawImage image = open(file, CacheMode.FADVISE)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = 100 + t;
                writers.add(pool.submit(() -> {
                    Random rnd = new Random(seed);
                    start.await();
                    for (int i = 0; i < 200; i++) {
                        int len = 1 + rnd.nextInt(20000);
                        long at = rnd.nextInt(SIZE - len);
                        ByteBuffer buf = i % 2 == 0 ? ByteBuffer.allocate(len) : ByteBuffer.allocateDirect(len);
                        assertEquals(len, image.write(at, buf));
                        if (i % 50 == 49) {
                            assertEquals(0, image.flush(), "flushes while others write");
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : writers) {
                f.get(120, TimeUnit.SECONDS);
            }
            assertEquals(0, image.flush());
            assertEquals(0, TestImages.residentPages(file.toString(), SIZE), "pages still resident after the last flush");
        } finally {
            pool.shutdownNow();
        }
    }
}
