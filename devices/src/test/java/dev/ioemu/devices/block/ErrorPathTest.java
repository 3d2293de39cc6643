package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Errors come back as negative errno values of the right kind and are never swallowed
 * (shared/spec/block.md §5.3): injected read/write/flush failures through the {@code -drive}
 * options, failed fdatasync latched for buffered images, and no page dropped after a failed
 * flush in fadvise mode.
 */
@ExtendWith(NoLeakedBuffers.class)
class ErrorPathTest {
    static final int SIZE = 1 << 20;

    @TempDir
    Path dir;


    private BlockDevice openWith(String options) throws Exception {
        Path file = TestImages.randomImage(dir, "e.img", SIZE, 1);
        return BlockDevices.open(DriveOptions.parse("file=" + file + "," + options));
    }

    @Nested
    class InjectedFromDriveOptions {
        @Test
        void anInjectedReadErrorSurfacesAsMinusEio() throws Exception {
            try (BlockDevice dev = openWith("inject-error.0.iotype=read,inject-error.0.errno=EIO")) {
                assertInstanceOf(FaultInjection.class, dev);
                assertEquals(-Errno.EIO, dev.read(0, ByteBuffer.allocate(512)));
                assertEquals(512, dev.write(0, ByteBuffer.allocate(512)), "writes are not selected");
                assertEquals(1, dev.stats().failed(BlockStats.Kind.READ));
            }
        }

        @Test
        void anInjectedWriteErrorHitsOnlyTheChosenSectors() throws Exception {
            try (BlockDevice dev = openWith("inject-error.0.iotype=write,inject-error.0.errno=28,"
                    + "inject-error.0.sector=8,inject-error.0.sectors=2")) {
                assertEquals(512, dev.write(0, ByteBuffer.allocate(512)));
                assertEquals(-Errno.ENOSPC, dev.write(4096, ByteBuffer.allocate(512)));
                assertEquals(-Errno.ENOSPC, dev.write(4000, ByteBuffer.allocate(200)), "touches sector 8");
                assertEquals(512, dev.write(5120, ByteBuffer.allocate(512)), "sector 10 is outside");
            }
        }

        @Test
        void anInjectedFlushErrorOnceAfterTwoFlushesFailsTheThirdAndIsLatched() throws Exception {
            try (BlockDevice dev = openWith("inject-error.0.iotype=flush,inject-error.0.errno=5,"
                    + "inject-error.0.once=on,inject-error.0.after=2")) {
                assertEquals(0, dev.flush());
                assertEquals(0, dev.flush());
                assertEquals(-Errno.EIO, dev.flush());
                // The injected error stands for a failed fdatasync: a buffered image latches it
                // (block.md §5.3), so the rule firing once still fails every later flush.
                assertEquals(-Errno.EIO, dev.flush(), "latched after the injected failure");
                assertEquals(1, ((FaultInjection) dev).injectedErrors());
            }
        }

        @Test
        void anInjectedFlushErrorOnceIsNotLatchedWithODirect() throws Exception {
            try (BlockDevice dev = openWith("cache=none,inject-error.0.iotype=flush,inject-error.0.once=on")) {
                assertEquals(-Errno.EIO, dev.flush());
                assertEquals(0, dev.flush(), "O_DIRECT: no page cache to be inconsistent, nothing latched");
            }
        }

