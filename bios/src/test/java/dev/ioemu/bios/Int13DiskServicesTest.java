package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * INT 13h fixed-disk services through the trap contract (shared/spec/int13.md §1–§4), on real raw
 * images behind the block layer's queue: a 64 MiB image (PCHS 130/16/63, no translation), a
 * 10 GiB sparse image (LBA-assisted 1024/255/63) and a 64 MiB image whose partition table was
 * written with 64 heads and 32 sectors.
 */
class Int13DiskServicesTest {
    static final long SIZE_64M = 64L << 20;
    static final long SECTORS_64M = SIZE_64M / 512;
    static final long SIZE_10G = 10L << 30;
    static final long SECTORS_10G = SIZE_10G / 512;
    static final int BUF_SEG = 0x1000;      // ES/DS segment of the test buffers (linear 10000h)
    static final long BUF = 0x10000;

    @TempDir
    static Path dir;
    static Path small;
    static Path big;
    static Path partitioned;

    GuestKit kit;

    @BeforeAll
    static void images() throws Exception {
        small = GuestKit.sparseImage(dir, "small.img", SIZE_64M);
        for (long lba = 0; lba < 300; lba++) {
            GuestKit.writeSectors(small, lba, GuestKit.patternSector(lba));
        }
        for (long lba = SECTORS_64M - 8; lba < SECTORS_64M; lba++) {
            GuestKit.writeSectors(small, lba, GuestKit.patternSector(lba));
        }
        big = GuestKit.sparseImage(dir, "big.img", SIZE_10G);
        for (long lba : new long[] {0, 1, 16_450_559, 16_450_560, SECTORS_10G - 1}) {
            GuestKit.writeSectors(big, lba, GuestKit.patternSector(lba));
        }
        partitioned = GuestKit.sparseImage(dir, "part.img", SIZE_64M);
        GuestKit.writeSectors(partitioned, 0, mbr(63, 32, SECTORS_64M - 32));
    }

    /** An MBR with one partition ending at head {@code endHead}, sector {@code endSector}. */
    static byte[] mbr(int endHead, int endSector, long length) {
        byte[] s = new byte[512];
        int e = 0x1BE;
        s[e] = (byte) 0x80;
        s[e + 1] = 1;           // start head
        s[e + 2] = 1;           // start sector
        s[e + 4] = 0x06;
        s[e + 5] = (byte) endHead;
        s[e + 6] = (byte) (endSector | 0xC0);
        s[e + 7] = (byte) 0xFF;
        s[e + 8] = (byte) 32;   // start LBA
        s[e + 12] = (byte) length;
        s[e + 13] = (byte) (length >>> 8);
        s[e + 14] = (byte) (length >>> 16);
        s[e + 15] = (byte) (length >>> 24);
        s[510] = 0x55;
        s[511] = (byte) 0xAA;
        return s;
    }

    @BeforeEach
    void open() throws Exception {
        kit = GuestKit.withImages(small);
        kit.powerOn();
    }

    @AfterEach
    void close() {
        if (kit != null) {
            kit.close();
        }
    }

    /** INT 13h with AH, AL, CX, DX and ES:BX as a caller sets them; returns to the caller. */
    void int13(int ah, int al, int cx, int dx, int es, int bx) {
        kit.regs.setAh(ah);
        kit.regs.setAl(al);
        kit.regs.setCx(cx);
        kit.regs.setDx(dx);
        kit.regs.loadRealModeSegment(Segment.ES, es);
        kit.regs.setBx(bx);
        assertEquals(BiosTrapDispatcher.Outcome.SERVICED, kit.interrupt(0x13));
        assertTrue(kit.returnedToCaller(), "IRET back to the caller");
        assertTrue(kit.interruptsEnabled(), "INT 13h returns with IF=1");
    }

    /** CHS read/write/verify: AH, count, cylinder, head, sector. */
    void chs(int ah, int count, int cylinder, int head, int sector, int dl) {
        int cx = (cylinder & 0xFF) << 8 | (cylinder >> 2 & 0xC0) | sector;
        int0x13WithBuffer(ah, count, cx, head << 8 | dl);
    }

    void int0x13WithBuffer(int ah, int al, int cx, int dx) {
        int13(ah, al, cx, dx, BUF_SEG, 0);
    }

    /** Writes a 16-byte DAP at 0:0600 and calls AH with DS:SI pointing at it. */
    void extended(int ah, int count, int bufferFar, long lba, int dl) {
        writeDap(0x600, 0x10, count, bufferFar, lba, 0);
        callWithDsSi(ah, 0, 0x600, dl);
    }

