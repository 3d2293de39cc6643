package dev.ioemu.tests.peer;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.ioemu.devices.ide.Ata.BM_STATUS_ACTIVE;
import static dev.ioemu.devices.ide.Ata.BM_STATUS_INTERRUPT;
import static dev.ioemu.devices.ide.Ata.CMD_DATA_SET_MANAGEMENT;
import static dev.ioemu.devices.ide.Ata.CMD_READ_DMA;
import static dev.ioemu.devices.ide.Ata.CMD_WRITE_DMA;
import static dev.ioemu.devices.ide.Ata.STATUS_BSY;
import static dev.ioemu.devices.ide.Ata.STATUS_DF;
import static dev.ioemu.devices.ide.Ata.STATUS_DRDY;
import static dev.ioemu.devices.ide.Ata.STATUS_DRQ;
import static dev.ioemu.devices.ide.Ata.STATUS_ERR;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QEMU's tests/qtest/ide-test.c, the cases that need no blkdebug (shared/spec/qtest.md §7), with
 * ide-test's own assertions, driven through the qtest client ({@link QtestClient}, a Java
 * libqtest) and the guest-driver kit ({@link AtaDriver} on a {@link QtestTransport}). Run against
 * QEMU they check the port; against ioemu they are the acceptance test of issue 4: QEMU's
 * unmodified expectations.
 */
class IdeTestPortTest {
    private static final int IDE_BASE = AtaDriver.Channel.PRIMARY.commandBase;
    private static final int IDE_PRIMARY_IRQ = AtaDriver.Channel.PRIMARY.irq;
    private static final int DEVFN = AtaDriver.PIIX_IDE_DEVFN;

    @TempDir
    Path dir;
    private long allocNext;
    private QtestTransport transport;
    private PciConfigAccess pci;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    /** ide_test_start: -machine pc plus the test's arguments; guest allocator from 1 MiB, I/O BARs from 0xC000. */
    private QtestClient start(QtestPeer.Kind kind, List<String> args) throws IOException {
        allocNext = 0x100000;
        QtestClient qts = QtestPeer.client(kind, args, dir);
        transport = new QtestTransport(qts);
        pci = new PciConfigAccess(transport);
        qts.irqInterceptIn("ioapic");
        return qts;
    }

    private long alloc(int size) {
        long a = allocNext;
        allocNext += (size + 4095) & ~4095L;
        return a;
    }

    private List<String> disk(String extra) throws IOException {
        Path image = IdeDifferentialTest.image(dir, 3);
        List<String> a = new ArrayList<>(List.of("-drive", "file=" + image + ",if=ide,cache=writeback,format=raw" + extra));
        return a;
    }

    /** get_pci_device: 00:01.1 is 8086:7010; map BAR4 anew; enable I/O, memory, bus master. Returns the driver. */
    private AtaDriver bmdmaBar() {
        assertEquals(AtaDriver.PIIX_IDE_ID, pci.id(DEVFN));
        int bar = pci.iomap(DEVFN, AtaDriver.BUS_MASTER_BAR);
        pci.enable(DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY | PciConfigSpace.COMMAND_MASTER);
        return new AtaDriver(transport, AtaDriver.Channel.PRIMARY, bar);
    }

    /** PRD entries {address, byteCount | EOT flag in bit 31}. */
    private static byte[] prdt(long[][] entries) {
        List<PrdDescriptor> table = new ArrayList<>();
        for (long[] e : entries) {
            table.add(new PrdDescriptor(e[0], (int) e[1] & 0xFFFF, (e[1] & Ata.PRD_EOT) != 0));
        }
        return PrdDescriptor.encode(table);
    }

