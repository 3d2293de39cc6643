package dev.ioemu.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fault injection end to end (issue 14): EIO and ENOSPC injected from the {@code -drive} command
 * line ({@code inject-error.N.*}) on reads, writes and flushes at chosen sectors, and what the
 * guest sees — through IDE PIO and IDE DMA driven over qtest by the guest driver kit, and through
 * INT 13h from a boot sector on the software CPU:
 * <ul>
 *   <li>ATA status/error per {@code rerror}/{@code werror} (shared/spec/ide.md, QEMU's
 *       {@code ide_handle_rw_error}): report → DRDY|ERR with ABRT, the image unchanged;
 *       ignore → success; enospc → stop on ENOSPC, report on anything else; stop → the VM pauses
 *       (QMP {@code query-status} "io-error", a STOP event), no error reaches the guest, and
 *       QMP {@code cont} retries the request;</li>
 *   <li>a failed flush of a buffered image is latched (block.md §5.3): every later FLUSH CACHE
 *       fails, and with werror=stop {@code cont} stops again rather than reporting success;</li>
 *   <li>INT 13h: read EIO → 10h, write ENOSPC → CCh, a failed firmware flush → CCh and sticky,
 *       AH=01h the last status (shared/spec/int13.md §2.3).</li>
 * </ul>
 */
class FaultInjectionEndToEndTest {
    static final int SECTORS = 2048;
    static final long TABLE = 0x100000;
    static final long BUFFER = 0x110000;

    @TempDir
    Path dir;

    static byte[] pattern(long lba) {
        byte[] s = new byte[512];
        for (int i = 0; i < 512; i++) {
            s[i] = (byte) (lba * 13 + i * 7 + 1);
        }
        return s;
    }