    void writeDap(long at, int size, int count, int bufferFar, long lba, long flat) {
        kit.memory.writeByte(at, size);
        kit.memory.writeByte(at + 1, 0);
        kit.memory.writeWord(at + 2, count);
        kit.memory.writeDword(at + 4, bufferFar);
        kit.memory.writeQword(at + 8, lba);
        kit.memory.writeQword(at + 16, flat);
    }

    void callWithDsSi(int ah, int ds, int si, int dl) {
        kit.regs.loadRealModeSegment(Segment.DS, ds);
        kit.regs.setSi(si);
        kit.regs.setAh(ah);
        kit.regs.setDl(dl);
        assertEquals(BiosTrapDispatcher.Outcome.SERVICED, kit.interrupt(0x13));
        assertTrue(kit.returnedToCaller());
    }

    byte[] guest(long address, int length) {
        byte[] b = new byte[length];
        kit.memory.read(address, b, 0, length);
        return b;
    }

    byte[] imageSector(BlockDevice dev, long lba) {
        ByteBuffer b = ByteBuffer.allocate(512);
        assertEquals(512, dev.read(lba * 512, b));
        return b.array();
    }

    void assertOk() {
        assertEquals(0, kit.regs.ah(), "AH");
        assertFalse(kit.carry(), "CF");
        assertEquals(0, kit.bda(Bda.DISK_LAST_STATUS), "40:74");
    }

    void assertFail(int status) {
        assertEquals(status, kit.regs.ah(), "AH");
        assertTrue(kit.carry(), "CF");
        assertEquals(status, kit.bda(Bda.DISK_LAST_STATUS), "40:74");
    }

    @Nested
    class DriveSelection {
        @ParameterizedTest
        @ValueSource(ints = {0x00, 0x02, 0x08, 0x15, 0x41, 0x42, 0x48})
        void absentHardDiskAnswersEveryFunctionWithStatus01(int ah) {
            int13(ah, 1, 1, 0x81, BUF_SEG, 0);
            assertFail(0x01);
        }

        @Test
        void floppyNumbersFailWithStatusIn4041() {
            int13(0x02, 1, 1, 0x00, BUF_SEG, 0);
            assertEquals(0x01, kit.regs.ah());
            assertTrue(kit.carry());
            assertEquals(0x01, kit.bda(Bda.FLOPPY_LAST_STATUS));
        }

        @Test
        void unknownFunctionFailsWith01() {
            int13(0x4B, 1, 0, 0x80, BUF_SEG, 0);
            assertFail(0x01);
            int13(0x50, 0, 0, 0x80, BUF_SEG, 0);
            assertFail(0x01);
        }

        @Test
        void interruptFlag408eIsClearedAtEntry() {
            kit.memory.writeByte(Bda.BASE + Bda.DISK_INTERRUPT_FLAG, 0xFF);
            int13(0x00, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0, kit.bda(Bda.DISK_INTERRUPT_FLAG));
        }
    }

    @Nested
    class StatusAndStubs {
        @ParameterizedTest
        @ValueSource(ints = {0x00, 0x09, 0x0C, 0x0D, 0x10, 0x11, 0x14, 0x45, 0x49})
        void succeedsWithoutSideEffects(int ah) {
            kit.set(Gpr.EBX, 0x1234_5678);
            int13(ah, 0x5A, 0x1111, 0x80, BUF_SEG, 0x5678);
            assertOk();
            assertEquals(0x1234_5678, kit.regs.gpr(Gpr.EBX));
            assertEquals(0x1111, kit.regs.cx());
        }

        @Test
        void ah01ReturnsTheLastStatusAndLeavesIt() {
            chs(0x02, 0, 0, 0, 1, 0x80);            // count 0: status 01
            assertFail(0x01);
            int13(0x01, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0x01, kit.regs.ah());
            assertTrue(kit.carry());
            assertEquals(0x01, kit.bda(Bda.DISK_LAST_STATUS), "SeaBIOS does not clear 40:74");
            int13(0x00, 0, 0, 0x80, BUF_SEG, 0);
            int13(0x01, 0, 0, 0x80, BUF_SEG, 0);
            assertOk();
        }

        @Test
        void ah46EjectOfAFixedDiskFailsB2() {
            int13(0x46, 0, 0, 0x80, BUF_SEG, 0);
            assertFail(0xB2);
        }

