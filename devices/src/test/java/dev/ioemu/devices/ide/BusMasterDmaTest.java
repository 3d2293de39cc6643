package dev.ioemu.devices.ide;

import dev.ioemu.devices.host.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static dev.ioemu.devices.ide.Ata.*;
import static dev.ioemu.devices.ide.AtaTestDriver.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bus-master DMA as QEMU's ide-test /ide/bmdma/... drives it (shared/spec/ide.md §8, qtest.md §7):
 * PRD tables short/exact/long, 64 KiB entries, Stop right after Start, bus mastering off,
 * TRIM, and malformed tables that must never throw.
 */
@Timeout(120)
class BusMasterDmaTest {
    static final long SMALL_IMAGE = 8 << 20;
    static final long SECTORS = SMALL_IMAGE / 512;
    static final long BUFFER = 0x100000;
    static final long TABLE = 0x200000;

    MemoryBlockDevice disk;
    AtaTestDriver ata;

    @BeforeEach
    void setUp() {
        disk = new MemoryBlockDevice(SMALL_IMAGE);
        ata = AtaTestDriver.withDisk(disk);
    }

    @AfterEach
    void tearDown() {
        ata.assertNoInternalErrors();
        ata.close();
    }

    private void assertNoAtaError() {
        int st = ata.altStatus();
        assertBitsClear(st, STATUS_ERR | STATUS_DF);
    }

