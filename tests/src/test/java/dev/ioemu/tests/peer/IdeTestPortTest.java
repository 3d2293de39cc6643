package dev.ioemu.tests.peer;

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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * QEMU's tests/qtest/ide-test.c, the cases that need no blkdebug (shared/spec/qtest.md §7), with
 * ide-test's own assertions, driven through {@link QtestClient} like libqtest drives QEMU. Run
 * against QEMU they check the port; against ioemu (once the PIIX IDE model is merged) they are
 * the acceptance test of issue 4: QEMU's unmodified expectations.
 */
class IdeTestPortTest {
    private static final int DRDY = 0x40;
    private static final int DF = 0x20;
    private static final int DRQ = 0x08;
    private static final int ERR = 0x01;
    private static final int BSY = 0x80;
    private static final int DEV = 0x10;
    private static final int LBA = 0x40;
    private static final int BM_STS_ACTIVE = 0x01;
    private static final int BM_STS_INTR = 0x04;
    private static final int CMD_READ_DMA = 0xc8;
    private static final int CMD_WRITE_DMA = 0xca;
    private static final int CMD_DSM = 0x06;
    private static final int IDE_BASE = 0x1f0;
    private static final int IDE_PRIMARY_IRQ = 14;
    private static final int PRDT_EOT = 0x80000000;
    private static final int DEVFN = 0x09;

    @TempDir
    Path dir;
    private long allocNext;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    /** ide_test_start: -machine pc plus the test's arguments; guest allocator from 1 MiB. */
    private QtestClient start(QtestPeer.Kind kind, List<String> args) throws IOException {
        allocNext = 0x100000;
        QtestClient qts = QtestClient.launch(kind, args, dir);
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

    /** get_pci_device: 00:01.1 is 8086:7010; map BAR4 anew; enable I/O, memory, bus master. */
    private int bmdmaBar(QtestClient qts) throws IOException {
        assertEquals(0x8086, qts.pciReadW(DEVFN, 0x00));
        assertEquals(0x7010, qts.pciReadW(DEVFN, 0x02));
        int bar = qts.iomap(DEVFN, 4);
        int cmd = qts.pciReadW(DEVFN, 0x04);
        qts.pciWriteW(DEVFN, 0x04, cmd | 0x7);
        assertEquals(0x7, qts.pciReadW(DEVFN, 0x04) & 0x7, "I/O, memory and bus master stick");
        return bar;
    }

    private static byte[] prdt(long[][] entries) {
        ByteBuffer b = ByteBuffer.allocate(8 * entries.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] e : entries) {
            b.putInt((int) e[0]).putInt((int) e[1]);
        }
        return b.array();
    }

