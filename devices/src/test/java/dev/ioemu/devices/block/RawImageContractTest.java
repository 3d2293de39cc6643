package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link BlockDeviceContract} on a {@link RawImage} in every cache mode; the O_DIRECT modes
 * run twice, with the host's alignment (512 on this ext4) and with 4096 forced (the 4Kn paths).
 * The image size is a multiple of 512 but not of 4096, so the forced runs also cover a partial
 * last host block. After every test no pooled buffer may be outstanding.
 */
@ExtendWith(NoLeakedBuffers.class)
class RawImageContractTest {
    static final int SIZE = (4 << 20) + 1536;
    static final AlignedBufferPool POOL = new AlignedBufferPool(AlignedBufferPool.Settings.DEFAULT);

    abstract static class OnRawImage implements BlockDeviceContract {
        @TempDir
        Path dir;
        Path file;
        RawImage image;
        byte[] initial;

        abstract CacheMode mode();

        int forcedAlignment() {
            return 0;
        }

        /** The path our layer opens; the image file unless a subclass puts a device over it. */
        String openedPath() throws Exception {
            return file.toString();
        }

        @BeforeEach
        void openImage() throws Exception {
            file = TestImages.randomImage(dir, "contract.img", SIZE, 42);
            initial = TestImages.readAll(file);
            DriveOptions options = DriveOptions.of(openedPath()).withCache(mode())
                    .withForcedAlignment(forcedAlignment()).withDiscard(DiscardMode.UNMAP);
            image = RawImage.open(options, POOL, RawImage.LIBC_HOST_CALLS);
            if (forcedAlignment() != 0) {
                assertEquals(forcedAlignment(), image.requestAlignment());
            }
            initial = java.util.Arrays.copyOf(initial, (int) image.size());
        }

        @AfterEach
        void closeImage() throws Exception {
            try {
                image.close();
                assertEquals(0, POOL.outstanding(), "pooled buffers leaked by " + mode());
                assertEquals(initial.length, Files.size(file), "the image size must not change");
            } finally {
                afterClose();
            }
        }

        void afterClose() throws Exception {
        }

        @Override
        public BlockDevice device() {
            return image;
        }

        @Override
        public byte[] initialContents() {
            return initial;
        }
    }

    @Nested
    class Writeback extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.WRITEBACK;
        }
    }

    @Nested
    class NoneHostAlignment extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.NONE;
        }
    }

    @Nested
    class NoneForced4096 extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.NONE;
        }

        @Override
        int forcedAlignment() {
            return 4096;
        }
    }

    @Nested
    class Writethrough extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.WRITETHROUGH;
        }
    }

    @Nested
    class DirectsyncHostAlignment extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.DIRECTSYNC;
        }
    }

    @Nested
    class DirectsyncForced4096 extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.DIRECTSYNC;
        }

        @Override
        int forcedAlignment() {
            return 4096;
        }
    }

    @Nested
    class Unsafe extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.UNSAFE;
        }
    }

    @Nested
    class Fadvise extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.FADVISE;
        }
    }

    /** The 4Kn host device of block.md §13 item 2: a 4096-byte-sector loop device, O_DIRECT. */
    @Nested
    class NoneOn4KnLoopDevice extends OnRawImage {
        TestImages.LoopDevice loop;

        @Override
        CacheMode mode() {
            return CacheMode.NONE;
        }

        @Override
        String openedPath() throws Exception {
            // A loop device's size must be a multiple of its sector size, or its last block fails EIO.
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(SIZE & ~4095);
            }
            loop = TestImages.LoopDevice.attachOrSkip(file, 4096);
            return loop.path;
        }

        @Override
        void afterClose() throws Exception {
            if (loop != null) {
                loop.close();
            }
        }

        @org.junit.jupiter.api.Test
        void theLoopDeviceReallyNeeds4096ByteRequests() {
            assertEquals(4096, image.requestAlignment());
            assertEquals(SIZE & ~4095, image.size());
        }
    }

    /** A 4Kn device opened buffered, where the kernel does the read-modify-write. */
    @Nested
    class FadviseOn4KnLoopDevice extends OnRawImage {
        TestImages.LoopDevice loop;

        @Override
        CacheMode mode() {
            return CacheMode.FADVISE;
        }

        @Override
        String openedPath() throws Exception {
            // A loop device's size must be a multiple of its sector size, or its last block fails EIO.
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(SIZE & ~4095);
            }
            loop = TestImages.LoopDevice.attachOrSkip(file, 4096);
            return loop.path;
        }

        @Override
        void afterClose() throws Exception {
            if (loop != null) {
                loop.close();
            }
        }
    }

    /**
     * tmpfs: statx reports no direct-I/O alignment there, so the trial-read probe decides (or
     * open refuses with the cache.direct=off hint on kernels whose tmpfs rejects O_DIRECT).
     */
    @Nested
    class NoneOnTmpfs extends OnRawImage {
        @Override
        CacheMode mode() {
            return CacheMode.NONE;
        }

        @Override
        String openedPath() throws Exception {
            Path shm = Path.of("/dev/shm");
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm)
                    && "tmpfs".equals(TestImages.fsType(shm)), "skipped: no tmpfs at /dev/shm");
            Path onTmpfs = Files.createTempFile(shm, "ioemu-contract", ".img");
            Files.copy(file, onTmpfs, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.delete(file);
            Files.createSymbolicLink(file, onTmpfs);
            try {
                RawImage.open(DriveOptions.of(onTmpfs.toString()).withCache(CacheMode.NONE), POOL,
                        RawImage.LIBC_HOST_CALLS).close();
            } catch (BlockOpenException e) {
                assertEquals("Try cache.direct=off (e.g. cache=writeback or cache=fadvise)", e.hint());
                org.junit.jupiter.api.Assumptions.abort("skipped: this kernel's tmpfs refuses O_DIRECT: " + e.reason());
            }
            return onTmpfs.toString();
        }

        @Override
        void afterClose() throws Exception {
            Files.deleteIfExists(file.toRealPath());
        }

        @org.junit.jupiter.api.Test
        void theTrialReadProbeChoseTheAlignment() {
            System.out.println("tmpfs O_DIRECT alignment: " + image.requestAlignment() + "/" + image.memoryAlignment());
            org.junit.jupiter.api.Assertions.assertTrue(image.requestAlignment() >= 512, "probed " + image.requestAlignment());
        }
    }
}