        @ParameterizedTest
        @ValueSource(ints = {0x01, 0x03, 0x04, 0x06})
        void ah4eAcceptsSeaBiosSubfunctions(int al) {
            int13(0x4E, al, 0, 0x80, BUF_SEG, 0);
            assertOk();
        }

        @ParameterizedTest
        @ValueSource(ints = {0x00, 0x02, 0x05, 0x07, 0xFF})
        void ah4eRejectsOthers(int al) {
            int13(0x4E, al, 0, 0x80, BUF_SEG, 0);
            assertFail(0x01);
        }

        @Test
        void ah41ReportsEdd30WithTheApiBitmap() {
            kit.set(Gpr.EBX, 0xABCD_55AA);
            int13(0x41, 0x77, 0, 0x80, BUF_SEG, 0x55AA);
            assertEquals(0x30, kit.regs.ah());
            assertEquals(0x77, kit.regs.al(), "AL unchanged");
            assertFalse(kit.carry());
            assertEquals(0xABCD_AA55, kit.regs.gpr(Gpr.EBX), "BX=AA55h, upper half kept");
            assertEquals(0x000F, kit.regs.cx());
            assertEquals(0, kit.bda(Bda.DISK_LAST_STATUS));
        }
    }

    @Nested
    class Geometry {
        @Test
        void ah08PacksMaximumCylinderLcMinus2HeadAndSectors() {
            kit.regs.setDi(0x1234);
            kit.regs.setBl(0x99);
            int13(0x08, 0x55, 0, 0x80, 0x2222, 0x4499);
            assertOk();
            // 130/16/63: max cylinder 128 = 080h
            assertEquals(0x00, kit.regs.al());
            assertEquals(0x80, kit.regs.ch());
            assertEquals(0x3F, kit.regs.cl());
            assertEquals(0x0F, kit.regs.dh());
            assertEquals(0x01, kit.regs.dl(), "DL = disk count from 40:75");
            assertEquals(0x1234, kit.regs.di(), "DI not changed for hard disks");
            assertEquals(0x2222, kit.regs.selector(Segment.ES));
            assertEquals(0x99, kit.regs.bl());
        }

        @Test
        void ah15ReturnsFixedDiskAndLcMinus1Sectors() {
            int13(0x15, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0x03, kit.regs.ah());
            assertFalse(kit.carry());
            assertEquals(0, kit.bda(Bda.DISK_LAST_STATUS));
            long count = (long) kit.regs.cx() << 16 | kit.regs.dx();
            assertEquals(129L * 16 * 63, count);
        }

        @Test
        void tenGibImageUsesLbaAssistedTranslation() throws Exception {
            kit.close();
            kit = GuestKit.withImages(big);
            kit.powerOn();
            int13(0x08, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0xFE, kit.regs.ch());
            assertEquals(0xFF, kit.regs.cl());
            assertEquals(0xFE, kit.regs.dh());
            int13(0x15, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0x00FA, kit.regs.cx());
            assertEquals(0xC53F, kit.regs.dx());
            // last CHS sector 1023/254/63 is LBA 16,450,559; beyond it only AH=42h reaches
            chs(0x02, 1, 1023, 254, 63, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(16_450_559), guest(BUF, 512));
            chs(0x02, 1, 0, 255, 1, 0x80);   // head 255: DOS never sees a 256th head
            assertFail(0x01);
            extended(0x42, 1, BUF_SEG << 16, SECTORS_10G - 1, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(SECTORS_10G - 1), guest(BUF, 512));
        }

        @Test
        void partitionTableGeometryIsTheLogicalGeometry() throws Exception {
            kit.close();
            kit = GuestKit.withImages(partitioned);
            kit.powerOn();
            int13(0x08, 0, 0, 0x80, BUF_SEG, 0);
            // written with 64 heads, 32 sectors: 64 cylinders, max cylinder 62
            assertEquals(62, kit.regs.ch());
            assertEquals(32, kit.regs.cl());
            assertEquals(63, kit.regs.dh());
            // CHS 1/0/1 is LBA 64*32 = 2048 under this geometry
            GuestKit.writeSectors(partitioned, 2048, GuestKit.patternSector(2048));
            chs(0x02, 1, 1, 0, 1, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(2048), guest(BUF, 512));
        }