        @Test
        void aPausedFlushCompletesOnlyWhenReleased() throws Exception {
            try (BlockDevice dev = openWith("cache=writeback")) {
                FaultInjection fi = new FaultInjection(dev, java.util.List.of());
                FaultInjection.Pause pause = fi.pauseBefore(FaultInjection.IoType.FLUSH);
                CompletableFuture<Integer> flush = CompletableFuture.supplyAsync(fi::flush);
                assertTrue(pause.awaitReached(10, TimeUnit.SECONDS), "flush never arrived");
                // The flush thread is inside the pause now and cannot return before release().
                assertFalse(flush.isDone(), "the flush must be held");
                pause.release();
                assertEquals(0, flush.get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Nested
    class FailedFdatasync {
        private RawImage open(CacheMode mode, CountingHostCalls host) throws Exception {
            Path file = TestImages.randomImage(dir, "f.img", SIZE, 2);
            return RawImage.open(DriveOptions.of(file.toString()).withCache(mode), AlignedBufferPool.shared(), host);
        }

        @ParameterizedTest(name = "cache={0}")
        @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "WRITETHROUGH", "FADVISE"})
        void isStickyOnBufferedImages(CacheMode mode) throws Exception {
            CountingHostCalls host = new CountingHostCalls();
            try (RawImage image = open(mode, host)) {
                image.setWriteCacheEnabled(true);
                assertEquals(512, image.write(0, ByteBuffer.allocate(512)));
                host.failNextFdatasync(1, Errno.EIO);
                assertEquals(-Errno.EIO, image.flush());
                int syncs = host.fdatasyncs.get();
                assertEquals(512, image.write(512, ByteBuffer.allocate(512)));
                assertEquals(-Errno.EIO, image.flush(), "the next fdatasync would succeed, the flush must not");
                assertEquals(-Errno.EIO, image.flush());
                assertEquals(syncs, host.fdatasyncs.get(), "fdatasync must not be retried after a failure");
                assertEquals(Errno.EIO, image.stickyFlushError());
                image.setWriteCacheEnabled(false);
                assertEquals(-Errno.EIO, image.write(0, ByteBuffer.allocate(512)),
                        "with WCE off a write is only acknowledged once durable");
            }
        }

        @Test
        void keepsTheErrnoOfTheFirstFailure() throws Exception {
            CountingHostCalls host = new CountingHostCalls();
            try (RawImage image = open(CacheMode.WRITEBACK, host)) {
                assertEquals(512, image.write(0, ByteBuffer.allocate(512)));
                host.failNextFdatasync(1, Errno.ENOSPC);
                assertEquals(-Errno.ENOSPC, image.flush());
                assertEquals(-Errno.ENOSPC, image.flush());
            }
        }

        @Test
        void isNotStickyWithODirect() throws Exception {
            CountingHostCalls host = new CountingHostCalls();
            try (RawImage image = open(CacheMode.NONE, host)) {
                assertEquals(512, image.write(0, ByteBuffer.allocateDirect(512)));
                host.failNextFdatasync(1, Errno.EIO);
                assertEquals(-Errno.EIO, image.flush());
                assertEquals(0, image.flush(), "O_DIRECT fds have no page cache to be inconsistent (QEMU's rule)");
            }
        }

        @Test
        void isRetriedOnlyOnEintr() throws Exception {
            CountingHostCalls host = new CountingHostCalls();
            try (RawImage image = open(CacheMode.WRITEBACK, host)) {
                assertEquals(512, image.write(0, ByteBuffer.allocate(512)));
                host.failNextFdatasync(2, Errno.EINTR);
                assertEquals(0, image.flush());
                assertEquals(3, host.fdatasyncs.get(), "two interrupted calls, then the real one");
            }
        }

        @Test
        void inFadviseModeDropsNoPagesAfterTheFailure() throws Exception {
            CountingHostCalls host = new CountingHostCalls();
            try (RawImage image = open(CacheMode.FADVISE, host)) {
                int dropsAtOpen = host.drops.get();
                assertEquals(1, dropsAtOpen, "fadvise drops the cache at open");
                assertEquals(4096, image.write(0, ByteBuffer.allocate(4096)));
                host.failNextFdatasync(1, Errno.EIO);
                assertEquals(-Errno.EIO, image.flush());
                assertEquals(-Errno.EIO, image.flush());
                assertEquals(dropsAtOpen, host.drops.get(), "DONTNEED after a failed fdatasync would lose the data");
            }
        }
    }
}
