package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.host.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.ioemu.devices.ide.Ata.*;
import static dev.ioemu.devices.ide.AtaTestDriver.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PIIX3 IDE model driven like a guest driver, mirroring QEMU's tests/qtest/ide-test.c
 * (nested classes follow its /ide/... paths) plus the register facts of shared/spec/ide.md.
 */
@Timeout(60)
class PiixIdeTest {
    static final long MIB = 1 << 20;
    /** ide-test's 7.2 image: 64 MiB → default geometry 130/16/63. */
    static final long IDE_TEST_IMAGE = 64 * MIB;
    static final long SMALL_IMAGE = 8 * MIB;
    static final long SMALL_SECTORS = SMALL_IMAGE / 512;
    /** Guest buffer and PRD table addresses (libqos allocates from 0x100000). */
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

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Nested
    class IdentifyDevice {
        @Test
        void identifyIsWordForWordQemuLayout() {
            ata.close();
            disk = new MemoryBlockDevice(IDE_TEST_IMAGE);
            ata = AtaTestDriver.withDisk(disk);
            ata.outb(ata.base + 6, 0);
            int[] w = ata.identify();
            int[] expected = new int[256];
            expected[0] = 0x0040;
            expected[1] = 130;
            expected[3] = 16;
            expected[4] = 0x7E00;
            expected[5] = 0x0200;
            expected[6] = 63;
            putString(expected, 10, "QM00001", 20);
            expected[20] = 0x0003;
            expected[21] = 0x0200;
            expected[22] = 0x0004;
            putString(expected, 23, "2.5+", 8);
            putString(expected, 27, "IOEMU HARDDISK", 40);
            expected[47] = 0x8010;
            expected[48] = 0x0001;
            expected[49] = 0x0B00;
            expected[51] = 0x0200;
            expected[52] = 0x0200;
            expected[53] = 0x0007;
            expected[54] = 130;
            expected[55] = 16;
            expected[56] = 63;
            expected[57] = 0xFFE0;
            expected[58] = 0x0001;
            expected[59] = 0x0110;
            expected[60] = 0x0000;
            expected[61] = 0x0002;
            expected[62] = 0x0007;
            expected[63] = 0x0007;
            expected[64] = 0x0003;
            expected[65] = expected[66] = expected[67] = expected[68] = 0x0078;
            expected[69] = 0x4000;
            expected[80] = 0x00F0;
            expected[81] = 0x0016;
            expected[82] = 0x4021;
            expected[83] = 0x7400;
            expected[84] = 0x4000;
            expected[85] = 0x4021;
            expected[86] = 0x3400;
            expected[87] = 0x4000;
            expected[88] = 0x203F;
            expected[93] = 0x6001;
            expected[100] = 0x0000;
            expected[101] = 0x0002;
            expected[106] = 0x6000;
            expected[169] = 0x0001;
            for (int i = 0; i < 256; i++) {
                assertEquals(expected[i], w[i], "IDENTIFY word " + i);
            }
        }

        @Test
        void identifyRaisesIrqOnceAndDrqPerWord() {
            ata.command(CMD_IDENTIFY_DEVICE);
            assertTrue(ata.irq.level());
            assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, ata.status());
            assertFalse(ata.irq.level(), "status read lowers IRQ");
            for (int i = 0; i < 256; i++) {
                assertBitsSet(ata.altStatus(), STATUS_DRDY | STATUS_DRQ);
                ata.inw(ata.base);
            }
            assertEquals(STATUS_DRDY | STATUS_DSC, ata.altStatus());
            assertFalse(ata.irq.level(), "no IRQ after the last word");
        }