        @Test
        void seaBiosPolicyKeepsQemusStandardGeometryForThePartitionedImage() throws Exception {
            kit.close();
            kit = GuestKit.withImages(DiskGeometry.Policy.SEABIOS, null, false, partitioned);
            kit.powerOn();
            int13(0x08, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(0x80, kit.regs.ch());
            assertEquals(0x3F, kit.regs.cl());
            assertEquals(0x0F, kit.regs.dh());
        }

        @Test
        void biosChsOverrideWins() throws Exception {
            kit.close();
            kit = GuestKit.withImages(DiskGeometry.Policy.PARTITION_TABLE_FIRST, Chs.parseBiosChs("520/128/32"),
                    false, partitioned);
            kit.powerOn();
            int13(0x08, 0, 0, 0x80, BUF_SEG, 0);
            assertEquals(518 & 0xFF, kit.regs.ch());
            assertEquals((518 >> 2 & 0xC0) | 32, kit.regs.cl());
            assertEquals(127, kit.regs.dh());
        }
    }

    @Nested
    class ChsTransfers {
        @Test
        void readsOneSectorToEsBx() {
            kit.set(Gpr.EAX, 0xDEAD_0000);
            chs(0x02, 1, 0, 0, 1, 0x80);
            assertOk();
            assertEquals(1, kit.regs.al());
            assertEquals(0xDEAD, kit.regs.gpr(Gpr.EAX) >>> 16, "upper half of EAX kept");
            assertArrayEquals(GuestKit.patternSector(0), guest(BUF, 512));
        }

        @Test
        void multiTrackReadOf128SectorsContinuesAcrossHeadsAndCylinders() {
            // cylinder 0, head 15, sector 60: LBA 15*63+59 = 1004; 128 sectors cross into cylinder 1
            chs(0x02, 128, 0, 15, 60, 0x80);
            assertOk();
            assertEquals(128, kit.regs.al());
            for (int i = 0; i < 128; i += 31) {
                byte[] got = guest(BUF + i * 512L, 512);
                byte[] want = GuestKit.patternSector(1004 + i);
                if (1004 + i < 300) {
                    assertArrayEquals(want, got);
                }
            }
            byte[] last = guest(BUF + 127 * 512L, 512);
            assertArrayEquals(new byte[512], last, "LBA 1131 is a hole: zeros");
        }

        @Test
        void lastCylinderIsReachableThoughAh08HidesIt() {
            // cylinder 129, head 15, sector 63 = LBA 130*1008-1 = 131039 (last LCHS sector)
            chs(0x02, 1, 129, 15, 63, 0x80);
            assertOk();
        }

        @ParameterizedTest
        @ValueSource(strings = {"0,0,0,1", "129,0,0,1", "1,0,0,0", "1,130,0,1", "1,0,16,1", "1,0,0,64"})
        void rejectsCountsAndChsOutsideTheGeometryWithAlUnchanged(String c) {
            String[] v = c.split(",");
            chs(0x02, Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]),
                    Integer.parseInt(v[3]), 0x80);
            assertFail(0x01);
            assertEquals(Integer.parseInt(v[0]), kit.regs.al());
            assertArrayEquals(new byte[512], guest(BUF, 512), "nothing transferred");
        }

        @Test
        void writeThenReadBackThroughTheImage() {
            byte[] data = GuestKit.patternSector(999);
            kit.memory.write(BUF, data, 0, 512);
            chs(0x03, 1, 2, 3, 4, 0x80);
            assertOk();
            assertEquals(1, kit.regs.al());
            long lba = (2 * 16 + 3) * 63 + 3;
            assertArrayEquals(data, imageSector(kit.device(0), lba));
        }

        @Test
        void writeToReadOnlyImageFailsWriteProtected() throws Exception {
            kit.close();
            kit = GuestKit.withImages(DiskGeometry.Policy.PARTITION_TABLE_FIRST, null, true, small);
            kit.powerOn();
            chs(0x03, 2, 0, 0, 1, 0x80);
            assertFail(0x03);
            assertEquals(0, kit.regs.al());
            assertArrayEquals(GuestKit.patternSector(0), imageSector(kit.device(0), 0));
        }

        @Test
        void verifyTouchesNoMemory() {
            chs(0x04, 5, 0, 0, 1, 0x80);
            assertOk();
            assertEquals(5, kit.regs.al());
            assertArrayEquals(new byte[5 * 512], guest(BUF, 5 * 512));
        }

        @Test
        void bufferUsesTheHiddenSegmentBaseAndNeverWritesOutsideRam() {
            kit.regs.setAh(0x02);
            kit.regs.setAl(1);
            kit.regs.setCx(0x0001);
            kit.regs.setDx(0x0080);
            kit.regs.loadSegment(Segment.ES, 0x1000, GuestKit.RAM - 256);  // unreal-mode base
            kit.regs.setBx(0);
            kit.interrupt(0x13);
            assertFail(0x01);
            assertEquals(0, kit.regs.al());
        }

