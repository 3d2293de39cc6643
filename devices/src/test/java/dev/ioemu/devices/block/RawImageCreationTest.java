package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Fcntl;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image creation's rules (shared/spec/block.md §9) and locks (§7.1), on real files. */
class RawImageCreationTest {
    @TempDir
    Path dir;

    @Test
    void preallocationOffLeavesAHoleAfterTheFirstBlock() throws Exception {
        Path file = dir.resolve("a.img");
        RawImageCreation.create(file.toString(), 64 << 20, Preallocation.OFF);
        assertEquals(64 << 20, Files.size(file));
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(file.toString()).withReadOnly(true))) {
            assertEquals(new BlockStatus(0, 4096, true), dev.blockStatus(0, dev.size()));
            assertEquals(new BlockStatus(4096, (64 << 20) - 4096, false), dev.blockStatus(4096, dev.size()));
            assertTrue(dev.allocatedSize() <= 8192, "allocated " + dev.allocatedSize());
        }
    }

    @Test
    void shrinkingWithPreallocationIsRefusedAndKeepsTheLength() throws Exception {
        Path file = dir.resolve("b.img");
        Files.write(file, new byte[8192]);
        int fd = LibC.open(file.toString(), Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
        try {
            BlockOpenException e = assertThrows(BlockOpenException.class,
                    () -> RawImageCreation.resize(fd, 8192, 4096, Preallocation.FALLOC));
            assertEquals("Cannot use preallocation for shrinking files", e.reason());
            RawImageCreation.resize(fd, 8192, 4096, Preallocation.OFF);
        } finally {
            LibC.close(fd);
        }
        assertEquals(4096, Files.size(file));
    }

    @Test
    void anImageSomeoneWritesIsRefusedBeforeAByteChanges() throws Exception {
        Path file = dir.resolve("c.img");
        byte[] data = new byte[8192];
        data[100] = 7;
        Files.write(file, data);
        try (BlockDevice writer = BlockDevices.open(DriveOptions.of(file.toString()))) {
            BlockOpenException e = assertThrows(BlockOpenException.class,
                    () -> RawImageCreation.create(file.toString(), 1 << 20, Preallocation.OFF));
            assertEquals("Failed to get \"write\" lock", e.reason());
        }
        assertArrayEquals(data, Files.readAllBytes(file));
    }
}
