package dev.ioemu.devices.ide;

import static dev.ioemu.devices.ide.Ata.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A guest cannot make the IDE model allocate or work without bound (issue 14, resource limits):
 * a PRD table of 65,536 entries without EOT, a table that runs to the end of guest RAM, and
 * ATAPI PACKET commands asking for 2^32 − 1 blocks or 65,535 × 2 KiB, or abandoned after one
 * chunk, are all answered within a
 * time bound, the heap does not grow with what the guest asked for, guest memory outside the
 * table's buffers is untouched, and the drive answers the next command. Drives the model as a
 * guest driver does ({@link AtaTestDriver}).
 */
@Timeout(120)
class IdeResourceLimitTest {
    static final long TABLE = 0x100000;
    static final long BUFFER = 0x800000;

    static long heapUsed() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        System.gc();
        return m.getHeapMemoryUsage().getUsed();
    }

    /** 65,536 PRD entries of two bytes each, none with EOT: the engine walks a bounded part of it. */
    @Test
    void aPrdTableOf64KEntriesWithoutEotEndsTheCommand() {
        MemoryBlockDevice disk = new MemoryBlockDevice(8 << 20);
        AtaTestDriver ata = AtaTestDriver.withDisk(disk);
        try {
            byte[] table = new byte[65536 * 8];
            for (int i = 0; i < 65536; i++) {
                long addr = BUFFER + 2L * i;
                table[8 * i] = (byte) addr;
                table[8 * i + 1] = (byte) (addr >> 8);
                table[8 * i + 2] = (byte) (addr >> 16);
                table[8 * i + 3] = (byte) (addr >> 24);
                table[8 * i + 4] = 2;   // two bytes, no EOT
            }
            ata.memory.write(TABLE, table, 0, table.length);
            byte[] guard = new byte[4096];
            Arrays.fill(guard, (byte) 0xEE);
            ata.memory.write(BUFFER + 2L * 65536, guard, 0, guard.length);
            long heap = heapUsed();
            long t0 = System.nanoTime();
            var done = ata.driver.dma(dev.ioemu.devices.ide.guest.DmaRequest.of(CMD_READ_DMA, 0, 256, TABLE));
            long took = System.nanoTime() - t0;
            long grew = heapUsed() - heap;
            System.out.printf("IdeResourceLimitTest: READ DMA of 256 sectors over 65,536 two-byte PRDs without EOT: %s in"
                    + " %d ms, heap %+d KiB%n", done, took / 1_000_000, grew / 1024);
            assertEquals(0, done.ataStatus() & STATUS_BSY, "the command ended");
            assertTrue(took < 30_000_000_000L, "bounded: " + took / 1_000_000 + " ms");
            assertTrue(grew < 32 << 20, "heap grew by " + grew / 1024 + " KiB");
            byte[] after = new byte[guard.length];
            ata.memory.read(BUFFER + 2L * 65536, after, 0, after.length);
            assertArrayEquals(guard, after, "nothing written past the last PRD's buffer");
            assertEquals(STATUS_DRDY, ata.driver.flushCache() & (STATUS_DRDY | STATUS_ERR), "the drive answers after it");
        } finally {
            ata.close();
        }
    }

    /** A table whose entries run to the last bytes of guest RAM and beyond: no access outside RAM, the command ends. */
    @Test
    void aPrdTableAtTheEndOfRamEndsTheCommand() {
        MemoryBlockDevice disk = new MemoryBlockDevice(8 << 20);
        AtaTestDriver ata = AtaTestDriver.withDisk(disk);
        try {
            long table = AtaTestDriver.RAM_SIZE - 16;   // two entries fit, the walk then leaves RAM
            byte[] t = new byte[16];
            for (int i = 0; i < 2; i++) {
                long addr = AtaTestDriver.RAM_SIZE - 512;
                t[8 * i] = (byte) addr;
                t[8 * i + 1] = (byte) (addr >> 8);
                t[8 * i + 2] = (byte) (addr >> 16);
                t[8 * i + 3] = (byte) (addr >> 24);
                t[8 * i + 5] = 0x10;   // 4 KiB: runs past the end of RAM
            }
            ata.memory.write(table, t, 0, t.length);
            var done = ata.driver.dma(dev.ioemu.devices.ide.guest.DmaRequest.of(CMD_READ_DMA, 0, 64, table));
            assertEquals(0, done.ataStatus() & STATUS_BSY, "the command ended: " + done);
            assertEquals(STATUS_DRDY, ata.driver.flushCache() & (STATUS_DRDY | STATUS_ERR), "the drive answers after it");
        } finally {
            ata.close();
        }
    }

    static byte[] read12(long lba, long blocks) {
        return new byte[] {(byte) 0xA8, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba,
                (byte) (blocks >> 24), (byte) (blocks >> 16), (byte) (blocks >> 8), (byte) blocks, 0, 0};
    }

    static byte[] read10(long lba, int blocks) {
        return new byte[] {0x28, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba, 0,
                (byte) (blocks >> 8), (byte) blocks, 0, 0, 0};
    }

    /** PACKET READ(12) of 2^32 − 1 blocks, READ(10) of 65,535 blocks and whole-disc reads abandoned mid-way, 1000 in all. */
    @Test
    void hugeAtapiTransfersAreRefusedOrStreamedWithoutAllocatingThem() {
        MemoryBlockDevice media = new MemoryBlockDevice(64 * 2048);
        AtaTestDriver ata = new AtaTestDriver();
        try {
            ata.ide.attach(0, 0, IdeDriveConfig.cdrom(media));
            ata.enableBusMaster();
            // clear the power-on unit attention
            for (int i = 0; i < 2; i++) {
                ata.driver.startPacket(2048, 0);
                ata.driver.writePacket(new byte[12]);
                ata.awaitNotBusy();
                ata.status();
            }
            long heap = heapUsed();
            long t0 = System.nanoTime();
            int errors = 0;
            for (int i = 0; i < 1000; i++) {
                // past the end: 2^32 - 1 or 65,535 blocks; within it: the whole disc, streamed
                byte[] cdb = i % 4 == 0 ? read12(i % 64, 0xFFFF_FFFFL) : i % 4 == 1 ? read10(i % 64, 0xFFFF) : read10(0, 64);
                ata.driver.startPacket(0xFFFE, 0);
                ata.driver.writePacket(cdb);
                ata.awaitNotBusy();
                int st = ata.status();
                if ((st & STATUS_ERR) != 0) {
                    errors++;
                    continue;
                }
                // the guest reads one chunk and gives up: a device reset ends the transfer
                if ((st & STATUS_DRQ) != 0) {
                    int count = ata.driver.byteCount();
                    for (int w = 0; w < Math.min(count, 4096) / 2; w++) {
                        ata.inw(ata.base);
                    }
                }
                ata.outb(ata.base + REG_COMMAND, CMD_DEVICE_RESET);
                ata.awaitNotBusy();
                ata.status();
            }
            long took = System.nanoTime() - t0;
            long grew = heapUsed() - heap;
            System.out.printf("IdeResourceLimitTest: 1000 PACKET reads on a 64-block CD (2^32-1 and 65,535 blocks, and the"
                    + " whole disc cut off by DEVICE RESET after one chunk): %d refused, in %d ms, heap %+d KiB%n", errors,
                    took / 1_000_000, grew / 1024);
            assertEquals(500, errors, "the reads past the end are refused (ILLEGAL REQUEST), the others stream");
            assertTrue(grew < 32 << 20, "heap grew by " + grew / 1024 + " KiB");
            // the drive still reads correctly
            ata.driver.startPacket(2048, 0);
            ata.driver.writePacket(read10(3, 1));
            ata.awaitNotBusy();
            assertEquals(STATUS_DRQ, ata.status() & (STATUS_DRQ | STATUS_ERR));
            byte[] got = new byte[2048];
            for (int w = 0; w < 1024; w++) {
                int v = ata.inw(ata.base);
                got[2 * w] = (byte) v;
                got[2 * w + 1] = (byte) (v >> 8);
            }
            assertArrayEquals(Arrays.copyOfRange(media.bytes(), 3 * 2048, 4 * 2048), got);
        } finally {
            ata.close();
        }
    }
}