    @Nested
    class SimpleRw {
        @Test
        void writeThenReadBackTwoSectors() {
            byte[] s0 = new byte[512];
            byte[] s1 = new byte[512];
            Arrays.fill(s0, (byte) 0x55);
            Arrays.fill(s1, (byte) 0xAA);
            ata.memory.write(BUFFER, s0, 0, 512);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_WRITE_DMA, 0, 1, TABLE, false));
            assertNoAtaError();
            ata.memory.write(BUFFER, s1, 0, 512);
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_WRITE_DMA, 1, 1, TABLE, false));
            assertArrayEquals(s0, Arrays.copyOfRange(disk.bytes(), 0, 512));
            assertArrayEquals(s1, Arrays.copyOfRange(disk.bytes(), 512, 1024));

            ata.memory.fill(BUFFER, 1024, (byte) 0);
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 1, TABLE, false));
            byte[] got = new byte[512];
            ata.memory.read(BUFFER, got, 0, 512);
            assertArrayEquals(s0, got);
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 1, 1, TABLE, false));
            ata.memory.read(BUFFER, got, 0, 512);
            assertArrayEquals(s1, got);
            assertEquals(0, ata.sectorCount());
            assertEquals(2, ata.inb(ata.base + 3), "address registers point past the transfer");
        }

        @Test
        void scatterGatherAcrossSeveralRegions() {
            byte[] data = PiixIdeTest.pattern(8 * 512, 21);
            System.arraycopy(data, 0, disk.bytes(), 40 * 512, data.length);
            // 1024 + 2050 (bit 0 ignored → 2050&~1 = 2050) + rest, scattered
            ata.writePrdTable(TABLE, new long[]{BUFFER, 1024, 0}, new long[]{BUFFER + 0x10000, 2050, 0},
                    new long[]{BUFFER + 0x20000, 8 * 512 - 1024 - 2050, 1});
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 40, 8, TABLE, false));
            byte[] got = new byte[8 * 512];
            ata.memory.read(BUFFER, got, 0, 1024);
            ata.memory.read(BUFFER + 0x10000, got, 1024, 2050);
            ata.memory.read(BUFFER + 0x20000, got, 3074, 8 * 512 - 3074);
            assertArrayEquals(data, got);
        }

        @Test
        void dmaHandsGuestMemoryToTheBlockLayerWithoutCopying() {
            byte[] data = PiixIdeTest.pattern(4096, 23);
            System.arraycopy(data, 0, disk.bytes(), 0, data.length);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 2048, 0}, new long[]{BUFFER + 0x4000, 2048, 1});
            int heapBefore = disk.heapBufferCount();
            int directBefore = disk.directBufferCount();   // attaching read the MBR for the geometry
            ata.dmaRequest(CMD_READ_DMA, 0, 8, TABLE, false);
            ata.dmaRequest(CMD_WRITE_DMA, 8, 8, TABLE, false);
            assertEquals(4, disk.directBufferCount() - directBefore, "one request per PRD region, each a view of guest RAM");
            assertEquals(heapBefore, disk.heapBufferCount(), "no bounce through the heap");
            byte[] got = new byte[2048];
            ata.memory.read(BUFFER + 0x4000, got, 0, 2048);
            assertArrayEquals(Arrays.copyOfRange(data, 2048, 4096), got);
        }

        @Test
        void prdEntriesThatContinueEachOtherBecomeOneBlockRequest() {
            byte[] data = PiixIdeTest.pattern(0x20000, 24);
            System.arraycopy(data, 0, disk.bytes(), 0, data.length);
            // 128 KiB: 64 KiB (count 0) and 32 KiB continuing it, then 32 KiB elsewhere.
            ata.writePrdTable(TABLE, new long[]{BUFFER, 0, 0}, new long[]{BUFFER + 0x10000, 0x8000, 0},
                    new long[]{BUFFER + 0x40000, 0x8000, 1});
            int directBefore = disk.directBufferCount();
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 0, TABLE, false), "sector count 0 = 256");
            assertEquals(2, disk.directBufferCount() - directBefore, "one request for the contiguous pair, one for the rest");
            byte[] got = new byte[0x20000];
            ata.memory.read(BUFFER, got, 0, 0x18000);
            ata.memory.read(BUFFER + 0x40000, got, 0x18000, 0x8000);
            assertArrayEquals(data, got);
        }

        @Test
        void lba48DmaExt() {
            byte[] data = PiixIdeTest.pattern(2 * 512, 22);
            ata.memory.write(BUFFER, data, 0, data.length);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 1024, 1});
            ata.outb(ata.bm, 0);
            ata.outb(ata.bm + 2, 0x04);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.setLba48(0x3000, 2);
            ata.command(CMD_WRITE_DMA_EXT);
            assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, ata.altStatus(), "waiting for the engine");
            ata.outb(ata.bm, 0x01);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertEquals(0x50, ata.status());
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 0x3000 * 512, 0x3002 * 512));
        }

        @Test
        void outOfRangeDmaAbortsWithInterrupt() {
            ata.writePrdTable(TABLE, new long[]{BUFFER, 1024, 1});
            ata.outb(ata.base + 6, 0x40);
            ata.outb(ata.bm, 0);
            ata.outb(ata.bm + 2, 0x04);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.setLba28(SECTORS - 1, 2);
            ata.command(CMD_READ_DMA);
            ata.outb(ata.bm, 0x09);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertTrue(ata.irq.level());
            assertEquals(0x41, ata.status());
            assertEquals(ERR_ABRT, ata.error());
        }

        @Test
        void backendReadErrorReportsAbrtAndInterrupt() {
            disk.inject(MemoryBlockDevice.Op.READ, Errno.EIO, true);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
            ata.outb(ata.base + 6, 0x40);
            ata.outb(ata.bm + 4, (int) TABLE);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_DMA);
            ata.outb(ata.bm, 0x09);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2), "BM Error bit is never set");
            assertEquals(0x41, ata.status());
        }

        @Test
        void startBeforeCommandRunsTransferAtCommandTime() {
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
            ata.outb(ata.base + 6, 0x40);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.outb(ata.bm, 0x09);
            assertEquals(BM_STATUS_ACTIVE, ata.inb(ata.bm + 2));
            ata.setLba28(0, 1);
            ata.command(CMD_READ_DMA);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertEquals(0x50, ata.status());
        }

        @Test
        void softResetDropsAPendingDmaCommand() {
            ata.outb(ata.base + 6, 0x40);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_DMA);
            assertEquals(0x58, ata.altStatus());
            ata.outb(ata.ctrl, 0x04);
            ata.outb(ata.ctrl, 0x00);
            assertEquals(0x50, ata.status());
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.outb(ata.bm, 0x09);
            ata.ide.drain();
            assertEquals(BM_STATUS_ACTIVE, ata.inb(ata.bm + 2) & BM_STATUS_ACTIVE, "nothing to transfer");
        }
    }

    @Nested
    class InFlight {
        /** Releases {@code op} once {@code machine} is parked waiting inside the device. */
        private Thread releaseWhenWaiting(Thread machine, MemoryBlockDevice.Op op) {
            Thread t = new Thread(() -> {
                while (machine.getState() != Thread.State.WAITING && machine.getState() != Thread.State.TIMED_WAITING) {
                    Thread.onSpinWait();
                }
                disk.release(op);
            });
            t.setDaemon(true);
            t.start();
            return t;
        }

        @Test
        void stopDuringTransferWaitsForItToComplete() throws Exception {
            byte[] data = PiixIdeTest.pattern(4096, 31);
            ata.memory.write(BUFFER, data, 0, data.length);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 4096, 1});
            disk.holdNext(MemoryBlockDevice.Op.WRITE);
            ata.outb(ata.base + 6, 0x40);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.setLba28(16, 8);
            ata.command(CMD_WRITE_DMA);
            ata.outb(ata.bm, 0x01);
            disk.awaitHeld(MemoryBlockDevice.Op.WRITE);
            assertEquals(BM_STATUS_ACTIVE, ata.inb(ata.bm + 2));
            Thread releaser = releaseWhenWaiting(Thread.currentThread(), MemoryBlockDevice.Op.WRITE);
            ata.outb(ata.bm, 0x00);
            // Checked before joining the releaser: the Stop write itself waited for the transfer.
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2), "the stop behaved as if the DMA had finished first");
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 16 * 512, 24 * 512));
            releaser.join();
            assertEquals(0x50, ata.status());
        }

        @Test
        void softResetDuringTrimDrainsItFirst() throws Exception {
            ata.memory.fill(BUFFER, 512, (byte) 0);
            ata.memory.writeQword(BUFFER, 0 | 2L << 48);
            ata.memory.writeQword(BUFFER + 8, 8 | 2L << 48);
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
            disk.holdNext(MemoryBlockDevice.Op.DISCARD);
            ata.outb(ata.base + 6, 0x40);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.outb(ata.base + 1, 0x01);
            ata.outb(ata.base + 2, 1);
            ata.command(CMD_DATA_SET_MANAGEMENT);
            ata.outb(ata.bm, 0x01);
            disk.awaitHeld(MemoryBlockDevice.Op.DISCARD);
            Thread releaser = releaseWhenWaiting(Thread.currentThread(), MemoryBlockDevice.Op.DISCARD);
            ata.outb(ata.ctrl, 0x04);
            assertEquals(2, disk.discards().size(), "SRST waited for the TRIM");
            releaser.join();
            ata.outb(ata.ctrl, 0x00);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertEquals(0x50, ata.status());
            assertEquals(0x01, ata.error(), "diagnostic code after SRST");
            assertEquals(2, disk.discards().size(), "the TRIM ran to completion before the reset");
        }

        @Test
        void readErrorWithRerrorStopIsRetriedOnResume() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                MemoryBlockDevice m = new MemoryBlockDevice(SMALL_IMAGE);
                byte[] data = PiixIdeTest.pattern(1024, 32);
                System.arraycopy(data, 0, m.bytes(), 0, data.length);
                d.ide.attach(0, 0, new IdeDriveConfig(m, IdeDriveKind.DISK, null, null, null,
                        ErrorPolicy.STOP, ErrorPolicy.STOP, null));
                d.enableBusMaster();
                m.inject(MemoryBlockDevice.Op.READ, Errno.EIO, true);
                d.writePrdTable(TABLE, new long[]{BUFFER, 1024, 1});
                d.outb(d.base + 6, 0x40);
                d.outl(d.bm + 4, (int) TABLE);
                d.setLba28(0, 2);
                d.command(CMD_READ_DMA);
                d.outb(d.bm, 0x09);
                d.ide.drain();
                assertEquals(java.util.List.of("io-error"), d.stopRequests);
                assertEquals(BM_STATUS_ACTIVE, d.inb(d.bm + 2), "engine still active while the VM is stopped");
                d.ide.resume();
                d.ide.drain();
                assertEquals(BM_STATUS_INTERRUPT, d.inb(d.bm + 2));
                assertEquals(0x50, d.status());
                byte[] got = new byte[1024];
                d.memory.read(BUFFER, got, 0, 1024);
                assertArrayEquals(data, got);
                d.assertNoInternalErrors();
            } finally {
                d.close();
            }
        }
    }

    @Nested
    class Registers {
        @Test
        void commandAndStatusWriteMasks() {
            ata.outb(ata.bm, 0xFF);
            assertEquals(0x09, ata.inb(ata.bm));
            ata.outb(ata.bm, 0x00);
            ata.outb(ata.bm + 2, 0xFF);
            assertEquals(0x60, ata.inb(ata.bm + 2));
            assertEquals(0xFF, ata.inb(ata.bm + 1));
            assertEquals(0xFF, ata.inb(ata.bm + 3));
            assertEquals(0xFFFF, ata.inw(ata.bm));
            assertEquals(0xFFFF_FFFF, ata.inl(ata.bm));
        }

        @Test
        void tableAddressDropsLowBitsAndHasByteLanes() {
            ata.outl(ata.bm + 4, 0x1234_5677);
            assertEquals(0x1234_5674, ata.inl(ata.bm + 4));
            ata.outb(ata.bm + 7, 0xAB);
            assertEquals(0xAB34_5674, ata.inl(ata.bm + 4));
            assertEquals(0xAB34, ata.inw(ata.bm + 6));
            ata.outb(ata.bm + 4, 0x03);
            assertEquals(0xAB34_5600, ata.inl(ata.bm + 4));
        }

        @Test
        void secondaryChannelHasItsOwnBlock() {
            ata.outl(ata.bm + 8 + 4, 0x1000);
            assertEquals(0, ata.inl(ata.bm + 4));
            assertEquals(0x1000, ata.inl(ata.bm + 12));
        }

        @Test
        void machineResetClearsEngine() {
            ata.outl(ata.bm + 4, 0x1000);
            ata.outb(ata.bm, 0x09);
            ata.ide.reset();
            ata.enableBusMaster();
            assertEquals(0, ata.inb(ata.bm));
            assertEquals(0, ata.inb(ata.bm + 2));
            assertEquals(0, ata.inl(ata.bm + 4));
        }
    }

    /**
     * test_bmdma_various_prdts: one PRD (with EOT) at guest address 0 of every size from 0
     * (= 64 KiB) to 65280 in steps of 256, for 1..256 sectors; short → 0x00, exact → 0x04,
     * long → 0x05; with Stop right after Start: 0x00 / 0x04 / 0x04. Never ERR or DF.
     */
    @ParameterizedTest(name = "{0} sectors")
    @ValueSource(ints = {1, 2, 4, 8, 16, 32, 64, 128, 256})
    void variousPrdts(int sectors) {
        int request = sectors * 512;
        for (int size = 0; size < 65536; size += 256) {
            int prdBytes = size == 0 ? 65536 : size;
            ata.writePrdTable(TABLE, new long[]{0, size, 1});
            int expected = prdBytes < request ? 0x00 : prdBytes == request ? 0x04 : 0x05;
            int expectedStopped = prdBytes < request ? 0x00 : 0x04;
            int st = ata.dmaRequest(CMD_READ_DMA, 0, sectors, TABLE, false);
            assertEquals(expected, st, "PRD " + prdBytes + " bytes");
            assertNoAtaError();
            st = ata.dmaRequest(CMD_READ_DMA, 0, sectors, TABLE, true);
            assertEquals(expectedStopped, st, "PRD " + prdBytes + " bytes, stopped at once");
            assertNoAtaError();
        }
    }

    /** The three rules of the Bus Master IDE programming interface, as ide.md §8.4's table lists them. */
    @ParameterizedTest(name = "{0} sectors, PRD {1} bytes → BM 0x{2}, stopped 0x{3}")
    @CsvSource({
            "1, 256, 00, 00",
            "1, 512, 04, 04",
            "1, 1024, 05, 04",
            "2, 512, 00, 00",
            "128, 65536, 04, 04",
            "128, 0, 04, 04",
            "64, 1, 05, 04",
            "256, 65280, 00, 00",
    })
    void prdTableRules(int sectors, int count, String expected, String expectedStopped) {
        ata.writePrdTable(TABLE, new long[]{0, count, 1});
        assertEquals(Integer.parseInt(expected, 16), ata.dmaRequest(CMD_READ_DMA, 0, sectors, TABLE, false));
        assertEquals(Integer.parseInt(expectedStopped, 16), ata.dmaRequest(CMD_READ_DMA, 0, sectors, TABLE, true));
    }

    @Test
    void shortTableMovesNothingAndRaisesNoIrq() {
        Arrays.fill(disk.bytes(), 0, 1024, (byte) 0x5A);
        ata.memory.fill(BUFFER, 1024, (byte) 0);
        ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
        assertEquals(0x00, ata.dmaRequest(CMD_READ_DMA, 0, 2, TABLE, false));
        assertEquals(0, ata.memory.readByte(BUFFER));
        assertEquals(0x50, ata.altStatus());
    }

    @Test
    void noBusmasterDoesNotCrashAndKeepsActive() {
        ata.pciWrite(PiixIde.DEVFN, 0x04, 2, 0x0003);
        ata.memory.fill(TABLE, 4096 * 8, (byte) 0);
        int st = ata.dmaRequest(CMD_READ_DMA, 0, 512, TABLE, false);
        assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, st);
        assertNoAtaError();
    }

    @Test
    void writeDmaWithoutBusMasteringWritesZeros() {
        Arrays.fill(disk.bytes(), 0, 512, (byte) 0x77);
        ata.memory.fill(BUFFER, 512, (byte) 0x11);
        ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
        ata.pciWrite(PiixIde.DEVFN, 0x04, 2, 0x0003);
        ata.dmaRequest(CMD_WRITE_DMA, 0, 1, TABLE, false);
        assertEquals(0, disk.bytes()[0]);
    }

    @Nested
    class Trim {
        private long range(long lba, int count) {
            return lba | (long) count << 48;
        }

        private void writeRanges(long... entries) {
            ata.memory.fill(BUFFER, 512, (byte) 0);
            for (int i = 0; i < entries.length; i++) {
                ata.memory.writeQword(BUFFER + 8L * i, entries[i]);
            }
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 1});
        }

        @Test
        void goodRangesAreDiscarded() {
            writeRanges(range(0, 2), range(6, 8));
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_DATA_SET_MANAGEMENT, 0, 1, TABLE, false));
            assertNoAtaError();
            assertEquals(2, disk.discards().size());
            assertArrayEquals(new long[]{0, 1024}, disk.discards().get(0));
            assertArrayEquals(new long[]{6 * 512, 8 * 512}, disk.discards().get(1));
        }

        @Test
        void badRangeAbortsAfterEarlierRanges() {
            writeRanges(range(10, 1), range(SECTORS - 1, 2));
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_DATA_SET_MANAGEMENT, 0, 1, TABLE, false));
            int st = ata.altStatus();
            assertBitsSet(st, STATUS_ERR);
            assertEquals(ERR_ABRT, ata.error());
            assertEquals(1, disk.discards().size());
        }

        @Test
        void rangeEndingExactlyAtTheEndIsValid() {
            writeRanges(range(SECTORS - 2, 2));
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_DATA_SET_MANAGEMENT, 0, 1, TABLE, false));
            assertNoAtaError();
        }

        @Test
        void countZeroCompletesAtOnce() {
            writeRanges(range(0, 1));
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_DATA_SET_MANAGEMENT, 0, 0, TABLE, false));
            assertNoAtaError();
            assertEquals(0, disk.discards().size());
        }

        @Test
        void featuresOtherThanTrimAbort() {
            ata.outb(ata.base + 1, 0x02);
            ata.outb(ata.base + 2, 1);
            ata.command(CMD_DATA_SET_MANAGEMENT);
            assertEquals(0x41, ata.status());
        }

        @Test
        void discardFailureFollowsWerror() {
            disk.inject(MemoryBlockDevice.Op.DISCARD, Errno.EIO, true);
            writeRanges(range(0, 2));
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_DATA_SET_MANAGEMENT, 0, 1, TABLE, false));
            assertEquals(ERR_ABRT, ata.error());
        }
    }

    @Nested
    class MalformedTables {
        @Test
        void tableWithoutEotStopsAfter4096Bytes() {
            for (int i = 0; i < 600; i++) {
                ata.memory.writeDword(TABLE + 8L * i, (int) BUFFER);
                ata.memory.writeDword(TABLE + 8L * i + 4, 2);
            }
            // 512 entries x 2 bytes = 1024 bytes described: 2 sectors fit, 3 do not.
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 2, TABLE, false));
            assertEquals(0x00, ata.dmaRequest(CMD_READ_DMA, 0, 3, TABLE, false));
        }

        @Test
        void zeroTableOf4096EntriesWithBusMastering() {
            ata.memory.fill(TABLE, 4096 * 8, (byte) 0);
            // Every entry means 64 KiB at address 0: 255 sectors land at guest address 0.
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 255, TABLE, false));
        }

        @Test
        void tableBeyondRamReadsAsZeros() {
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 1, 0xF000_0000L, false));
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 1, 0xFFFF_FFF8L, false));
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 1, RAM_SIZE - 8, false));
        }

        @Test
        void dataRegionsBeyondOrAcrossTheEndOfRam() {
            Arrays.fill(disk.bytes(), 0, 4096, (byte) 0x3C);
            ata.writePrdTable(TABLE, new long[]{0xFFFF_F000L, 2048, 0}, new long[]{RAM_SIZE - 1024, 2048, 1});
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_READ_DMA, 0, 8, TABLE, false));
            assertEquals(0x3C, ata.memory.readByte(RAM_SIZE - 1), "in-RAM part of a straddling region lands");
            Arrays.fill(disk.bytes(), 0, 4096, (byte) 0x11);
            ata.memory.fill(RAM_SIZE - 1024, 1024, (byte) 0x22);
            assertEquals(BM_STATUS_INTERRUPT, ata.dmaRequest(CMD_WRITE_DMA, 0, 8, TABLE, false));
            assertEquals(0, disk.bytes()[0], "unbacked memory reads as zeros");
            assertEquals(0x22, disk.bytes()[2048]);
            assertEquals(0, disk.bytes()[3072]);
        }

        @Test
        void tableAddressMovedBelowEnginePositionEndsWalk() {
            ata.writePrdTable(TABLE, new long[]{BUFFER, 512, 0}, new long[]{BUFFER, 512, 1});
            ata.outb(ata.base + 6, 0x40);
            ata.outl(ata.bm + 4, (int) TABLE);
            ata.outb(ata.bm, 0x09);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_DMA);
            ata.ide.drain();
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            ata.status();
            ata.outl(ata.bm + 4, (int) TABLE + 0x1000);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_DMA);
            ata.ide.drain();
            assertFalse(ata.irq.level(), "engine position is below the new table: nothing to walk");
            assertEquals(0, ata.inb(ata.bm + 2) & BM_STATUS_ACTIVE);
        }
    }
}