    Path image() throws Exception {
        Path p = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            for (long lba = 0; lba < SECTORS; lba++) {
                f.write(pattern(lba));
            }
        }
        return p;
    }

    byte[] sectorOnDisk(Path image, long lba) throws Exception {
        return Arrays.copyOfRange(Files.readAllBytes(image), (int) lba * 512, (int) lba * 512 + 512);
    }

    /** An ioemu over qtest with one IDE disk and a QMP socket, and a guest driver on it. */
    final class Machine implements AutoCloseable {
        final QtestClient qts;
        final QtestTransport transport;
        final AtaDriver ata;
        final Vm.Qmp qmp;
        final Path image;

        Machine(Path image, String driveOptions) throws Exception {
            this.image = image;
            Path sock = dir.resolve("qmp-" + System.nanoTime() + ".sock");
            qts = QtestClient.start("ioemu", Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults", "-display",
                    "none", "-drive", "file=" + image + ",if=ide,format=raw," + driveOptions,
                    "-qmp", "unix:" + sock + ",server=on,wait=off", "-qtest", "stdio")), dir.resolve("ioemu.stderr"));
            qts.irqInterceptIn("ioapic");
            transport = new QtestTransport(qts);
            PciConfigAccess pci = new PciConfigAccess(transport);
            AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
            pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                    | PciConfigSpace.COMMAND_MASTER);
            ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
            qmp = connectQmp(sock);
        }

        Vm.Qmp connectQmp(Path sock) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                if (Files.exists(sock)) {
                    var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX);
                    try {
                        ch.connect(java.net.UnixDomainSocketAddress.of(sock));
                        return new Vm.Qmp(ch);
                    } catch (java.io.IOException e) {
                        ch.close();
                    }
                }
                assertTrue(System.nanoTime() < deadline, "no QMP socket");
                Thread.sleep(20);
            }
        }

        String status() throws Exception {
            return qmp.execute("{\"execute\": \"query-status\"}");
        }

        /** Issues a PIO or DMA command (write data taken from {@code data}); does not wait. */
        void issue(String path, boolean write, long lba, byte[] data) {
            if (path.equals("pio")) {
                ata.setLba28(lba, 1);
                ata.command(write ? Ata.CMD_WRITE_SECTORS : Ata.CMD_READ_SECTORS);
                if (write) {
                    int st = ata.awaitNotBusy();
                    assertEquals(Ata.STATUS_DRQ, st & (Ata.STATUS_DRQ | Ata.STATUS_ERR), "WRITE SECTORS asks for data");
                    for (int i = 0; i < 512; i += 2) {
                        transport.outw(AtaDriver.Channel.PRIMARY.commandBase + Ata.REG_DATA,
                                data[i] & 0xFF | (data[i + 1] & 0xFF) << 8);
                    }
                }
            } else {
                transport.writeMemory(BUFFER, write ? data : new byte[512]);
                ata.writePrdTable(TABLE, List.of(new PrdDescriptor(BUFFER, 512, true)));
                int bm = ata.busMasterBase();
                ata.writeRegister(Ata.REG_DEVICE, Ata.DEVICE_LBA);
                transport.outb(bm + Ata.BM_REG_COMMAND, 0);
                transport.outb(bm + Ata.BM_REG_STATUS, Ata.BM_STATUS_INTERRUPT);
                transport.outl(bm + Ata.BM_REG_TABLE, (int) TABLE);
                ata.writeRegister(Ata.REG_NSECTOR, 1);
                ata.writeRegister(Ata.REG_LBA_LOW, (int) lba & 0xFF);
                ata.writeRegister(Ata.REG_LBA_MID, (int) (lba >> 8) & 0xFF);
                ata.writeRegister(Ata.REG_LBA_HIGH, (int) (lba >> 16) & 0xFF);
                ata.command(write ? Ata.CMD_WRITE_DMA : Ata.CMD_READ_DMA);
                transport.outb(bm + Ata.BM_REG_COMMAND, Ata.BM_COMMAND_START | (write ? 0 : Ata.BM_COMMAND_READ));
            }
        }

        /** Waits for the command to end; returns the ATA status (the read data, if any, into {@code into}). */
        int complete(String path, boolean write, byte[] into) {
            int st = ata.awaitNotBusy();
            if (path.equals("pio")) {
                if (!write && (st & Ata.STATUS_DRQ) != 0) {
                    for (int i = 0; i < 512; i += 2) {
                        int w = transport.inw(AtaDriver.Channel.PRIMARY.commandBase + Ata.REG_DATA);
                        into[i] = (byte) w;
                        into[i + 1] = (byte) (w >> 8);
                    }
                    st = ata.awaitNotBusy();
                }
            } else {
                int bm = ata.busMasterBase();
                transport.outb(bm + Ata.BM_REG_COMMAND, 0);
                System.arraycopy(transport.readMemory(BUFFER, 512), 0, into, 0, 512);
            }
            return ata.status();
        }

        @Override
        public void close() throws Exception {
            qmp.close();
            qts.close();
        }
    }

    static String drive(String iotype, String errno, long sector, String policy, boolean once) {
        String policyKey = iotype.equals("read") ? "rerror" : "werror";
        return "cache=writeback," + policyKey + "=" + policy + ",inject-error.0.iotype=" + iotype
                + ",inject-error.0.errno=" + errno + (sector >= 0 ? ",inject-error.0.sector=" + sector : "")
                + (once ? ",inject-error.0.once=on" : "");
    }

    /** report, ignore, enospc on reads and writes, PIO and DMA: one command each, status and image checked. */
    @ParameterizedTest(name = "{0} {1} {2} {3}={4}")
    @CsvSource({
            // path, op, errno, policy, expected outcome (error | ok)
            "pio, read,  EIO,    report, error",
            "pio, write, EIO,    report, error",
            "pio, write, ENOSPC, report, error",
            "pio, write, EIO,    enospc, error",
            "pio, read,  EIO,    ignore, ok",
            "dma, read,  EIO,    report, error",
            "dma, write, ENOSPC, report, error",
            "dma, write, EIO,    ignore, ok",
            "dma, read,  ENOSPC, report, error",
    })
    void aFailedCommandAnswersAsItsPolicySays(String path, String op, String errno, String policy, String outcome)
            throws Exception {
        Path img = image();
        long lba = 100;
        boolean write = op.equals("write");
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0x5A);
        try (Machine m = new Machine(img, drive(op, errno, lba, policy, false))) {
            m.issue(path, write, lba, data);
            byte[] read = new byte[512];
            int st = m.complete(path, write, read);
            if (outcome.equals("error")) {
                assertEquals(Ata.STATUS_DRDY | Ata.STATUS_ERR, st & (Ata.STATUS_DRDY | Ata.STATUS_ERR | Ata.STATUS_DRQ
                        | Ata.STATUS_BSY), path + " " + op + ": ERR");
                assertEquals(Ata.ERR_ABRT, m.ata.error(), "ABRT");
            } else {
                assertEquals(Ata.STATUS_DRDY, st & (Ata.STATUS_DRDY | Ata.STATUS_ERR | Ata.STATUS_DRQ | Ata.STATUS_BSY),
                        path + " " + op + ": ignored");
            }
            assertTrue(m.status().contains("\"running\": true"), "the VM runs on");
            // The drive is usable after the error: a command elsewhere succeeds.
            m.issue(path, false, 7, null);
            byte[] other = new byte[512];
            assertEquals(0, m.complete(path, false, other) & Ata.STATUS_ERR);
            assertArrayEquals(pattern(7), other, "LBA 7 after the error");
        }
        assertArrayEquals(pattern(lba), sectorOnDisk(img, lba), "the failed sector is unchanged in the image");
    }

    /** werror/rerror=stop and werror=enospc on ENOSPC: the VM pauses, the command stays busy, cont retries it. */
    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @CsvSource({
            "pio, write, ENOSPC, enospc",
            "pio, write, EIO,    stop",
            "pio, read,  EIO,    stop",
            "dma, write, ENOSPC, enospc",
            "dma, write, EIO,    stop",
            "dma, read,  EIO,    stop",
    })
    void stopPausesTheMachineAndContRetries(String path, String op, String errno, String policy) throws Exception {
        Path img = image();
        long lba = 300;
        boolean write = op.equals("write");
        byte[] data = new byte[512];
        Arrays.fill(data, (byte) 0xC3);
        try (Machine m = new Machine(img, drive(op, errno, lba, policy, true))) {
            m.issue(path, write, lba, data);
            m.qmp.awaitEvent("STOP");
            // QEMU's blk_error_action: BLOCK_IO_ERROR (before STOP), and the drive's io-status until cont.
            // QEMU 7.2 prints {"device": "ide0-hd0", "nospace": true, "node-name": "#block243",
            // "reason": "No space left on device", "operation": "write", "action": "stop"}: the same
            // but for its automatic node name.
            boolean nospace = errno.equals("ENOSPC");
            String ioError = m.qmp.events.stream().filter(e -> e.contains("\"BLOCK_IO_ERROR\"")).findFirst()
                    .orElseThrow(() -> new AssertionError("no BLOCK_IO_ERROR before STOP: " + m.qmp.events));
            assertTrue(ioError.contains("\"data\": {\"device\": \"ide0-hd0\", \"nospace\": " + nospace
                    + ", \"reason\": \"" + (nospace ? "No space left on device" : "Input/output error")
                    + "\", \"operation\": \"" + op + "\", \"action\": \"stop\"}"), ioError);
            String ioStatus = "\"io-status\": \"" + (nospace ? "nospace" : "failed") + "\"";
            assertTrue(m.qmp.execute("{\"execute\": \"query-block\"}").contains(ioStatus), "query-block " + ioStatus);
            assertTrue(m.status().contains("\"status\": \"io-error\""), m.status());
            assertEquals(0, m.ata.altStatus() & Ata.STATUS_ERR, "no error reported while the VM is stopped");
            assertEquals("{\"return\": {}}", m.qmp.execute("{\"execute\": \"cont\"}"));
            assertTrue(m.qmp.execute("{\"execute\": \"query-block\"}").contains("\"io-status\": \"ok\""),
                    "cont resets io-status");
            byte[] read = new byte[512];
            int st = m.complete(path, write, read);
            assertEquals(0, st & (Ata.STATUS_ERR | Ata.STATUS_BSY | Ata.STATUS_DRQ), "the retried command succeeded");
            assertTrue(m.status().contains("\"status\": \"running\""), m.status());
            if (!write) {
                assertArrayEquals(pattern(lba), read, "the retried read delivered the data");
            }
        }
        assertArrayEquals(write ? data : pattern(lba), sectorOnDisk(img, lba), "the image after the retry");
    }

    @Test
    void aFailedFlushIsLatchedReportedEveryTimeAndNeverRetriedIntoSuccess() throws Exception {
        Path img = image();
        // report: the first FLUSH CACHE fails and, the error being latched, so does every later one.
        try (Machine m = new Machine(img, drive("flush", "EIO", -1, "report", true))) {
            for (int i = 0; i < 3; i++) {
                int st = m.ata.flushCache();
                assertEquals(Ata.STATUS_DRDY | Ata.STATUS_ERR, st & (Ata.STATUS_DRDY | Ata.STATUS_ERR), "flush " + i);
                assertEquals(Ata.ERR_ABRT, m.ata.error());
            }
        }
        // stop: the VM pauses; cont retries the flush, which fails again (latched), so it stops again.
        try (Machine m = new Machine(img, drive("flush", "EIO", -1, "stop", true))) {
            m.ata.command(Ata.CMD_FLUSH_CACHE);
            m.qmp.awaitEvent("STOP");
            assertTrue(m.status().contains("io-error"), m.status());
            m.qmp.execute("{\"execute\": \"cont\"}");
            m.qmp.awaitEvent("STOP");
            assertTrue(m.status().contains("io-error"), "cont did not turn a lost flush into success");
            assertEquals(Ata.STATUS_BSY, m.ata.altStatus() & Ata.STATUS_BSY);
        }
        // With O_DIRECT nothing is latched: cont retries and the flush succeeds.
        try (Machine m = new Machine(img, drive("flush", "EIO", -1, "stop", true).replace("cache=writeback", "cache=none"))) {
            m.ata.command(Ata.CMD_FLUSH_CACHE);
            m.qmp.awaitEvent("STOP");
            m.qmp.execute("{\"execute\": \"cont\"}");
            int st = m.ata.awaitNotBusy();
            assertEquals(0, st & Ata.STATUS_ERR, "O_DIRECT: the retried flush succeeds");
        }
        // ignore: the failed flush completes as a success (QEMU's ide_flush_cb with werror=ignore).
        try (Machine m = new Machine(img, drive("flush", "ENOSPC", -1, "ignore", false))) {
            assertEquals(0, m.ata.flushCache() & Ata.STATUS_ERR);
        }
    }

    // ---- INT 13h on the software CPU ----

    static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("tests/guest/faults.asm"))) {
            p = p.getParent();
        }
        return p;
    }

    List<String> bootFaults(String rules) throws Exception {
        assumeTrue(IsolationTest.installed("nasm"), "skipped: nasm not installed (tests/setup.sh installs it)");
        Path bin = dir.resolve("faults.bin");
        Process nasm = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(),
                repo().resolve("tests/guest/faults.asm").toString()).redirectErrorStream(true).start();
        assertTrue(nasm.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, nasm.exitValue(), new String(nasm.getInputStream().readAllBytes()));
        Path img = image();
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.write(Files.readAllBytes(bin));
        }
        Path debug = dir.resolve("debugcon.txt");
        Files.deleteIfExists(debug);
        Vm vm = Vm.start(dir, "soft", Vm.ioemu(List.of("-accel", "soft", "-nodefaults", "-display", "none",
                "-drive", "file=" + img + ",if=ide,format=raw,cache=writeback," + rules,
                "-debugcon", "file:" + debug, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04")));
        try (vm) {
            assertTrue(vm.process.waitFor(120, TimeUnit.SECONDS), "the guest did not finish: " + vm.stderrText());
            assertEquals(1, vm.process.exitValue(), vm.stderrText());
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(debug));
        lines.add("W200=" + (Arrays.equals(sectorOnDisk(img, 200), pattern(200)) ? "unchanged" : "written"));
        lines.add("W300=" + (Arrays.equals(sectorOnDisk(img, 300), pattern(300)) ? "unchanged" : "written"));
        return lines;
    }

    @Test
    void int13ReadAndWriteErrorsAreTheirStatusCodes() throws Exception {
        List<String> lines = bootFaults("inject-error.0.iotype=read,inject-error.0.errno=EIO,inject-error.0.sector=100,"
                + "inject-error.1.iotype=write,inject-error.1.errno=ENOSPC,inject-error.1.sector=200");
        assertEquals(List.of("R42 AH=10 CF=1", "S01 AH=10 CF=1", "W43 AH=cc CF=1", "X43 AH=00 CF=0",
                "S01 AH=00 CF=0", "DONE", "W200=unchanged", "W300=written"), lines);
    }

    @Test
    void int13AFailedFirmwareFlushFailsThatWriteAndEveryLaterOne() throws Exception {
        List<String> lines = bootFaults("inject-error.0.iotype=flush,inject-error.0.errno=EIO,inject-error.0.once=on");
        // The data reached the image (the write succeeded; its flush did not): the guest is told CCh.
        assertEquals(List.of("R42 AH=00 CF=0", "S01 AH=00 CF=0", "W43 AH=cc CF=1", "X43 AH=cc CF=1",
                "S01 AH=cc CF=1", "DONE", "W200=written", "W300=written"), lines);
    }
}
