package dev.ioemu.devices.block;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link BlockDeviceContract} on a {@link RawImage} in every cache mode; the O_DIRECT modes
 * run twice, with the host's alignment (512 on this ext4) and with 4096 forced (the 4Kn paths).
 * The image size is a multiple of 512 but not of 4096, so the forced runs also cover a partial
 * last host block. After every test no pooled buffer may be outstanding.
 */
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

        @BeforeEach
        void openImage() throws IOException {
            file = TestImages.randomImage(dir, "contract.img", SIZE, 42);
            initial = TestImages.readAll(file);
            DriveOptions options = DriveOptions.of(file.toString()).withCache(mode())
                    .withForcedAlignment(forcedAlignment()).withDiscard(DiscardMode.UNMAP);
            image = RawImage.open(options, POOL, RawImage.LIBC_HOST_CALLS);
            if (forcedAlignment() != 0) {
                assertEquals(forcedAlignment(), image.requestAlignment());
            }
        }

        @AfterEach
        void closeImage() throws IOException {
            image.close();
            assertEquals(0, POOL.outstanding(), "pooled buffers leaked by " + mode());
            assertEquals(SIZE, Files.size(file), "the image size must not change");
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
}
