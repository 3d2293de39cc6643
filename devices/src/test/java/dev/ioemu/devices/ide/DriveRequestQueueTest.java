package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockAio;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The machine finds a drive by IDE index; firmware requests on its queue and the controller's see each other. */
class DriveRequestQueueTest {
    @Test
    void drivesAreFoundByIdeIndexWithTheirSizeGeometryAndQueue() {
        MemoryBlockDevice disk = new MemoryBlockDevice(1L << 20);
        AtaTestDriver ata = AtaTestDriver.withDisk(disk);
        IdeDevice drive = ata.ide.drive(0);
        assertNotNull(drive);
        assertEquals(IdeDriveKind.DISK, drive.kind());
        assertEquals(2048, drive.sectorCount());
        assertEquals(new Geometry(2, 16, 63), drive.geometry());
        assertSame(disk, drive.requestQueue().device());
        assertNull(ata.ide.drive(1), "no drive at primary slave");
        assertThrows(IllegalArgumentException.class, () -> ata.ide.drive(4));
    }

    @Test
    void aFirmwareWriteOnTheDrivesQueueIsWhatTheGuestReadsThroughTheController() throws Exception {
        MemoryBlockDevice disk = new MemoryBlockDevice(1L << 20);
        AtaTestDriver ata = AtaTestDriver.withDisk(disk);
        BlockAio queue = ata.ide.drive(0).requestQueue();
        byte[] sector = new byte[512];
        for (int i = 0; i < sector.length; i++) {
            sector[i] = (byte) (i * 7);
        }
        CompletableFuture<Integer> done = new CompletableFuture<>();
        queue.write(5 * 512L, ByteBuffer.wrap(sector), done::complete);
        assertEquals(512, done.get(10, TimeUnit.SECONDS));
        assertArrayEquals(sector, ata.readSectorsPio(5, 1));
    }
}
