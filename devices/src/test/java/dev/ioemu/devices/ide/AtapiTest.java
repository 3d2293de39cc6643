package dev.ioemu.devices.ide;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;

import static dev.ioemu.devices.ide.Ata.*;
import static dev.ioemu.devices.ide.AtaTestDriver.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ATAPI CD-ROM on ide.0 unit 0, as ide-test's /ide/cdrom/... drives it (shared/spec/ide.md §3.2, §4.3, §9). */
@Timeout(60)
class AtapiTest {
    static final long BUFFER = 0x100000;
    static final long TABLE = 0x200000;

    MemoryBlockDevice media;
    AtaTestDriver ata;

    @BeforeEach
    void setUp() {
        media = new MemoryBlockDevice(64 * 2048);
        byte[] b = media.bytes();
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + i / 2048);
        }
        ata = new AtaTestDriver();
        ata.ide.attach(0, 0, IdeDriveConfig.cdrom(media));
        ata.enableBusMaster();
    }

    @AfterEach
    void tearDown() {
        ata.assertNoInternalErrors();
        ata.close();
    }

    /** Sends PACKET with the given BCL and Features, then the 12-byte CDB as six outw. */
    void sendPacket(int bcl, int features, byte[] cdb) {
        assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, ata.driver.startPacket(bcl, features));
        assertEquals(ATAPI_REASON_COD, ata.sectorCount(), "interrupt reason: command packet");
        assertFalse(ata.irq.level(), "no IRQ before the packet");
        ata.driver.writePacket(cdb);
    }

    static byte[] read10(long lba, int blocks) {
        return new byte[]{0x28, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba, 0,
                (byte) (blocks >> 8), (byte) blocks, 0, 0, 0};
    }

    /** Reads a PIO reply chunk by chunk; checks IRQ, reason and byte count per chunk. */
    byte[] pioReply(int expectedLength, int bcl) {
        byte[] out = new byte[expectedLength];
        int pos = 0;
        while (pos < expectedLength) {
            ata.awaitNotBusy();
            assertTrue(ata.irq.level(), "IRQ per chunk");
            int st = ata.status();
            assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, st);
            assertEquals(0x02, ata.sectorCount(), "reason IO");
            int count = ata.driver.byteCount();
            assertTrue(count <= bcl && count > 0, "byte count " + count);
            for (int i = 0; i < count; i += 2) {
                int w = ata.inw(ata.base);
                out[pos + i] = (byte) w;
                out[pos + i + 1] = (byte) (w >> 8);
            }
            pos += count;
        }
        ata.awaitNotBusy();
        assertTrue(ata.irq.level(), "completion IRQ");
        assertEquals(0x50, ata.status());
        assertEquals(0x03, ata.sectorCount(), "reason IO|CoD");
        return out;
    }

    @Nested
    class Identification {
        @Test
        void powerOnSignature() {
            assertEquals(0x50, ata.status());
            assertEquals(0x00, ata.error());
            assertEquals(0x01, ata.inb(ata.base + 2));
            assertEquals(0x01, ata.inb(ata.base + 3));
            assertEquals(0x14, ata.inb(ata.base + 4));
            assertEquals(0xEB, ata.inb(ata.base + 5));
        }

        @Test
        void softResetLeavesStatusZeroAndOnlyTheAbsentSlaveInterrupts() {
            ata.outb(ata.ctrl, 0x04);
            ata.outb(ata.ctrl, 0x00);
            // The CD's diagnostic does not interrupt; the shadow slave's (no drive) does (§1.6 table).
            assertTrue(ata.irq.level());
            assertEquals(0x00, ata.status());
            assertEquals(0x01, ata.error());
            assertEquals(0x14, ata.inb(ata.base + 4));
        }

        @Test
        void identifyDeviceAndReadSectorsAbortWithSignature() {
            for (int op : new int[]{CMD_IDENTIFY_DEVICE, CMD_READ_SECTORS}) {
                ata.outb(ata.base + 4, 0x55);
                ata.command(op);
                assertTrue(ata.irq.level());
                assertEquals(0x41, ata.status());
                assertEquals(ERR_ABRT, ata.error());
                assertEquals(0x14, ata.inb(ata.base + 4));
                assertEquals(0xEB, ata.inb(ata.base + 5));
            }
        }

        @Test
        void diskOnlyCommandsAbort() {
            for (int op : new int[]{CMD_READ_DMA, CMD_FLUSH_CACHE_EXT, 0xE5, CMD_SET_MULTIPLE_MODE, 0x40}) {
                ata.command(op);
                assertEquals(0x41, ata.status(), "opcode " + op);
            }
        }

        @Test
        void identifyPacketDevice() {
            ata.command(CMD_IDENTIFY_PACKET_DEVICE);
            assertTrue(ata.irq.level());
            assertEquals(0x58, ata.status());
            int[] w = ata.readWords(256);
            assertEquals(0x85C0, w[0]);
            assertEquals(0x0300, w[49]);
            assertEquals(0x00B4, w[65]);
            assertEquals(0x012C, w[67]);
            assertEquals(0x001E, w[80]);
            assertEquals(0x203F, w[88]);
            assertEquals('I' << 8 | 'O', w[27]);
            assertEquals('Q' << 8 | 'M', w[10]);
            assertEquals(0x50, ata.status());
        }

        @Test
        void diagnosticOnCdGivesNoIrq() {
            ata.command(CMD_EXECUTE_DEVICE_DIAGNOSTIC);
            assertFalse(ata.irq.level());
            assertEquals(0x00, ata.status());
            assertEquals(0x01, ata.error());
        }

        @Test
        void deviceResetWorksEvenWhileDrq() {
            ata.command(CMD_PACKET);
            assertBitsSet(ata.altStatus(), STATUS_DRQ);
            ata.command(0x08);
            assertFalse(ata.irq.level());
            assertEquals(0x00, ata.status());
            assertEquals(0x00, ata.error());
            assertEquals(0xEB, ata.inb(ata.base + 5));
        }
    }

    @Nested
    class Packet {
        @Test
        void cdromPio() {
            sendPacket(5120, 0, read10(0, 1));
            assertArrayEquals(Arrays.copyOfRange(media.bytes(), 0, 2048), pioReply(2048, 5120));
        }

        @Test
        void cdromPioLarge() {
            sendPacket(5120, 0, read10(3, 10));
            assertArrayEquals(Arrays.copyOfRange(media.bytes(), 3 * 2048, 13 * 2048), pioReply(10 * 2048, 5120));
        }

        @Test
        void oddByteCountLimitIsRoundedDown() {
            sendPacket(5121, 0, read10(0, 4));
            ata.awaitNotBusy();
            assertEquals(5120, ata.inb(ata.base + 4) | ata.inb(ata.base + 5) << 8);
        }

        @Test
        void cdromDma() {
            ata.writePrdTable(TABLE, new long[]{BUFFER, 2048, 1});
            ata.outb(ata.bm, 0x00);
            ata.outb(ata.bm + 2, 0x04);
            ata.outl(ata.bm + 4, (int) TABLE);
            sendPacket(0, 1, read10(5, 1));
            ata.outb(ata.bm, 0x09);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertTrue(ata.irq.level());
            assertEquals(0x50, ata.status());
            byte[] got = new byte[2048];
            ata.memory.read(BUFFER, got, 0, 2048);
            assertArrayEquals(Arrays.copyOfRange(media.bytes(), 5 * 2048, 6 * 2048), got);
        }

        /** A packet command's reply by DMA: the ATAPI layer's bytes go out over two PRDs, equal to the PIO reply. */
        @Test
        void inquiryReplyByDmaIsScatteredOverThePrdTable() {
            ata.writePrdTable(TABLE, new long[]{BUFFER, 20, 0}, new long[]{BUFFER + 0x1000, 16, 1});
            ata.outb(ata.bm, 0x00);
            ata.outb(ata.bm + 2, 0x04);
            ata.outl(ata.bm + 4, (int) TABLE);
            sendPacket(0, 1, new byte[]{0x12, 0, 0, 0, 36});
            ata.outb(ata.bm, 0x09);
            ata.ide.drain();
            assertEquals(BM_STATUS_INTERRUPT, ata.inb(ata.bm + 2));
            assertEquals(0x50, ata.status());
            byte[] first = new byte[20];
            byte[] second = new byte[16];
            ata.memory.read(BUFFER, first, 0, first.length);
            ata.memory.read(BUFFER + 0x1000, second, 0, second.length);

            sendPacket(0xFFFE, 0, new byte[]{0x12, 0, 0, 0, 36});
            byte[] pio = pioReply(36, 0xFFFE);
            assertEquals(0x05, pio[0], "INQUIRY: a CD-ROM");
            assertArrayEquals(Arrays.copyOfRange(pio, 0, 20), first);
            assertArrayEquals(Arrays.copyOfRange(pio, 20, 36), second);
        }

        @Test
        void byteCountLimitZeroAbortsWithoutIrq() {
            sendPacket(0, 0, read10(0, 1));
            assertFalse(ata.irq.level());
            assertEquals(0x41, ata.status());
            assertEquals(ERR_ABRT, ata.error());
        }

        @Test
        void unknownOpcodeIsIllegalRequestAndSensePersists() {
            sendPacket(0xFFFE, 0, new byte[]{(byte) 0xFF});
            assertTrue(ata.irq.level());
            assertEquals(0x41, ata.status());
            assertEquals(0x50, ata.error());
            assertEquals(0x03, ata.sectorCount());
            for (int round = 0; round < 2; round++) {
                sendPacket(0xFFFE, 0, new byte[]{0x03, 0, 0, 0, 18});
                byte[] sense = pioReply(18, 0xFFFE);
                assertEquals((byte) 0xF0, sense[0]);
                assertEquals(0x05, sense[2]);
                assertEquals(0x20, sense[12]);
            }
        }

        @Test
        void inquiryAndReadCapacity() {
            sendPacket(0xFFFE, 0, new byte[]{0x12, 0, 0, 0, 36});
            byte[] inq = pioReply(36, 0xFFFE);
            assertEquals(0x05, inq[0]);
            assertEquals((byte) 0x80, inq[1]);
            assertEquals("2.5+", new String(inq, 32, 4));
            sendPacket(0xFFFE, 0, new byte[]{0x25});
            byte[] cap = pioReply(8, 0xFFFE);
            assertArrayEquals(new byte[]{0, 0, 0, 63, 0, 0, 8, 0}, cap);
        }

        @Test
        void readPastTheEndIsLbaOutOfRange() {
            sendPacket(0xFFFE, 0, read10(63, 2));
            assertEquals(0x41, ata.status());
            assertEquals(0x50, ata.error());
        }

        @Test
        void noMediumIsNotReady() {
            AtaTestDriver d = new AtaTestDriver();
            try {
                d.ide.attach(0, 0, IdeDriveConfig.cdrom(null));
                d.outb(d.base + 4, 0xFE);
                d.outb(d.base + 5, 0xFF);
                d.outb(d.base + 1, 0);
                d.command(CMD_PACKET);
                for (int i = 0; i < 6; i++) {
                    d.outw(d.base, 0);
                }
                assertTrue(d.irq.level());
                assertEquals(0x41, d.status());
                assertEquals(0x20, d.error());
                d.assertNoInternalErrors();
            } finally {
                d.close();
            }
        }

        @Test
        void modeSenseCapabilitiesPage() {
            sendPacket(0xFFFE, 0, new byte[]{0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 30});
            byte[] page = pioReply(30, 0xFFFE);
            assertEquals(28, page[1]);
            assertEquals(0x70, page[2]);
            assertEquals(0x2A, page[8]);
            assertEquals(0x14, page[9]);
        }

        @Test
        void inquiryVitalProductDataPages() {
            sendPacket(0xFFFE, 0, new byte[]{0x12, 1, 0x00, 0, (byte) 255});
            assertArrayEquals(new byte[]{0x05, 0x00, 0x00, 0x02, 0x00, (byte) 0x83}, pioReply(6, 0xFFFE));
            sendPacket(0xFFFE, 0, new byte[]{0x12, 1, (byte) 0x83, 0, (byte) 255});
            byte[] id = pioReply(100, 0xFFFE);
            assertEquals(96, id[3]);
            assertEquals("QM00001", new String(id, 8, 7));
            assertEquals("ATA     ", new String(id, 32, 8));
            sendPacket(0xFFFE, 0, new byte[]{0x12, 1, (byte) 0x83, 0, 27});
            assertEquals(0x41, ata.status());
            assertEquals(0x50, ata.error());
        }

        @Test
        void readCdUserDataAndNoData() {
            byte[] cdb = {(byte) 0xBE, 0, 0, 0, 0, 2, 0, 0, 1, 0x10, 0, 0};
            sendPacket(0xFFFE, 0, cdb);
            assertArrayEquals(Arrays.copyOfRange(media.bytes(), 2 * 2048, 3 * 2048), pioReply(2048, 0xFFFE));
            cdb[9] = 0;
            sendPacket(0, 0, cdb);
            assertEquals(0x50, ata.status(), "no data requested: READ CD is exempt from the BCL rule");
        }

        @Test
        void modeSenseAudioPageAndUnsupportedControls() {
            sendPacket(0xFFFE, 0, new byte[]{0x5A, 0, 0x0E, 0, 0, 0, 0, 0, 24});
            byte[] page = pioReply(24, 0xFFFE);
            assertEquals(0x0E, page[8]);
            assertEquals(14, page[9]);
            sendPacket(0xFFFE, 0, new byte[]{0x5A, 0, (byte) 0xEA, 0, 0, 0, 0, 0, 30});
            assertEquals(0x50, ata.error(), "saved values: ILLEGAL REQUEST");
            sendPacket(0xFFFE, 0, new byte[]{0x03, 0, 0, 0, 18});
            assertEquals(0x39, pioReply(18, 0xFFFE)[12]);
        }

        @Test
        void readTocFormats() {
            sendPacket(0xFFFE, 0, new byte[]{0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0});
            assertArrayEquals(new byte[]{0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x16, (byte) 0xAA, 0, 0, 0, 0, 64},
                    pioReply(20, 0xFFFE));
            sendPacket(0xFFFE, 0, new byte[]{0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0});
            byte[] msf = pioReply(20, 0xFFFE);
            assertArrayEquals(new byte[]{0, 0, 2, 0}, Arrays.copyOfRange(msf, 8, 12), "track 1 at 00:02:00");
            assertArrayEquals(new byte[]{0, 0, 2, 64}, Arrays.copyOfRange(msf, 16, 20), "lead-out at LBA 64 + 150 frames");
            sendPacket(0xFFFE, 0, new byte[]{0x43, 0, 0, 0, 0, 0, 0, 0, 100, (byte) 0x80});
            byte[] raw = pioReply(48, 0xFFFE);
            assertEquals(46, raw[1]);
            assertEquals((byte) 0xA2, raw[4 + 2 * 11 + 3]);
            sendPacket(0xFFFE, 0, new byte[]{0x43, 0, 0, 0, 0, 0, 0, 0, 100, (byte) 0xC0});
            assertEquals(0x50, ata.error());
        }

        @Test
        void testUnitReadyIsNonDataEvenWithBclZero() {
            sendPacket(0, 0, new byte[]{0x00});
            assertTrue(ata.irq.level());
            assertEquals(0x50, ata.status());
            assertEquals(0x03, ata.sectorCount());
        }
    }
}