        @Test
        void serialModelVersionComeFromConfig() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(0, 1, new IdeDriveConfig(new MemoryBlockDevice(SMALL_IMAGE), IdeDriveKind.DISK,
                        "QEMU HARDDISK", "testdisk", "version", null, null, null));
                d.select(1);
                int[] w = d.identify();
                assertEquals("testdisk            ", string(w, 10, 20));
                assertEquals("version ", string(w, 23, 8));
                assertEquals("QEMU HARDDISK", string(w, 27, 40).trim());
            } finally {
                d.close();
            }
        }

        @Test
        void defaultSerialNumbersUnitsByPosition() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(1, 1, IdeDriveConfig.disk(new MemoryBlockDevice(SMALL_IMAGE)));
                d.secondary();
                d.select(1);
                assertEquals("QM00004", string(d.identify(), 10, 20).trim());
            } finally {
                d.close();
            }
        }

        @Test
        void lba28CapacityIsCappedAndGeometryClampsForLargeDisks() {
            assertEquals(new Geometry(16383, 16, 63), Geometry.standard(300_000_000L));
            assertEquals(new Geometry(2, 16, 63), Geometry.standard(100));
            int[] w = new int[256];
            byte[] out = new byte[512];
            Identify.buildDisk(out, new Identify.DiskInfo("s", "f", "m",
                    0x1_2345_6789L, 16383, 16, 63, 16, true, true));
            for (int i = 0; i < 256; i++) {
                w[i] = Identify.get(out, i);
            }
            assertEquals(0xFFFF, w[60]);
            assertEquals(0x0FFF, w[61]);
            assertEquals(0x6789, w[100]);
            assertEquals(0x2345, w[101]);
            assertEquals(0x0001, w[102]);
            assertEquals(0xFC10, w[57]);
            assertEquals(0x00FB, w[58]);
        }

        @Test
        void mbrGeometryIsUsedWhenUsable() {
            MemoryBlockDevice d = new MemoryBlockDevice(SMALL_IMAGE);
            byte[] b = d.bytes();
            b[510] = 0x55;
            b[511] = (byte) 0xAA;
            int e = 0x1BE;
            b[e + 5] = 7;                // end head → 8 heads
            b[e + 6] = 32;               // end sector 32
            b[e + 12] = 0x10;            // non-zero length
            assertEquals(new Geometry((int) (SMALL_SECTORS / (8 * 32)), 8, 32), Geometry.guess(d, SMALL_SECTORS));
        }

        private void putString(int[] words, int first, String s, int length) {
            String padded = String.format("%-" + length + "s", s);
            for (int i = 0; i < length / 2; i++) {
                words[first + i] = padded.charAt(2 * i) << 8 | padded.charAt(2 * i + 1);
            }
        }

        private String string(int[] words, int first, int length) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < length / 2; i++) {
                sb.append((char) (words[first + i] >> 8)).append((char) (words[first + i] & 0xFF));
            }
            return sb.toString();
        }
    }

    @Nested
    class Registers {
        @Test
        void powerOnRegistersOfADisk() {
            assertEquals(0x50, ata.status());
            assertEquals(0x00, ata.error());
            assertEquals(0x01, ata.inb(ata.base + 2));
            assertEquals(0x01, ata.inb(ata.base + 3));
            assertEquals(0x00, ata.inb(ata.base + 4));
            assertEquals(0x00, ata.inb(ata.base + 5));
            assertEquals(0xA0, ata.inb(ata.base + 6));
        }

        @Test
        void absentSlaveReadsZeroStatusAndShadowSignature() {
            ata.outb(ata.base + 6, 0xB0);
            assertEquals(0x00, ata.status());
            assertEquals(0x00, ata.altStatus());
            assertEquals(0x00, ata.error());
            assertEquals(0x01, ata.inb(ata.base + 2));
            assertEquals(0x01, ata.inb(ata.base + 3));
            assertEquals(0xFF, ata.inb(ata.base + 4));
            assertEquals(0xFF, ata.inb(ata.base + 5));
            assertEquals(0xB0, ata.inb(ata.base + 6));
        }

        @Test
        void commandsToAnAbsentSlaveAreIgnored() {
            ata.outb(ata.base + 6, 0xB0);
            ata.command(CMD_EXECUTE_DEVICE_DIAGNOSTIC);
            ata.command(CMD_IDENTIFY_DEVICE);
            assertFalse(ata.irq.level());
            assertEquals(0x00, ata.status());
        }

        @Test
        void emptyBusReadsZeroButAbsentMasterStillInterrupts() {
            ata.secondary();
            for (int reg = 1; reg <= 7; reg++) {
                assertEquals(0x00, ata.inb(ata.base + reg), "register " + reg);
            }
            ata.command(CMD_IDENTIFY_DEVICE);
            assertTrue(ata.irq.level(), "absent master executes and interrupts");
            assertEquals(0x00, ata.status());
            assertEquals(0x00, ata.error());
        }

        @Test
        void absentMasterWithSlavePresentAborts() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(0, 1, IdeDriveConfig.disk(new MemoryBlockDevice(SMALL_IMAGE)));
                assertEquals(0x50, d.status());
                d.command(CMD_IDENTIFY_DEVICE);
                assertTrue(d.irq.level());
                assertEquals(STATUS_DRDY | STATUS_ERR, d.status());
                assertEquals(ERR_ABRT, d.error());
                d.command(CMD_FLUSH_CACHE);
                d.awaitNotBusy();
                assertEquals(0x50, d.status());
            } finally {
                d.close();
            }
        }

        @Test
        void writesWhileDrqPendingAreIgnored() {
            ata.command(CMD_IDENTIFY_DEVICE);
            ata.outb(ata.base + 3, 0x77);
            ata.outb(ata.base + 6, 0xB0);
            assertEquals(0xA0, ata.inb(ata.base + 6), "cannot switch drives while DRQ");
            assertEquals(0x01, ata.inb(ata.base + 3));
        }

        @Test
        void lba48HobReadback() {
            ata.setLba48(0x0000_A1B2_C3D4_E5F6L & 0xFFFF_FFFF_FFFFL, 0x1234);
            assertEquals(0x34, ata.inb(ata.base + 2));
            assertEquals(0xF6, ata.inb(ata.base + 3));
            assertEquals(0xE5, ata.inb(ata.base + 4));
            assertEquals(0xD4, ata.inb(ata.base + 5));
            ata.outb(ata.ctrl, 0x80);
            assertEquals(0x12, ata.inb(ata.base + 2));
            assertEquals(0xC3, ata.inb(ata.base + 3));
            assertEquals(0xB2, ata.inb(ata.base + 4));
            assertEquals(0xA1, ata.inb(ata.base + 5));
            ata.outb(ata.base + 1, 0);
            assertEquals(0xF6, ata.inb(ata.base + 3), "a register write clears HOB");
        }

        @Test
        void softResetLeavesSignaturesAndKeepsSelectedUnit() {
            ata.outb(ata.ctrl, 0x04);
            ata.outb(ata.ctrl, 0x00);
            assertEquals(0x50, ata.status());
            assertEquals(0x01, ata.error());
            assertEquals(0x01, ata.inb(ata.base + 2));
            assertEquals(0x01, ata.inb(ata.base + 3));
            assertEquals(0x00, ata.inb(ata.base + 4));
            assertEquals(0x00, ata.inb(ata.base + 5));
            assertEquals(0xA0, ata.inb(ata.base + 6));
            ata.outb(ata.base + 6, 0xB0);
            ata.outb(ata.ctrl, 0x04);
            assertEquals(0xA0, ata.inb(ata.base + 6), "device registers read 0xA0 after SRST");
            assertEquals(0x00, ata.status(), "still the absent slave selected");
            assertEquals(0xFF, ata.inb(ata.base + 4));
        }

        @Test
        void softResetStopsAPioTransfer() {
            ata.setLba28(0, 4);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            ata.outb(ata.ctrl, 0x04);
            assertEquals(0x50, ata.status());
            assertEquals(0, ata.inw(ata.base));
        }

        @Test
        void diagnosticSelectsNoUnitInDeviceRegisterButKeepsSelection() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(0, 0, IdeDriveConfig.disk(new MemoryBlockDevice(SMALL_IMAGE)));
                d.ide.attach(0, 1, IdeDriveConfig.disk(new MemoryBlockDevice(SMALL_IMAGE)));
                d.outb(d.base + 6, 0x10);
                assertEquals(0x10, d.inb(d.base + 6) & 0x10);
                d.command(CMD_EXECUTE_DEVICE_DIAGNOSTIC);
                assertEquals(0, d.inb(d.base + 6) & 0x10);
                assertEquals(0x50, d.status());
                assertEquals(0x01, d.error());
            } finally {
                d.close();
            }
        }

        @Test
        void nienSuppressesIrqAndBmInterrupt() {
            ata.outb(ata.ctrl, 0x02);
            ata.command(CMD_IDENTIFY_DEVICE);
            assertFalse(ata.irq.level());
            assertEquals(0, ata.inb(ata.bm + 2) & BM_STATUS_INTERRUPT);
            ata.outb(ata.ctrl, 0x00);
            assertFalse(ata.irq.level(), "clearing nIEN does not re-raise");
        }

        @Test
        void pioCommandsAlsoSetBmInterrupt() {
            ata.command(0xE5);
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
        }

        @Test
        void wideAccessesToRegistersFollowThePortList() {
            assertEquals(0xFF50, ata.inw(ata.base + 7));
            assertEquals(0xFFFF_FFFF, ata.inl(ata.base + 1));
            assertEquals(0x0101, ata.inw(ata.base + 2));
        }
    }

    @Nested
    class Commands {
        @Test
        void nopAndUnknownOpcodesAbort() {
            for (int op : new int[]{0x00, 0x08, 0x2F, 0xFF, 0xA0, 0xA1}) {
                ata.command(op);
                assertTrue(ata.irq.level(), "IRQ for 0x" + Integer.toHexString(op));
                assertEquals(STATUS_DRDY | STATUS_ERR, ata.status());
                assertEquals(ERR_ABRT, ata.error());
            }
        }

        @ParameterizedTest
        @CsvSource({"0x10,0x50", "0x70,0x50", "0x94,0x40", "0xE0,0x40", "0xE1,0x40", "0xE2,0x40", "0xE3,0x40",
                "0xE6,0x40", "0x99,0x40", "0x40,0x50", "0x42,0x50", "0xF5,0x50"})
        void nonDataCommandsCompleteWithQemuStatus(String op, String status) {
            ata.command(Integer.decode(op));
            assertTrue(ata.irq.level());
            assertEquals((int) Integer.decode(status), ata.status());
            assertEquals(0, ata.error());
        }

        @Test
        void checkPowerModeReportsActive() {
            ata.command(0xE5);
            assertEquals(0x50, ata.status());
            assertEquals(0xFF, ata.sectorCount());
        }

        @Test
        void setMultipleModeAcceptsPowersOfTwoUpTo16() {
            for (int n : new int[]{0, 1, 2, 4, 8, 16}) {
                ata.outb(ata.base + 2, n);
                ata.command(CMD_SET_MULTIPLE_MODE);
                assertEquals(0x50, ata.status(), "count " + n);
            }
            for (int n : new int[]{3, 32, 255}) {
                ata.outb(ata.base + 2, n);
                ata.command(CMD_SET_MULTIPLE_MODE);
                assertEquals(0x41, ata.status(), "count " + n);
            }
        }

        @Test
        void readMultipleAbortsWhenMultipleModeIsOff() {
            ata.outb(ata.base + 2, 0);
            ata.command(CMD_SET_MULTIPLE_MODE);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_MULTIPLE);
            assertEquals(0x41, ata.status());
        }

        @Test
        void readNativeMaxAddressLba28AndExt() {
            ata.outb(ata.base + 6, 0x40);
            ata.command(0xF8);
            assertEquals(0x50, ata.status());
            long last = SMALL_SECTORS - 1;
            assertEquals(last & 0xFF, ata.inb(ata.base + 3));
            assertEquals((last >> 8) & 0xFF, ata.inb(ata.base + 4));
            assertEquals((last >> 16) & 0xFF, ata.inb(ata.base + 5));
            ata.command(0x27);
            ata.outb(ata.ctrl, 0x80);
            assertEquals(0, ata.inb(ata.base + 3));
            assertEquals(0, ata.inb(ata.base + 5));
        }

        @Test
        void readNativeMaxInChsModeIgnoresInitializeDeviceParameters() {
            ata.close();
            // Upstream ide-test's /ide/read_native image: exactly 130 x 16 x 63 sectors.
            disk = new MemoryBlockDevice(130L * 16 * 63 * 512);
            ata = AtaTestDriver.withDisk(disk);
            ata.outb(ata.base + 2, 0);
            ata.outb(ata.base + 6, 0xA0);
            ata.command(0x91);
            assertEquals(0x50, ata.status());
            ata.command(0xF8);
            assertEquals(0x50, ata.status());
            assertEquals(15, ata.inb(ata.base + 6) & 0x0F, "head 15 → 16 heads");
            assertEquals(129, ata.inb(ata.base + 4) | ata.inb(ata.base + 5) << 8, "cylinder 129 → 130");
            assertEquals(63, ata.inb(ata.base + 3));
        }

        /** QEMU 7.2 (our peer) converts with the geometry INITIALIZE DEVICE PARAMETERS set. */
        @Test
        void readNativeMaxInChsModeUsesTheCurrentGeometryAsQemu72() {
            ata.close();
            disk = new MemoryBlockDevice(130L * 16 * 63 * 512);
            ata = AtaTestDriver.withDisk(disk);
            ata.outb(ata.base + 2, 16);
            ata.outb(ata.base + 6, 0xA0);
            ata.command(0x91);
            ata.command(0xF8);
            assertEquals(0x50, ata.status());
            long last = 130L * 16 * 63 - 1;
            assertEquals(last / 16, ata.inb(ata.base + 4) | ata.inb(ata.base + 5) << 8, "cylinder with 1 head x 16 sectors");
            assertEquals(0, ata.inb(ata.base + 6) & 0x0F);
            assertEquals(last % 16 + 1, ata.inb(ata.base + 3));
        }

        @Test
        void setTransferModeRewritesIdentifyWords() {
            ata.identify();
            ata.outb(ata.base + 1, 0x03);
            ata.outb(ata.base + 2, 0x22);
            ata.command(CMD_SET_FEATURES);
            assertEquals(0x50, ata.status());
            int[] w = ata.identify();
            assertEquals(0x0007, w[62]);
            assertEquals(0x0407, w[63]);
            assertEquals(0x003F, w[88]);
            ata.outb(ata.base + 1, 0x03);
            ata.outb(ata.base + 2, 0x18);
            ata.command(CMD_SET_FEATURES);
            assertEquals(0x41, ata.status());
        }

        @Test
        void writeCacheToggleChangesWord85AndBackend() {
            ata.identify();
            assertTrue(disk.isWriteCacheEnabled());
            int flushes = disk.flushCount();
            ata.outb(ata.base + 1, 0x82);
            ata.command(CMD_SET_FEATURES);
            ata.awaitNotBusy();
            assertEquals(0x50, ata.status());
            assertFalse(disk.isWriteCacheEnabled());
            assertEquals(flushes + 1, disk.flushCount(), "disabling the cache flushes it");
            assertEquals(0x4001, ata.identify()[85]);
            ata.outb(ata.base + 1, 0x02);
            ata.command(CMD_SET_FEATURES);
            assertEquals(0x50, ata.status());
            assertTrue(disk.isWriteCacheEnabled());
            assertEquals(0x4021, ata.identify()[85]);
        }

        @Test
        void writeCacheFollowsCacheModeAtStart() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                MemoryBlockDevice wt = new MemoryBlockDevice(SMALL_IMAGE, CacheMode.WRITETHROUGH);
                wt.setWriteCacheEnabled(true);
                d.ide.attach(0, 0, IdeDriveConfig.disk(wt));
                assertFalse(wt.isWriteCacheEnabled());
                assertEquals(0x4001, d.identify()[85]);
            } finally {
                d.close();
            }
        }

        @Test
        void unknownSetFeaturesAborts() {
            ata.outb(ata.base + 1, 0x01);
            ata.command(CMD_SET_FEATURES);
            assertEquals(0x41, ata.status());
            ata.outb(ata.base + 1, 0xAA);
            ata.command(CMD_SET_FEATURES);
            assertEquals(0x50, ata.status());
        }

        @Test
        void smartNeedsKeyAndReturnsStatusAndData() {
            ata.outb(ata.base + 1, 0xDA);
            ata.command(0xB0);
            assertEquals(0x41, ata.status(), "no 4F/C2 key");
            ata.outb(ata.base + 4, 0x4F);
            ata.outb(ata.base + 5, 0xC2);
            ata.outb(ata.base + 1, 0xDA);
            ata.command(0xB0);
            assertEquals(0x50, ata.status());
            assertEquals(0x4F, ata.inb(ata.base + 4));
            assertEquals(0xC2, ata.inb(ata.base + 5));
            ata.outb(ata.base + 1, 0xD0);
            ata.command(0xB0);
            assertEquals(0x58, ata.status());
            int[] w = ata.readWords(256);
            int sum = 0;
            for (int x : w) {
                sum += (x & 0xFF) + (x >> 8);
            }
            assertEquals(0, sum & 0xFF, "SMART page checksum");
            assertEquals(0x01, w[0] & 0xFF);
            assertEquals(0x50, ata.status());
        }
    }

    @Nested
    class Pio {
        @Test
        void readSectorsReturnsImageDataAndAdvancesRegisters() {
            byte[] data = pattern(4 * 512, 1);
            System.arraycopy(data, 0, disk.bytes(), 100 * 512, data.length);
            assertArrayEquals(data, ata.readSectorsPio(100, 4));
            assertEquals(0, ata.sectorCount());
            assertEquals(104, ata.inb(ata.base + 3));
        }

        @Test
        void writeSectorsReachesTheImage() {
            byte[] data = pattern(3 * 512, 2);
            ata.writeSectorsPio(7, data);
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 7 * 512, 10 * 512));
            assertArrayEquals(data, ata.readSectorsPio(7, 3));
        }

        @Test
        void firstWriteBlockIsRequestedWithoutIrq() {
            ata.setLba28(0, 1);
            ata.command(CMD_WRITE_SECTORS);
            assertEquals(0x58, ata.altStatus());
            assertFalse(ata.irq.level());
        }

        @Test
        void readMultipleDeliversBlocksOfN() {
            ata.outb(ata.base + 2, 4);
            ata.command(CMD_SET_MULTIPLE_MODE);
            ata.status();
            byte[] data = pattern(10 * 512, 3);
            System.arraycopy(data, 0, disk.bytes(), 0, data.length);
            ata.setLba28(0, 10);
            ata.command(CMD_READ_MULTIPLE);
            byte[] got = new byte[data.length];
            int pos = 0;
            for (int block : new int[]{4, 4, 2}) {
                ata.awaitNotBusy();
                assertTrue(ata.irq.level());
                assertEquals(0x58, ata.status());
                for (int i = 0; i < block * 256; i++) {
                    int w = ata.inw(ata.base);
                    got[pos++] = (byte) w;
                    got[pos++] = (byte) (w >> 8);
                }
            }
            assertArrayEquals(data, got);
            assertEquals(0x50, ata.awaitNotBusy());
        }

        @Test
        void writeMultipleWritesBlocksOfN() {
            ata.outb(ata.base + 2, 8);
            ata.command(CMD_SET_MULTIPLE_MODE);
            byte[] data = pattern(12 * 512, 4);
            ata.setLba28(20, 12);
            ata.command(CMD_WRITE_MULTIPLE);
            int pos = 0;
            for (int block : new int[]{8, 4}) {
                assertEquals(0x58, ata.altStatus());
                for (int i = 0; i < block * 256; i++) {
                    ata.outw(ata.base, (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8);
                    pos += 2;
                }
                ata.awaitNotBusy();
                assertTrue(ata.irq.level());
                ata.status();
            }
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 20 * 512, 32 * 512));
        }

        @Test
        void repInswOfASectorIsOneCall() {
            byte[] data = pattern(512, 5);
            System.arraycopy(data, 0, disk.bytes(), 0, 512);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            int n = ata.bus.readString(ata.base, 2, 256, ata.memory.span(BUFFER, 512));
            assertEquals(256, n);
            byte[] got = new byte[512];
            ata.memory.read(BUFFER, got, 0, 512);
            assertArrayEquals(data, got);
            assertEquals(0x50, ata.altStatus());
        }

        @Test
        void repOutsdWritesASector() {
            byte[] data = pattern(512, 6);
            ata.memory.write(BUFFER, data, 0, 512);
            ata.setLba28(3, 1);
            ata.command(CMD_WRITE_SECTORS);
            assertEquals(128, ata.bus.writeString(ata.base, 4, 128, ata.memory.span(BUFFER, 512)));
            ata.awaitNotBusy();
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 3 * 512, 4 * 512));
        }

        @Test
        void thirtyTwoBitAndEightBitDataReads() {
            byte[] data = pattern(512, 7);
            System.arraycopy(data, 0, disk.bytes(), 0, 512);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            int dword = ata.inl(ata.base);
            assertEquals((data[0] & 0xFF) | (data[1] & 0xFF) << 8 | (data[2] & 0xFF) << 16 | (data[3] & 0xFF) << 24, dword);
            assertEquals(data[4] & 0xFF, ata.inb(ata.base), "8-bit read consumes a word, returns its low byte");
            assertEquals(data[6] & 0xFF | (data[7] & 0xFF) << 8, ata.inw(ata.base));
            for (int i = 8; i < 510; i += 2) {
                ata.inw(ata.base);
            }
            assertEquals(0, ata.inl(ata.base), "32-bit read with 2 bytes left returns 0");
            assertBitsSet(ata.altStatus(), STATUS_DRQ);
            assertEquals(data[510] & 0xFF | (data[511] & 0xFF) << 8, ata.inw(ata.base));
            assertEquals(0x50, ata.altStatus());
        }

        @Test
        void lba48ReadUsesHighOrderBytes() {
            byte[] data = pattern(2 * 512, 8);
            System.arraycopy(data, 0, disk.bytes(), 0x1234 * 512, data.length);
            ata.setLba48(0x1234, 2);
            ata.command(CMD_READ_SECTORS_EXT);
            byte[] got = new byte[1024];
            for (int s = 0; s < 2; s++) {
                ata.awaitNotBusy();
                for (int i = 0; i < 256; i++) {
                    int w = ata.inw(ata.base);
                    got[s * 512 + 2 * i] = (byte) w;
                    got[s * 512 + 2 * i + 1] = (byte) (w >> 8);
                }
            }
            assertArrayEquals(data, got);
            assertEquals(0x36, ata.inb(ata.base + 3));
            assertEquals(0x12, ata.inb(ata.base + 4));
        }

        @Test
        void chsAddressingUsesCurrentGeometry() {
            byte[] data = pattern(512, 9);
            // cylinder 1, head 2, sector 3 with 16 heads x 63 sectors
            long lba = 1L * 16 * 63 + 2 * 63 + 2;
            System.arraycopy(data, 0, disk.bytes(), (int) lba * 512, 512);
            ata.outb(ata.base + 2, 1);
            ata.outb(ata.base + 3, 3);
            ata.outb(ata.base + 4, 1);
            ata.outb(ata.base + 5, 0);
            ata.outb(ata.base + 6, 0xA2);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            int[] w = ata.readWords(256);
            assertEquals((data[0] & 0xFF) | (data[1] & 0xFF) << 8, w[0]);
            assertEquals(4, ata.inb(ata.base + 3), "next sector in CHS");
        }

        @Test
        void readPastTheEndAbortsWithAbrt() {
            ata.setLba28(SMALL_SECTORS, 1);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            assertTrue(ata.irq.level());
            assertEquals(0x41, ata.status());
            assertEquals(ERR_ABRT, ata.error());
            assertEquals(SMALL_SECTORS & 0xFF, ata.inb(ata.base + 3), "registers keep the failing address");
            ata.readSectorsPio(SMALL_SECTORS - 1, 1);
        }

        @Test
        void writePastTheEndAbortsAfterTheBlock() {
            ata.setLba28(SMALL_SECTORS, 1);
            ata.command(CMD_WRITE_SECTORS);
            assertEquals(0x58, ata.altStatus());
            for (int i = 0; i < 256; i++) {
                ata.outw(ata.base, 0xFFFF);
            }
            ata.awaitNotBusy();
            assertEquals(0x41, ata.status());
            assertEquals(ERR_ABRT, ata.error());
        }

        @Test
        void readVerifyAndSeekNeverRangeCheck() {
            ata.setLba28(0x0FFF_FFFF, 0);
            ata.command(0x40);
            assertEquals(0x50, ata.status());
            ata.command(0x70);
            assertEquals(0x50, ata.status());
        }
    }

    @Nested
    class Flush {
        @Test
        void flushCacheIsDurableBeforeStatusClearsBsy() throws Exception {
            ata.writeSectorsPio(1, pattern(512, 10));
            disk.holdNextFlush();
            ata.command(CMD_FLUSH_CACHE);
            disk.awaitFlushHeld();
            assertEquals(STATUS_BSY | STATUS_DRDY, ata.altStatus(), "BSY while the backend flush runs");
            assertFalse(ata.irq.level());
            assertEquals(0, disk.flushCount());
            disk.releaseFlush();
            ata.awaitNotBusy();
            assertEquals(1, disk.flushCount());
            assertTrue(ata.irq.level());
            assertEquals(0x50, ata.status());
        }

        @Test
        void flushCacheExtIsTheSame() {
            ata.command(CMD_FLUSH_CACHE_EXT);
            ata.awaitNotBusy();
            assertEquals(0x50, ata.status());
            assertEquals(1, disk.flushCount());
        }

        @Test
        void failedFlushReportsErrAbrt() {
            disk.inject(MemoryBlockDevice.Op.FLUSH, Errno.EIO, true);
            ata.command(CMD_FLUSH_CACHE);
            ata.awaitNotBusy();
            assertTrue(ata.irq.level());
            assertEquals(STATUS_DRDY | STATUS_ERR, ata.status());
            assertEquals(ERR_ABRT, ata.error());
        }

        @Test
        void failedFlushWithWerrorStopPausesAndRetriesOnResume() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                MemoryBlockDevice m = new MemoryBlockDevice(SMALL_IMAGE);
                d.ide.attach(0, 0, new IdeDriveConfig(m, IdeDriveKind.DISK, null, null, null,
                        ErrorPolicy.STOP, ErrorPolicy.STOP, null));
                m.inject(MemoryBlockDevice.Op.FLUSH, Errno.EIO, true);
                d.command(CMD_FLUSH_CACHE);
                d.ide.drain();
                assertEquals(List.of("io-error"), d.stopRequests);
                assertEquals(STATUS_BSY | STATUS_DRDY, d.altStatus(), "BSY while stopped");
                d.ide.resume();
                d.awaitNotBusy();
                assertEquals(0x50, d.status());
                assertEquals(2, m.flushCount());
            } finally {
                d.close();
            }
        }

        /** QEMU 7.2 over qtest: no unit → success; empty tray → ENOMEDIUM → werror report → ABRT. */
        @Test
        void flushToAbsentMasterSucceedsAndToAnEmptyCdAborts() {
            ata.secondary();
            ata.command(CMD_FLUSH_CACHE);
            assertTrue(ata.irq.level());
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(0, 0, IdeDriveConfig.cdrom(null));
                d.command(CMD_FLUSH_CACHE);
                d.awaitNotBusy();
                assertEquals(0x41, d.status());
                assertEquals(0x04, d.error());
                d.assertNoInternalErrors();
            } finally {
                d.close();
            }
        }
    }

    @Nested
    class Lifecycle {
        @Test
        void drainAndFlushFlushesEveryDisk() {
            MemoryBlockDevice slave = new MemoryBlockDevice(SMALL_IMAGE);
            ata.ide.attach(0, 1, IdeDriveConfig.disk(slave));
            ata.writeSectorsPio(0, pattern(512, 40));
            ata.ide.drainAndFlush();
            assertEquals(1, disk.flushCount());
            assertEquals(1, slave.flushCount());
        }

        @Test
        void machineResetRestoresPowerOnRegistersAndSelection() {
            ata.outb(ata.base + 6, 0xB0);
            ata.outb(ata.ctrl, 0x02);
            ata.ide.reset();
            assertEquals(0xA0, ata.inb(ata.base + 6));
            assertEquals(0x50, ata.status());
            assertEquals(0x00, ata.error());
            ata.command(0xE5);
            assertTrue(ata.irq.level(), "nIEN cleared by reset");
        }

        @Test
        void closeUnmapsThePorts() {
            ata.close();
            assertFalse(ata.bus.isMapped(0x1F0));
            assertFalse(ata.bus.isMapped(0x3F6));
            assertFalse(ata.bus.isMapped(AtaTestDriver.BM_BASE));
            ata.close();
        }
    }

    @Nested
    class ErrorPolicies {
        @Test
        void readErrorReportedAsAbrt() {
            disk.inject(MemoryBlockDevice.Op.READ, Errno.EIO, true);
            ata.setLba28(0, 1);
            ata.command(CMD_READ_SECTORS);
            ata.awaitNotBusy();
            assertTrue(ata.irq.level());
            assertEquals(0x41, ata.status());
            assertEquals(ERR_ABRT, ata.error());
        }

        @Test
        void readErrorIgnoredCarriesOn() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                MemoryBlockDevice m = new MemoryBlockDevice(SMALL_IMAGE);
                d.ide.attach(0, 0, new IdeDriveConfig(m, IdeDriveKind.DISK, null, null, null,
                        ErrorPolicy.IGNORE, null, null));
                m.inject(MemoryBlockDevice.Op.READ, Errno.EIO, true);
                d.readSectorsPio(0, 2);
            } finally {
                d.close();
            }
        }

        @Test
        void writeEnospcStopsThenResumeRetries() {
            disk.inject(MemoryBlockDevice.Op.WRITE, Errno.ENOSPC, true);
            byte[] data = pattern(512, 11);
            ata.setLba28(5, 1);
            ata.command(CMD_WRITE_SECTORS);
            for (int i = 0; i < 256; i++) {
                ata.outw(ata.base, (data[2 * i] & 0xFF) | (data[2 * i + 1] & 0xFF) << 8);
            }
            ata.ide.drain();
            assertEquals(List.of("io-error"), ata.stopRequests, "werror=enospc default stops on ENOSPC");
            ata.ide.resume();
            ata.awaitNotBusy();
            assertEquals(0x50, ata.status());
            assertArrayEquals(data, Arrays.copyOfRange(disk.bytes(), 5 * 512, 6 * 512));
        }

        @Test
        void parseAcceptsQemuNames() {
            assertEquals(ErrorPolicy.ENOSPC, ErrorPolicy.parse("enospc"));
            assertEquals(ErrorPolicy.STOP, ErrorPolicy.parse("stop"));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ErrorPolicy.parse("halt"));
        }

        @Test
        void readOnlyDiskIsRefused() {
            MemoryBlockDevice ro = new MemoryBlockDevice(SMALL_IMAGE);
            ro.setReadOnly(true);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> ata.ide.attach(0, 1, IdeDriveConfig.disk(ro)));
        }
    }
}
