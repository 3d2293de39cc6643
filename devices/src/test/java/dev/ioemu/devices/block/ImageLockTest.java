package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Fcntl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Image locking with QEMU's OFD lock bytes (shared/spec/block.md §7): a second writer is refused
 * with QEMU's message, read-only opens share, and ioemu and QEMU 7.2 refuse each other in both
 * directions while {@code qemu-img info} stays allowed.
 */
@ExtendWith(NoLeakedBuffers.class)
class ImageLockTest {
    @TempDir
    Path dir;
    Path file;

    @BeforeEach
    void createImage() throws Exception {
        file = TestImages.randomImage(dir, "lk.img", 1 << 20, 1);
    }

    private RawImage open(boolean readOnly) throws BlockOpenException {
        return RawImage.open(DriveOptions.of(file.toString()).withReadOnly(readOnly));
    }

    @Test
    void aSecondWriterIsRefusedWithQemusMessage() throws Exception {
        try (RawImage first = open(false)) {
            BlockOpenException e = assertThrows(BlockOpenException.class, () -> open(false));
            assertEquals("Failed to get \"write\" lock", e.reason());
            assertEquals("Is another process using the image [" + file + "]?", e.hint());
            assertEquals("Failed to get \"write\" lock\nIs another process using the image [" + file + "]?",
                    e.getMessage());
        }
    }

    @Test
    void closingTheWriterReleasesTheImage() throws Exception {
        open(false).close();
        try (RawImage second = open(false)) {
            assertEquals(file.toString(), second.name());
        }
    }

    @Test
    void readOnlyOpensShareWithEachOtherAndWithAWriter() throws Exception {
        try (RawImage reader1 = open(true); RawImage reader2 = open(true); RawImage writer = open(false);
             RawImage reader3 = open(true)) {
            assertTrue(reader1.isReadOnly() && reader2.isReadOnly() && reader3.isReadOnly() && !writer.isReadOnly());
        }
    }

    @Test
    void lockingOffOpensAlongsideAWriter() throws Exception {
        try (RawImage writer = open(false);
             RawImage unlocked = RawImage.open(DriveOptions.of(file.toString()).withLocking(LockingMode.OFF))) {
            assertFalse(unlocked.isReadOnly(), "locking=off opens read-write beside a writer");
        }
    }

    @Test
    void theWriterHoldsBytes100And101AndRefusesToShare201() throws Exception {
        try (RawImage writer = open(false)) {
            int fd = LibC.open(file.toString(), Fcntl.O_RDONLY | Fcntl.O_CLOEXEC, 0);
            try {
                Fcntl.Flock f = new Fcntl.Flock();
                for (int b : new int[] {100, 101, 201}) {
                    LibC.fcntl(fd, Fcntl.F_OFD_GETLK, f.set(Fcntl.F_WRLCK, b, 1).address());
                    assertEquals(Fcntl.F_RDLCK, f.type(), "byte " + b + " must be read-locked");
                }
                for (int b : new int[] {102, 103, 200, 202, 203, 0}) {
                    LibC.fcntl(fd, Fcntl.F_OFD_GETLK, f.set(Fcntl.F_WRLCK, b, 1).address());
                    assertEquals(Fcntl.F_UNLCK, f.type(), "byte " + b + " must be free");
                }
            } finally {
                LibC.close(fd);
            }
        }
    }

    @Nested
    class WithQemu {
        @BeforeEach
        void needQemu() {
            assumeTrue(TestImages.commandExists("qemu-io") && TestImages.commandExists("qemu-img"),
                    "skipped: qemu-io/qemu-img not installed (tests/setup.sh installs qemu-utils)");
        }

        @Test
        void qemuIoWriteIsRefusedWhileWeHoldTheImage() throws Exception {
            try (RawImage writer = open(false)) {
                TestImages.Result r = TestImages.run(List.of("qemu-io", "-f", "raw", "-c", "write 0 512", file.toString()));
                assertNotEquals(0, r.exit(), r.output());
                assertTrue(r.output().contains("Failed to get \"write\" lock"), r.output());
                assertTrue(r.output().contains("Is another process using the image"), r.output());
            }
        }

        @Test
        void qemuImgInfoIsAllowedWhileWeHoldTheImage() throws Exception {
            try (RawImage writer = open(false)) {
                TestImages.Result r = TestImages.run(List.of("qemu-img", "info", "-f", "raw", file.toString()));
                assertEquals(0, r.exit(), r.output());
            }
        }

        @Test
        void aReadOnlyQemuIoIsAllowedWhileWeHoldTheImage() throws Exception {
            try (RawImage writer = open(false)) {
                TestImages.Result r = TestImages.run(List.of("qemu-io", "-r", "-f", "raw", "-c", "read 0 512",
                        file.toString()));
                assertEquals(0, r.exit(), r.output());
                assertTrue(r.output().contains("read 512/512 bytes at offset 0"), r.output());
            }
        }

        @Test
        void qemuImgConvertIsRefusedBecauseItWillNotShareWrite() throws Exception {
            try (RawImage writer = open(false)) {
                TestImages.Result r = TestImages.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "raw",
                        file.toString(), dir.resolve("copy.img").toString()));
                assertNotEquals(0, r.exit(), r.output());
                assertTrue(r.output().contains("Failed to get shared \"write\" lock"), r.output());
            }
        }

        @Test
        void weRefuseAnImageAQemuVmHolds() throws Exception {
            assumeTrue(TestImages.commandExists("qemu-system-x86_64"),
                    "skipped: qemu-system-x86_64 not installed (tests/setup.sh installs qemu-system-x86)");
            Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S",
                    "-nodefaults", "-display", "none", "-drive", "file=" + file + ",format=raw,if=ide")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try {
                BlockOpenException refused = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (refused == null && System.nanoTime() < deadline && qemu.isAlive()) {
                    try {
                        open(false).close();
                        Thread.sleep(100);
                    } catch (BlockOpenException e) {
                        refused = e;
                    }
                }
                assertTrue(refused != null, "QEMU never locked the image (alive=" + qemu.isAlive() + ")");
                assertEquals("Failed to get \"write\" lock", refused.reason());
                try (RawImage reader = open(true)) {
                    assertTrue(reader.isReadOnly(), "a read-only open shares with QEMU's writer");
                }
            } finally {
                qemu.destroy();
                if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly().waitFor();
                }
            }
        }
    }
}