        @Test
        void ah05ValidatesLikeSeaBios() {
            int13(0x05, 63, 0x0000, 0x0F80, BUF_SEG, 0);
            assertOk();
            int13(0x05, 64, 0x0000, 0x0080, BUF_SEG, 0);
            assertFail(0x01);
            int13(0x05, 1, 0x0000, 0x1080, BUF_SEG, 0);
            assertFail(0x01);
            int13(0x05, 0, 0x0000, 0x0080, BUF_SEG, 0);
            assertFail(0x01);
        }
    }

    @Nested
    class ExtendedTransfers {
        @Test
        void readsBlocksAndKeepsTheCount() {
            extended(0x42, 3, BUF_SEG << 16 | 0x0010, 100, 0x80);
            assertOk();
            assertEquals(3, kit.memory.readWord(0x602));
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(GuestKit.patternSector(100 + i), guest(BUF + 0x10 + 512L * i, 512));
            }
        }

        @Test
        void bufferCrossingTheSegmentEndContinuesLinearly() {
            extended(0x42, 2, BUF_SEG << 16 | 0xFF00, 7, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(7), guest(BUF + 0xFF00, 512));
            assertArrayEquals(GuestKit.patternSector(8), guest(BUF + 0xFF00 + 512, 512));
        }

        @Test
        void countZeroIsANoOp() {
            extended(0x42, 0, BUF_SEG << 16, 5, 0x80);
            assertOk();
            assertArrayEquals(new byte[512], guest(BUF, 512));
        }

        @ParameterizedTest
        @ValueSource(ints = {129, 0x7FFF, 0xFFFF})
        void over64KibFailsWith09AndZeroesTheCount(int count) {
            extended(0x42, count, BUF_SEG << 16, 5, 0x80);
            assertFail(0x09);
            assertEquals(0, kit.memory.readWord(0x602));
            assertArrayEquals(new byte[512], guest(BUF, 512));
        }

        @Test
        void lbaAtOrBeyondTheEndFails01AndLeavesTheCount() {
            extended(0x42, 1, BUF_SEG << 16, SECTORS_64M, 0x80);
            assertFail(0x01);
            assertEquals(1, kit.memory.readWord(0x602));
            extended(0x42, 1, BUF_SEG << 16, -1L, 0x80);     // 64-bit LBA with the top bit set
            assertFail(0x01);
        }

        @Test
        void runPastTheEndMovesWhatExistsAndReportsTheCount() {
            kit.memory.fill(BUF, 4 * 512, (byte) 0xCC);
            extended(0x42, 4, BUF_SEG << 16, SECTORS_64M - 2, 0x80);
            assertFail(0x0C);   // SeaBIOS's answer (its ATA failure), not RBIL's 04h
            assertEquals(2, kit.memory.readWord(0x602), "blocks transferred");
            assertArrayEquals(GuestKit.patternSector(SECTORS_64M - 2), guest(BUF, 512));
            assertArrayEquals(GuestKit.patternSector(SECTORS_64M - 1), guest(BUF + 512, 512));
            byte[] untouched = guest(BUF + 1024, 1024);
            for (byte b : untouched) {
                assertEquals((byte) 0xCC, b);
            }
        }

        @Test
        void flat64BitBufferIsUsedWithFfffFfff() {
            long flat = 0x20_0000;   // 2 MiB: out of real-mode reach
            writeDap(0x600, 0x18, 2, 0xFFFF_FFFF, 40, flat);
            callWithDsSi(0x42, 0, 0x600, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(40), guest(flat, 512));
            assertArrayEquals(GuestKit.patternSector(41), guest(flat + 512, 512));
        }

        @Test
        void flat64BitBufferAboveRamIsRefusedAndNothingWritten() {
            writeDap(0x600, 0x18, 2, 0xFFFF_FFFF, 40, GuestKit.RAM - 512);
            callWithDsSi(0x42, 0, 0x600, 0x80);
            assertFail(0x01);
            assertEquals(0, kit.memory.readWord(0x602));
            assertArrayEquals(new byte[512], guest(GuestKit.RAM - 512, 512));
            writeDap(0x600, 0x18, 1, 0xFFFF_FFFF, 40, 0x8000_0000_0000_0000L);
            callWithDsSi(0x42, 0, 0x600, 0x80);
            assertFail(0x01);
        }

        @Test
        void packetOutsideRamIsRefused() {
            kit.regs.loadSegment(Segment.DS, 0x1000, GuestKit.RAM - 8);
            kit.regs.setSi(0);
            kit.regs.setAh(0x42);
            kit.regs.setDl(0x80);
            kit.interrupt(0x13);
            assertFail(0x01);
        }

        @Test
        void writeUpdatesTheImage() {
            kit.memory.write(BUF, GuestKit.patternSector(4242), 0, 512);
            kit.memory.write(BUF + 512, GuestKit.patternSector(4243), 0, 512);
            extended(0x43, 2, BUF_SEG << 16, 5000, 0x80);
            assertOk();
            assertEquals(2, kit.memory.readWord(0x602));
            assertArrayEquals(GuestKit.patternSector(4242), imageSector(kit.device(0), 5000));
            assertArrayEquals(GuestKit.patternSector(4243), imageSector(kit.device(0), 5001));
        }

        @Test
        void writeToReadOnlyFails03WithCountZero() throws Exception {
            kit.close();
            kit = GuestKit.withImages(DiskGeometry.Policy.PARTITION_TABLE_FIRST, null, true, small);
            kit.powerOn();
            extended(0x43, 2, BUF_SEG << 16, 5000, 0x80);
            assertFail(0x03);
            assertEquals(0, kit.memory.readWord(0x602));
        }

        @Test
        void verifyAndSeekCheckOnlyTheLba() {
            extended(0x44, 4, BUF_SEG << 16, 10, 0x80);
            assertOk();
            extended(0x47, 1, BUF_SEG << 16, 10, 0x80);
            assertOk();
            extended(0x47, 1, BUF_SEG << 16, SECTORS_64M, 0x80);
            assertFail(0x01);
            assertArrayEquals(new byte[512], guest(BUF, 512));
        }

        @Test
        void int13ReadIsOrderedAfterAWriteAlreadyInTheDrivesQueue() throws Exception {
            // The IDE device's queued DMA write (not yet completed) must be seen by INT 13h.
            BlockAio queue = kit.queue(0);
            ByteBuffer data = ByteBuffer.wrap(GuestKit.patternSector(77_777));
            CompletableFuture<Integer> ide = new CompletableFuture<>();
            queue.write(6000L * 512, data, ide::complete);
            extended(0x42, 1, BUF_SEG << 16, 6000, 0x80);
            assertOk();
            assertArrayEquals(GuestKit.patternSector(77_777), guest(BUF, 512));
            assertEquals(512, ide.get());
        }
    }

    @Nested
    class HostErrors {
        @Test
        void readErrorMapsTo10AndWriteErrorToCc() throws Exception {
            kit.close();
            BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + small
                    + ",inject-error.0.iotype=read,inject-error.0.errno=EIO,inject-error.0.sector=2000"
                    + ",inject-error.1.iotype=write,inject-error.1.errno=EIO,inject-error.1.sector=3000"));
            BlockAio aio = new BlockAio(dev, "test-aio-err");
            kit = new GuestKit(List.of(Int13Disk.attach(aio, AtaLocation.piix3(0, 0), null,
                    DiskGeometry.Policy.PARTITION_TABLE_FIRST)));
            try {
                kit.powerOn();
                extended(0x42, 1, BUF_SEG << 16, 2000, 0x80);
                assertFail(0x10);
                assertEquals(0, kit.memory.readWord(0x602));
                extended(0x43, 1, BUF_SEG << 16, 3000, 0x80);
                assertFail(0xCC);
                extended(0x42, 1, BUF_SEG << 16, 2001, 0x80);
                assertOk();
            } finally {
                aio.close();
                dev.close();
            }
        }

        /** Issue 11: an INT 13h write returns only after the drive's flush; a failed flush is CCh, and sticky. */
        @Test
        void firmwareWritesAreFlushedBeforeTheCallReturnsAndAFailedFlushIsCc() throws Exception {
            kit.close();
            BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + small
                    + ",inject-error.0.iotype=flush,inject-error.0.errno=EIO,inject-error.0.after=1"
                    + ",inject-error.0.once=on"));
            BlockAio aio = new BlockAio(dev, "test-aio-sync");
            kit = new GuestKit(List.of(Int13Disk.attach(aio, AtaLocation.piix3(0, 0), null,
                    DiskGeometry.Policy.PARTITION_TABLE_FIRST, Int13Disk.FirmwareWrites.SYNC)));
            try {
                kit.powerOn();
                long flushes = dev.stats().operations(BlockStats.Kind.FLUSH);
                extended(0x42, 1, BUF_SEG << 16, 10, 0x80);
                assertOk();
                assertEquals(flushes, dev.stats().operations(BlockStats.Kind.FLUSH), "a read does not flush");
                extended(0x43, 1, BUF_SEG << 16, 10, 0x80);
                assertOk();
                assertEquals(flushes + 1, dev.stats().operations(BlockStats.Kind.FLUSH), "the write was flushed");
                extended(0x43, 1, BUF_SEG << 16, 11, 0x80);
                assertFail(0xCC);   // the second flush fails (injected EIO)
                extended(0x43, 1, BUF_SEG << 16, 12, 0x80);
                assertFail(0xCC);   // the injection fired once, yet the error is sticky: never durable again
                extended(0x42, 1, BUF_SEG << 16, 12, 0x80);
                assertOk();         // reads still work
            } finally {
                aio.close();
                dev.close();
            }
        }

        /** Issue 11: format track changes nothing on the disk (SeaBIOS), so it neither writes nor flushes. */
        @Test
        void ah05FormatTrackNeitherWritesNorFlushes() throws Exception {
            kit.close();
            BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + small));
            BlockAio aio = new BlockAio(dev, "test-aio-format");
            kit = new GuestKit(List.of(Int13Disk.attach(aio, AtaLocation.piix3(0, 0), null,
                    DiskGeometry.Policy.PARTITION_TABLE_FIRST, Int13Disk.FirmwareWrites.SYNC)));
            try {
                kit.powerOn();
                byte[] before = imageSector(dev, 63);
                int13(0x05, 63, 0x0100, 0x0080, BUF_SEG, 0);    // cylinder 1, head 0: LBA 63-125
                assertOk();
                assertEquals(0, dev.stats().operations(BlockStats.Kind.WRITE));
                assertEquals(0, dev.stats().operations(BlockStats.Kind.FLUSH));
                assertArrayEquals(before, imageSector(dev, 63));
            } finally {
                aio.close();
                dev.close();
            }
        }

        @Test
        void firmwareWritesCacheLeavesTheWriteInTheCache() throws Exception {
            kit.close();
            BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + small
                    + ",inject-error.0.iotype=flush,inject-error.0.errno=EIO"));
            BlockAio aio = new BlockAio(dev, "test-aio-cache");
            kit = new GuestKit(List.of(Int13Disk.attach(aio, AtaLocation.piix3(0, 0), null,
                    DiskGeometry.Policy.PARTITION_TABLE_FIRST, Int13Disk.FirmwareWrites.CACHE)));
            try {
                kit.powerOn();
                extended(0x43, 1, BUF_SEG << 16, 10, 0x80);
                assertOk();
                assertEquals(0, dev.stats().operations(BlockStats.Kind.FLUSH));
            } finally {
                aio.close();
                dev.close();
            }
        }

        @Test
        void errnoMappingIsOneTable() {
            assertEquals(0x03, Int13DiskServices.statusForError(30, true));   // EROFS
            assertEquals(0x10, Int13DiskServices.statusForError(5, false));   // EIO read
            assertEquals(0xCC, Int13DiskServices.statusForError(28, true));   // ENOSPC write
            assertEquals(0x04, Int13DiskServices.statusForError(22, false));  // EINVAL
            assertEquals(0x20, Int13DiskServices.statusForError(95, false));  // EOPNOTSUPP
        }
    }

    @Nested
    class EddParametersCall {
        static final long RESULT = 0x700;

        void ah48(int size) {
            kit.memory.fill(RESULT, 0x60, (byte) 0xCC);
            kit.memory.writeWord(RESULT, size);
            callWithDsSi(0x48, 0, (int) RESULT, 0x80);
        }

        int checksum(long from, int length) {
            int sum = 0;
            for (int i = 0; i < length; i++) {
                sum += kit.memory.readByte(from + i);
            }
            return sum & 0xFF;
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 0x10, 0x19})
        void bufferSmallerThan1aFails01(int size) {
            ah48(size);
            assertFail(0x01);
            assertEquals(0xCCCC, kit.memory.readWord(RESULT + 2), "nothing written");
        }

        @Test
        void edd1xFillsTheFirst26Bytes() {
            ah48(0x1A);
            assertOk();
            assertEquals(0x1A, kit.memory.readWord(RESULT));
            assertEquals(0x0003, kit.memory.readWord(RESULT + 2), "DMA-transparent + CHS valid");
            assertEquals(130, kit.memory.readDword(RESULT + 4));
            assertEquals(16, kit.memory.readDword(RESULT + 8));
            assertEquals(63, kit.memory.readDword(RESULT + 12));
            assertEquals(SECTORS_64M, kit.memory.readQword(RESULT + 16));
            assertEquals(512, kit.memory.readWord(RESULT + 24));
            assertEquals(0xCC, kit.memory.readByte(RESULT + 0x1A), "nothing past the caller's size");
        }

        @Test
        void edd2xPointsAtAValidDpte() {
            ah48(0x1E);
            assertOk();
            assertEquals(0x1E, kit.memory.readWord(RESULT));
            int far = kit.memory.readDword(RESULT + 0x1A);
            long dpte = ((long) (far >>> 16) << 4) + (far & 0xFFFF);
            assertEquals(Ebda.BASE + Ebda.DPTE, dpte);
            assertEquals(0x1F0, kit.memory.readWord(dpte));
            assertEquals(0x3F6, kit.memory.readWord(dpte + 2));
            assertEquals(0xE0, kit.memory.readByte(dpte + 4));
            assertEquals(0xCB, kit.memory.readByte(dpte + 5));
            assertEquals(14, kit.memory.readByte(dpte + 6));
            assertEquals(1, kit.memory.readByte(dpte + 7));
            assertEquals(0x0010, kit.memory.readWord(dpte + 10), "LBA; no CHS translation at 130/16/63");
            assertEquals(0x11, kit.memory.readByte(dpte + 14));
            assertEquals(0, checksum(dpte, 16));
            assertEquals(0xCC, kit.memory.readByte(RESULT + 0x1E));
        }

        @Test
        void phoenixEdd30DevicePathFor66To73ByteBuffers() {
            ah48(0x49);
            assertOk();
            assertEquals(0x42, kit.memory.readWord(RESULT));
            assertEquals(0xBEDD, kit.memory.readWord(RESULT + 0x1E));
            assertEquals(36, kit.memory.readByte(RESULT + 0x20));
            assertEquals("PCI ", ascii(RESULT + 0x24, 4));
            assertEquals("ATA     ", ascii(RESULT + 0x28, 8));
            assertEquals(0, kit.memory.readByte(RESULT + 0x30), "bus");
            assertEquals(1, kit.memory.readByte(RESULT + 0x31), "device");
            assertEquals(1, kit.memory.readByte(RESULT + 0x32), "function");
            assertEquals(0, kit.memory.readByte(RESULT + 0x38), "master");
            assertEquals(0, checksum(RESULT + 0x1E, 0x42 - 0x1E));
            assertEquals(0xCC, kit.memory.readByte(RESULT + 0x42));
        }

        @ParameterizedTest
        @ValueSource(ints = {0x4A, 0x52})
        void t13Edd30For74ByteAndLargerBuffers(int size) {
            ah48(size);
            assertOk();
            assertEquals(0x4A, kit.memory.readWord(RESULT));
            assertEquals(44, kit.memory.readByte(RESULT + 0x20));
            assertEquals(0, checksum(RESULT + 0x1E, 0x4A - 0x1E));
            assertEquals(0xCC, kit.memory.readByte(RESULT + 0x4A), "GRUB's spare bytes stay untouched");
        }

        @Test
        void tenGibDiskReportsChsInvalidAnd3fffCylinders() throws Exception {
            kit.close();
            kit = GuestKit.withImages(big);
            kit.powerOn();
            ah48(0x1E);
            assertOk();
            assertEquals(0x0001, kit.memory.readWord(RESULT + 2));
            assertEquals(0x3FFF, kit.memory.readDword(RESULT + 4));
            assertEquals(SECTORS_10G, kit.memory.readQword(RESULT + 16));
            int far = kit.memory.readDword(RESULT + 0x1A);
            long dpte = ((long) (far >>> 16) << 4) + (far & 0xFFFF);
            assertEquals(0x0218, kit.memory.readWord(dpte + 10), "LBA + CHS translation, type LBA-assisted");
        }

        @Test
        void resultBufferCrossingTheEndOfRamFails() {
            kit.memory.writeWord(GuestKit.RAM - 0x20, 0x4A);
            kit.regs.loadSegment(Segment.DS, 0x1000, GuestKit.RAM - 0x20);
            kit.regs.setSi(0);
            kit.regs.setAh(0x48);
            kit.regs.setDl(0x80);
            kit.interrupt(0x13);
            assertFail(0x01);
        }

        String ascii(long at, int n) {
            return new String(guest(at, n), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

}