    /** send_dma_request with its assertions; returns the final BM status. */
    private int sendDmaRequest(QtestClient qts, int cmd, long sector, int nbSectors, byte[] prdt, boolean noBm,
                               boolean abort) throws IOException {
        AtaDriver ata = bmdmaBar();
        if (noBm) {
            pci.setCommand(DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY);
        }
        long guestPrdt = alloc(prdt.length);
        qts.memwrite(guestPrdt, prdt);
        DmaCompletion c = ata.dma(DmaRequest.of(cmd, sector, nbSectors, guestPrdt).stoppedAtOnce(abort).withIrqSamples());
        assertEquals((c.bmStatus() & BM_STATUS_INTERRUPT) != 0, c.irqAtCompletion(), "IRQ level follows BM Interrupt");
        assertTrue((c.ataStatus() & STATUS_DRDY) != 0);
        assertEquals(0, c.ataStatus() & (STATUS_BSY | STATUS_DRQ));
        assertFalse(c.irqAfterStatusRead(), "reading the status lowers the IRQ");
        return c.bmStatus();
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaSimpleReadWrite(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            long guestBuf = alloc(512);
            byte[] prdt = prdt(new long[][] {{guestBuf, 512 | Ata.PRD_EOT}});
            byte[] buf = new byte[512];
            Arrays.fill(buf, (byte) 0x55);
            qts.memwrite(guestBuf, buf);
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_WRITE_DMA, 0, 1, prdt, false, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & (STATUS_DF | STATUS_ERR));
            Arrays.fill(buf, (byte) 0xaa);
            qts.memwrite(guestBuf, buf);
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_WRITE_DMA, 1, 1, prdt, false, false));
            qts.memset(guestBuf, 512, 0);
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_READ_DMA, 0, 1, prdt, false, false));
            byte[] expected = new byte[512];
            Arrays.fill(expected, (byte) 0x55);
            assertArrayEquals(expected, qts.memread(guestBuf, 512));
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_READ_DMA, 1, 1, prdt, false, false));
            Arrays.fill(expected, (byte) 0xaa);
            assertArrayEquals(expected, qts.memread(guestBuf, 512));
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaTrim(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            long guestBuf = alloc(512);
            byte[] prdt = prdt(new long[][] {{guestBuf, 512 | Ata.PRD_EOT}});
            qts.memwrite(guestBuf, ranges(new long[][] {{0, 2}, {6, 8}}));
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_DATA_SET_MANAGEMENT, 0, 1, prdt, false, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & STATUS_ERR);
            long last = IdeDifferentialTest.IMAGE_SECTORS - 1;
            qts.memwrite(guestBuf, ranges(new long[][] {{10, 1}, {last, 2}}));
            assertEquals(BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_DATA_SET_MANAGEMENT, 0, 1, prdt, false, false));
            assertTrue((qts.inb(IDE_BASE + 7) & STATUS_ERR) != 0);
            assertTrue((qts.inb(IDE_BASE + 1) & 0x04) != 0, "ABRT");
        }
    }

    private static byte[] ranges(long[][] r) {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] e : r) {
            b.putLong(e[0] | e[1] << 48);
        }
        return b.array();
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaVariousPrdts(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            for (int sectors = 1; sectors <= 256; sectors *= 4) {
                int reqSize = sectors * 512;
                // ide-test walks every size 0..65280 in steps of 256; a thinned set covers each rule.
                for (int size : new int[] {0, 256, reqSize - 256, reqSize, reqSize + 256, 65280}) {
                    if (size > 65280 && size != 65536) {
                        continue;
                    }
                    byte[] prdt = prdt(new long[][] {{0, (size & 0xffff) | Ata.PRD_EOT}});
                    int effective = size == 0 ? 0x10000 : size;
                    int expectedNormal = effective < reqSize ? 0 : effective == reqSize ? BM_STATUS_INTERRUPT
                            : BM_STATUS_INTERRUPT | BM_STATUS_ACTIVE;
                    int expectedAbort = effective < reqSize ? 0 : BM_STATUS_INTERRUPT;
                    assertEquals(expectedNormal, sendDmaRequest(qts, CMD_READ_DMA, 0, sectors & 0xff, prdt, false, false),
                            "sectors " + sectors + " prd size " + size);
                    assertEquals(0, qts.inb(IDE_BASE + 7) & (STATUS_DF | STATUS_ERR));
                    assertEquals(expectedAbort, sendDmaRequest(qts, CMD_READ_DMA, 0, sectors & 0xff, prdt, false, true),
                            "aborted: sectors " + sectors + " prd size " + size);
                    assertEquals(0, qts.inb(IDE_BASE + 7) & (STATUS_DF | STATUS_ERR));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaNoBusmaster(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            byte[] prdt = new byte[4096 * 8];   // all zero: address 0, 64 KiB, no EOT
            assertEquals(BM_STATUS_ACTIVE | BM_STATUS_INTERRUPT, sendDmaRequest(qts, CMD_READ_DMA, 0, 512 & 0xff, prdt, true, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & (STATUS_DF | STATUS_ERR));
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void identify(QtestPeer.Kind kind) throws Exception {
        List<String> args = disk("");
        args.addAll(List.of("-global", "ide-hd.serial=testdisk", "-global", "ide-hd.ver=version"));
        try (QtestClient qts = start(kind, args)) {
            qts.outb(IDE_BASE + 6, 0);
            qts.outb(IDE_BASE + 7, 0xec);
            int[] words = new int[256];
            for (int i = 0; i < 256; i++) {
                int status = qts.inb(IDE_BASE + 7);
                assertEquals(STATUS_DRDY | STATUS_DRQ, status & (STATUS_DRDY | STATUS_DRQ | STATUS_BSY | STATUS_DF | STATUS_ERR), "before word " + i);
                words[i] = qts.inw(IDE_BASE);
            }
            int status = qts.inb(IDE_BASE + 7);
            assertEquals(STATUS_DRDY, status & (STATUS_DRDY | STATUS_DRQ | STATUS_BSY | STATUS_DF | STATUS_ERR));
            assertEquals("testdisk            ", string(words, 10, 20));
            assertEquals("version ", string(words, 23, 8));
            assertTrue((words[85] & 0x20) != 0, "write cache enabled");
        }
    }

    /** An ATA string: two characters per word, the first in the high byte. */
    private static String string(int[] words, int first, int chars) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < chars / 2; i++) {
            sb.append((char) (words[first + i] >> 8)).append((char) (words[first + i] & 0xff));
        }
        return sb.toString();
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void diagnostic(QtestPeer.Kind kind) throws Exception {
        List<String> args = disk(",index=0");
        args.addAll(List.of("-drive", "file=" + IdeScenarios.secondDisk(dir.resolve("diag")) + ",if=ide,format=raw,index=1"));
        try (QtestClient qts = start(kind, args)) {
            qts.outb(IDE_BASE + 6, Ata.DEVICE_DEV);
            assertEquals(Ata.DEVICE_DEV, qts.inb(IDE_BASE + 6) & Ata.DEVICE_DEV);
            qts.outb(IDE_BASE + 7, 0x90);
            assertEquals(0, qts.inb(IDE_BASE + 6) & Ata.DEVICE_DEV);
        }
    }

    /**
     * cdrom_pio_impl: PACKET with byte count limit 5120, READ(10) of {@code nblocks} by PIO. The kit
     * waits for each chunk's IRQ and BSY to clear (ide-test's ide_wait_intr and ide_wait_clear) and
     * fails on a chunk with ERR or without DRQ.
     */
    private void cdromPio(QtestPeer.Kind kind, int nblocks) throws Exception {
        Path image = IdeDifferentialTest.image(dir, 4);
        try (QtestClient qts = start(kind, List.of("-drive", "if=none,file=" + image
                + ",media=cdrom,format=raw,id=sr0,index=0", "-device", "ide-cd,drive=sr0,bus=ide.0"))) {
            AtaDriver ata = bmdmaBar();
            int limit = 5120;
            int data = ata.startPacket(limit, 0);
            assertEquals(STATUS_DRQ | STATUS_DRDY, data & (STATUS_DRQ | STATUS_DRDY | STATUS_ERR | STATUS_DF | STATUS_BSY),
                    "Send_Packet state");
            ata.writePacket(new byte[] {Ata.SCSI_READ_10, 0, 0, 0, 0, 0, 0, (byte) (nblocks >> 8), (byte) nblocks});
            byte[] rx = ata.readPacketData();
            data = ata.altStatus();
            assertEquals(STATUS_DRDY, data & (STATUS_DRDY | STATUS_DRQ | STATUS_ERR | STATUS_DF | STATUS_BSY));
            assertArrayEquals(Arrays.copyOf(java.nio.file.Files.readAllBytes(image), nblocks * 2048), rx);
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void cdromPio(QtestPeer.Kind kind) throws Exception {
        cdromPio(kind, 1);
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void cdromPioLarge(QtestPeer.Kind kind) throws Exception {
        cdromPio(kind, 10);
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void flushNodevAndEmptyDriveDoNotCrash(QtestPeer.Kind kind) throws Exception {
        for (List<String> args : List.of(List.<String>of(), List.of("-device", "ide-cd,bus=ide.0"))) {
            try (QtestClient qts = start(kind, args)) {
                qts.outb(IDE_BASE + 6, 0);
                qts.outb(IDE_BASE + 7, 0xe7);
                qts.inb(IDE_BASE + 7);
                qts.close();
                assertEquals(0, qts.exitStatus());
            }
        }
    }
}
