package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The zero-copy path allocates nothing per request (buffered modes) or one small tracker entry
 * (O_DIRECT): guest RAM goes to pread/pwrite in place, with no bounce and no garbage
 * (STYLE.md "no allocation on the exit path"; block.md §4.1 "aligned → issue directly").
 */
@ExtendWith(NoLeakedBuffers.class)
class HotPathAllocationTest {
    @TempDir
    Path dir;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static long bytesPerRequest(RawImage image, ByteBuffer buf, int requests) {
        long blocks = image.size() / buf.capacity();
        for (int i = 0; i < 20_000; i++) {
            assertEquals(buf.capacity(), image.write(i % blocks * buf.capacity(), buf.clear()));
            assertEquals(buf.capacity(), image.read(i % blocks * buf.capacity(), buf.clear()));
        }
        long before = allocatedBytes();
        for (int i = 0; i < requests; i++) {
            image.write(i % blocks * buf.capacity(), buf.clear());
            image.read(i % blocks * buf.capacity(), buf.clear());
        }
        long perRequest = (allocatedBytes() - before) / (2L * requests);
        System.out.println("cache=" + image.cacheMode() + ": " + perRequest + " bytes allocated per request");
        return perRequest;
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "UNSAFE", "FADVISE"})
    void alignedDirectBufferRequestsAllocateNothingInBufferedModes(CacheMode mode) throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "skipped: this JVM cannot count allocated bytes per thread");
        Path file = TestImages.randomImage(dir, "a.img", 1 << 20, 1);
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(mode))) {
            long perRequest = bytesPerRequest(image, TestImages.alignedDirect(4096), 20_000);
            assertTrue(perRequest < 8, "cache=" + mode + ": " + perRequest + " bytes allocated per request");
        }
    }

    @Test
    void alignedDirectBufferRequestsAllocateOnlyATrackerEntryWithODirect() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "skipped: this JVM cannot count allocated bytes per thread");
        Path file = TestImages.randomImage(dir, "d.img", 1 << 20, 2);
        try (RawImage image = RawImage.open(DriveOptions.of(file.toString()).withCache(CacheMode.NONE))) {
            long perRequest = bytesPerRequest(image, TestImages.alignedDirect(4096), 2_000);
            assertTrue(perRequest <= 48, "cache=none: " + perRequest + " bytes allocated per request");
        }
    }
}