    /** send_dma_request with its assertions; returns the final BM status. */
    private int sendDmaRequest(QtestClient qts, int cmd, long sector, int nbSectors, byte[] prdt, boolean noBm,
                               boolean abort) throws IOException {
        int bm = bmdmaBar(qts);
        boolean fromDev = cmd == CMD_READ_DMA;
        if (noBm) {
            qts.pciWriteW(DEVFN, 0x04, 0x3);
        }
        qts.outb(IDE_BASE + 6, LBA);
        qts.outb(bm, 0);
        qts.outb(bm + 2, BM_STS_INTR);
        long guestPrdt = alloc(prdt.length);
        qts.memwrite(guestPrdt, prdt);
        qts.outl(bm + 4, (int) guestPrdt);
        if (cmd == CMD_DSM) {
            qts.outb(IDE_BASE + 1, 0x01);
        }
        qts.outb(IDE_BASE + 2, nbSectors);
        qts.outb(IDE_BASE + 3, (int) sector & 0xff);
        qts.outb(IDE_BASE + 4, (int) (sector >> 8) & 0xff);
        qts.outb(IDE_BASE + 5, (int) (sector >> 16) & 0xff);
        qts.outb(IDE_BASE + 7, cmd);
        qts.outb(bm, 0x01 | (fromDev ? 0x08 : 0));
        if (abort) {
            qts.outb(bm, 0);
        }
        int status;
        do {
            status = qts.inb(bm + 2);
        } while ((status & (BM_STS_ACTIVE | BM_STS_INTR)) == BM_STS_ACTIVE);
        assertEquals((status & BM_STS_INTR) != 0, qts.getIrq(IDE_PRIMARY_IRQ));
        assertTrue((qts.inb(IDE_BASE + 7) & DRDY) != 0);
        assertEquals(0, qts.inb(IDE_BASE + 7) & (BSY | DRQ));
        assertTrue(!qts.getIrq(IDE_PRIMARY_IRQ), "reading the status lowers the IRQ");
        if ((status & BM_STS_ACTIVE) != 0) {
            qts.outb(bm, 0);
        }
        return status;
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaSimpleReadWrite(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            long guestBuf = alloc(512);
            byte[] prdt = prdt(new long[][] {{guestBuf, 512 | PRDT_EOT}});
            byte[] buf = new byte[512];
            Arrays.fill(buf, (byte) 0x55);
            qts.memwrite(guestBuf, buf);
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_WRITE_DMA, 0, 1, prdt, false, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & (DF | ERR));
            Arrays.fill(buf, (byte) 0xaa);
            qts.memwrite(guestBuf, buf);
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_WRITE_DMA, 1, 1, prdt, false, false));
            qts.memset(guestBuf, 512, 0);
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_READ_DMA, 0, 1, prdt, false, false));
            byte[] expected = new byte[512];
            Arrays.fill(expected, (byte) 0x55);
            assertArrayEquals(expected, qts.memread(guestBuf, 512));
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_READ_DMA, 1, 1, prdt, false, false));
            Arrays.fill(expected, (byte) 0xaa);
            assertArrayEquals(expected, qts.memread(guestBuf, 512));
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaTrim(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            long guestBuf = alloc(512);
            byte[] prdt = prdt(new long[][] {{guestBuf, 512 | PRDT_EOT}});
            qts.memwrite(guestBuf, ranges(new long[][] {{0, 2}, {6, 8}}));
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_DSM, 0, 1, prdt, false, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & ERR);
            long last = IdeDifferentialTest.IMAGE_SECTORS - 1;
            qts.memwrite(guestBuf, ranges(new long[][] {{10, 1}, {last, 2}}));
            assertEquals(BM_STS_INTR, sendDmaRequest(qts, CMD_DSM, 0, 1, prdt, false, false));
            assertTrue((qts.inb(IDE_BASE + 7) & ERR) != 0);
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
                    byte[] prdt = prdt(new long[][] {{0, (size & 0xffff) | PRDT_EOT}});
                    int effective = size == 0 ? 0x10000 : size;
                    int expectedNormal = effective < reqSize ? 0 : effective == reqSize ? BM_STS_INTR
                            : BM_STS_INTR | BM_STS_ACTIVE;
                    int expectedAbort = effective < reqSize ? 0 : BM_STS_INTR;
                    assertEquals(expectedNormal, sendDmaRequest(qts, CMD_READ_DMA, 0, sectors & 0xff, prdt, false, false),
                            "sectors " + sectors + " prd size " + size);
                    assertEquals(0, qts.inb(IDE_BASE + 7) & (DF | ERR));
                    assertEquals(expectedAbort, sendDmaRequest(qts, CMD_READ_DMA, 0, sectors & 0xff, prdt, false, true),
                            "aborted: sectors " + sectors + " prd size " + size);
                    assertEquals(0, qts.inb(IDE_BASE + 7) & (DF | ERR));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(QtestPeer.Kind.class)
    void bmdmaNoBusmaster(QtestPeer.Kind kind) throws Exception {
        try (QtestClient qts = start(kind, disk(""))) {
            byte[] prdt = new byte[4096 * 8];   // all zero: address 0, 64 KiB, no EOT
            assertEquals(BM_STS_ACTIVE | BM_STS_INTR, sendDmaRequest(qts, CMD_READ_DMA, 0, 512 & 0xff, prdt, true, false));
            assertEquals(0, qts.inb(IDE_BASE + 7) & (DF | ERR));
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
                assertEquals(DRDY | DRQ, status & (DRDY | DRQ | BSY | DF | ERR), "before word " + i);
                words[i] = qts.inw(IDE_BASE);
            }
            int status = qts.inb(IDE_BASE + 7);
            assertEquals(DRDY, status & (DRDY | DRQ | BSY | DF | ERR));
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
            qts.outb(IDE_BASE + 6, DEV);
            assertEquals(DEV, qts.inb(IDE_BASE + 6) & DEV);
            qts.outb(IDE_BASE + 7, 0x90);
            assertEquals(0, qts.inb(IDE_BASE + 6) & DEV);
        }
    }

    /** ide_wait_clear: poll the status register until {@code flag} clears (5 s, as ide-test). */
    private static int waitClear(QtestClient qts, int flag) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            int status = qts.inb(IDE_BASE + 7);
            if ((status & flag) == 0) {
                return status;
            }
            assertTrue(System.nanoTime() < deadline, "status 0x" + Integer.toHexString(status) + " kept 0x"
                    + Integer.toHexString(flag));
            Thread.sleep(0, 400);
        }
    }

    /** ide_wait_intr: poll IRQ 14 until it is raised (5 s). */
    private static void waitIntr(QtestClient qts) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!qts.getIrq(IDE_PRIMARY_IRQ)) {
            assertTrue(System.nanoTime() < deadline, "IRQ 14 never raised");
            Thread.sleep(0, 400);
        }
    }

    /** cdrom_pio_impl: PACKET with byte count limit 5120, READ(10) of {@code nblocks} by PIO. */
    private void cdromPio(QtestPeer.Kind kind, int nblocks) throws Exception {
        Path image = IdeDifferentialTest.image(dir, 4);
        try (QtestClient qts = start(kind, List.of("-drive", "if=none,file=" + image
                + ",media=cdrom,format=raw,id=sr0,index=0", "-device", "ide-cd,drive=sr0,bus=ide.0"))) {
            bmdmaBar(qts);
            int limit = 5120;
            qts.outb(IDE_BASE + 6, 0);
            qts.outb(IDE_BASE + 4, limit & 0xff);
            qts.outb(IDE_BASE + 5, limit >> 8 & 0xff);
            qts.outb(IDE_BASE + 7, 0xa0);
            int data = waitClear(qts, BSY);
            assertEquals(DRQ | DRDY, data & (DRQ | DRDY | ERR | DF | BSY), "Send_Packet state");
            byte[] cdb = {0x28, 0, 0, 0, 0, 0, 0, (byte) (nblocks >> 8), (byte) nblocks, 0, 0, 0};
            for (int i = 0; i < 12; i += 2) {
                qts.outw(IDE_BASE, (cdb[i] & 0xff) | (cdb[i + 1] & 0xff) << 8);
            }
            int rxsize = nblocks * 2048;
            byte[] rx = new byte[rxsize];
            for (int offset = 0; offset < rxsize; offset += limit) {
                waitIntr(qts);
                data = waitClear(qts, BSY);
                assertEquals(DRQ | DRDY, data & (DRQ | DRDY | ERR | DF | BSY), "chunk at " + offset);
                for (int j = offset; j < Math.min(offset + limit, rxsize); j += 2) {
                    int w = qts.inw(IDE_BASE);
                    rx[j] = (byte) w;
                    rx[j + 1] = (byte) (w >> 8);
                }
            }
            waitIntr(qts);
            data = waitClear(qts, DRQ);
            assertEquals(DRDY, data & (DRDY | DRQ | ERR | DF | BSY));
            assertArrayEquals(Arrays.copyOf(java.nio.file.Files.readAllBytes(image), rxsize), rx);
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
