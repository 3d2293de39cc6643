package dev.ioemu.tests.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults between ioemu and its NBD server (shared/spec/nbd.md §2.4, §3.5): nbdkit's error filter
 * (EIO, ENOSPC) seen by a guest as ATA and INT 13h errors; a server killed and restarted under a
 * guest's write workload with and without {@code reconnect-delay} ({@code -blockdev driver=nbd},
 * nbdkit's delay filter keeps a write in flight at the kill); answered but unflushed writes
 * replayed to a server that lost its volatile cache (nbdkit's cache filter in writeback mode);
 * the reconnect delay running out; {@code open-timeout} waiting for a late server.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdFaultsTest {
    static final int SECTORS = 8;
    static final int WRITES = 24;

    @TempDir
    Path dir;
    NbdServers servers;

    @BeforeEach
    void servers() {
        servers = new NbdServers(dir);
    }

    @AfterEach
    void stop() throws Exception {
        servers.close();
    }

    // ---- server errors reach the guest --------------------------------------------------------

    @Test
    void serverEioAndEnospcAreAtaAbortsForTheGuest() throws Exception {
        NbdServers.Export eio = servers.start(NbdServers.Kind.NBDKIT_MEMORY_UNIX, dir.resolve("none"),
                List.of("--filter=error", "error-pwrite=EIO", "error-pwrite-rate=100%"));
        NbdServers.Export enospc = servers.start(NbdServers.Kind.NBDKIT_MEMORY_UNIX, dir.resolve("none"),
                List.of("--filter=error", "error-pwrite=ENOSPC", "error-pwrite-rate=100%"));
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(enospc.uri()))) {
            assertEquals(-Errno.ENOSPC, dev.write(0, ByteBuffer.allocate(4096)), "ENOSPC carried end to end");
        }
        try (QtestClient qts = QtestClient.start("ioemu", List.of(ioemu(), "-machine", "pc", "-display", "none",
                "-drive", "file=" + eio.uri() + ",format=raw,if=ide,index=0",
                "-drive", "file=" + enospc.uri() + ",format=raw,if=ide,index=1,werror=report",
                "-qtest", "stdio"), dir.resolve("ioemu.err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            AtaDriver ata = NbdServersTest.controller(transport);
            transport.writeMemory(0x110000, new byte[SECTORS * 512]);
            ata.writePrdTable(0x100000, List.of(new PrdDescriptor(0x110000, SECTORS * 512, true)));
            for (int unit = 0; unit < 2; unit++) {
                ata.select(unit);
                DmaCompletion w = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, 10, SECTORS, 0x100000));
                assertEquals(Ata.STATUS_ERR, w.ataStatus() & Ata.STATUS_ERR, "unit " + unit + ": " + w);
                assertEquals(Ata.ERR_ABRT, ata.error(), "unit " + unit + " (EIO, then ENOSPC with werror=report)");
                DmaCompletion r = ata.dma(DmaRequest.of(Ata.CMD_READ_DMA, 10, SECTORS, 0x100000));
                assertEquals(0, r.ataStatus() & Ata.STATUS_ERR, "reads still work on unit " + unit + ": " + r);
            }
        }
    }

    @Test
    void aServerWriteErrorIsInt13StatusCCh() throws Exception {
        assumeTrue(NbdBackendTest.works("nasm", "-v"), "skipped: nasm not installed");
        Path image = dir.resolve("boot.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(NbdServers.SIZE);
            f.write(Files.readAllBytes(NbdServersTest.demoDisk(dir)));
        }
        NbdServers.Export e = servers.start(NbdServers.Kind.NBDKIT_FILE_UNIX, image,
                List.of("--filter=error", "error-pwrite=EIO", "error-pwrite-rate=100%"));
        Path trace = dir.resolve("trace.log");
        int status = NbdServersTest.bootSoft(e.uri(), dir.resolve("console.txt"), dir.resolve("boot.err"),
                "-trace", "int13_io_error", "-D", trace.toString());
        assertEquals(3, status, "isa-debug-exit status 3: the guest saw its INT 13h write fail");
        String log = Files.readString(trace);
        assertTrue(log.matches("(?s).*int13_io_error .*op WRITE .*errno 5 .*(status|ah) 0xcc.*"), log);
    }

    // ---- a server killed and restarted under a guest workload ---------------------------------

    @Test
    void withReconnectDelayTheGuestWorkloadRidesOutARestart() throws Exception {
        Result r = guestWorkloadAcrossAKill(",reconnect-delay=20", true);
        assertEquals(List.of(), r.failed(), "no write failed; the trace: " + r.trace());
        assertEquals(0, r.flushStatus() & Ata.STATUS_ERR, "FLUSH CACHE after the restart");
        assertTrue(r.trace().matches("(?s).*nbd_connection_lost .*in_flight [1-9].*"),
                "the write in the delay filter was in flight at the kill, and was re-sent: " + r.trace());
        assertTrue(r.trace().matches("(?s).*nbd_reconnect_attempt_result .*ret 0 .*"), r.trace());
    }

    @Test
    void withoutReconnectDelayTheGuestSeesAnErrorAndNothingAnsweredIsLost() throws Exception {
        Result r = guestWorkloadAcrossAKill("", false);
        assertNotEquals(List.of(), r.failed(), "the write in flight at the kill failed (ABRT)");
        assertTrue(r.failed().size() < WRITES, "the writes before the kill succeeded: " + r.failed());
        assertEquals(Ata.STATUS_ERR, r.flushStatus() & Ata.STATUS_ERR, "writes answered before the loss were not "
                + "covered by a flush and may be gone with the server: FLUSH CACHE must not report success");
    }

    record Result(List<Integer> failed, int flushStatus, String trace) {
    }

    /**
     * WRITE DMA of {@link #WRITES} × 8 sectors through {@code -blockdev driver=nbd}; nbdkit's delay
     * filter holds each write 150 ms, and the server is killed while write 8 is in flight, then
     * restarted 300 ms later. Every write the guest saw succeed must be in the image file.
     */
    private Result guestWorkloadAcrossAKill(String blockdevExtra, boolean healAfterRestart) throws Exception {
        Path image = dir.resolve("w.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(NbdServers.SIZE);
        }
        NbdServers.Export e = servers.start(NbdServers.Kind.NBDKIT_FILE_UNIX, image,
                List.of("--filter=delay", "wdelay=150ms"));
        Path trace = dir.resolve("trace.log");
        List<Integer> failed = new ArrayList<>();
        List<Integer> succeeded = new ArrayList<>();
        int flush;
        try (QtestClient qts = QtestClient.start("ioemu", List.of(ioemu(), "-machine", "pc", "-display", "none",
                "-blockdev", "driver=nbd,node-name=d0,server.type=unix,server.path=" + e.socket() + ",export=disk0"
                        + ",open-timeout=20" + blockdevExtra,
                "-device", "ide-hd,drive=d0,bus=ide.0,unit=0", "-trace", "nbd_*", "-D", trace.toString(),
                "-qtest", "stdio"), dir.resolve("ioemu.err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            AtaDriver ata = NbdServersTest.controller(transport);
            CompletableFuture<Void> killer = null;
            for (int i = 0; i < WRITES; i++) {
                byte[] data = NbdServersTest.pattern(SECTORS * 512, i + 1);
                transport.writeMemory(0x110000, data);
                ata.writePrdTable(0x100000, List.of(new PrdDescriptor(0x110000, data.length, true)));
                if (i == 8) {
                    killer = CompletableFuture.runAsync(() -> killAndRestart(e));
                }
                DmaCompletion w = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, 1000 + i * SECTORS, SECTORS, 0x100000));
                ((w.ataStatus() & Ata.STATUS_ERR) == 0 ? succeeded : failed).add(i);
                if (i == 8) {
                    killer.get(30, TimeUnit.SECONDS);
                    if (!healAfterRestart) {
                        Thread.sleep(1500); // the background reconnect (1 s backoff) heals the disk
                    }
                }
            }
            flush = ata.flushCache();
        }
        byte[] file = Files.readAllBytes(image);
        for (int i : succeeded) {
            int at = (1000 + i * SECTORS) * 512;
            assertArrayEquals(NbdServersTest.pattern(SECTORS * 512, i + 1),
                    Arrays.copyOfRange(file, at, at + SECTORS * 512), "write " + i + " was acknowledged to the guest");
        }
        return new Result(failed, flush, Files.exists(trace) ? Files.readString(trace) : "");
    }

    private void killAndRestart(NbdServers.Export e) {
        try {
            Thread.sleep(60); // write 8 is in the delay filter now
            servers.kill(e);
            Thread.sleep(300);
            servers.restart(e);
        } catch (Exception x) {
            throw new IllegalStateException(x);
        }
    }

    // ---- answered, unflushed writes and a server that loses its cache -------------------------

    @Test
    void answeredUnflushedWritesAreReplayedToARestartedServer() throws Exception {
        Path image = dir.resolve("c.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(NbdServers.SIZE);
        }
        // cache=writeback: nbdkit keeps writes in its own cache until a flush; a kill loses them.
        List<String> volatileCache = List.of("--filter=cache", "cache=writeback");
        NbdServers.Export e = servers.start(NbdServers.Kind.NBDKIT_FILE_UNIX, image, volatileCache);
        byte[] a = NbdServersTest.pattern(65536, 1);
        byte[] b = NbdServersTest.pattern(65536, 2);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(e.uri("x-reconnect-delay=20")))) {
            assertEquals(a.length, dev.write(0, ByteBuffer.wrap(a)));
            assertEquals(0, dev.flush());
            assertEquals(b.length, dev.write(1 << 20, ByteBuffer.wrap(b)));
            assertArrayEquals(new byte[b.length], fileRange(image, 1 << 20, b.length),
                    "premise: the answered write B sits only in the server's volatile cache");
            servers.kill(e);
            servers.restart(e);
            ByteBuffer back = ByteBuffer.allocate(b.length);
            assertEquals(b.length, dev.read(1 << 20, back), "the read waits for the reconnect");
            assertArrayEquals(b, back.array(), "B was replayed to the new server");
            assertEquals(0, dev.flush(), "the flush covers the replayed write");
        }
        assertArrayEquals(a, fileRange(image, 0, a.length));
        assertArrayEquals(b, fileRange(image, 1 << 20, b.length), "B is durable after the guest's flush");
    }

    @Test
    void whenTheJournalCouldNotKeepEveryAnsweredWriteTheNextFlushFails() throws Exception {
        Path image = dir.resolve("o.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(96 << 20);
        }
        NbdServers.Export e = servers.start(NbdServers.Kind.NBDKIT_FILE_UNIX, image,
                List.of("--filter=cache", "cache=writeback"));
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(e.uri("x-reconnect-delay=20")))) {
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
            for (int i = 0; i < 66; i++) { // more than the journal's 64 MiB, no flush
                assertEquals(1 << 20, dev.write((long) i << 20, chunk.duplicate()));
            }
            servers.kill(e);
            servers.restart(e);
            assertEquals(4096, dev.read(0, ByteBuffer.allocate(4096)), "reads work after the reconnect");
            assertEquals(-Errno.EIO, dev.flush(), "answered writes may be lost: the flush must not succeed");
            assertEquals(-Errno.EIO, dev.flush(), "and the error is sticky");
        }
    }

    // ---- the reconnect window and the open timeout --------------------------------------------

    @Test
    void aReconnectDelayThatRunsOutFailsWithEioThenAtOnce() throws Exception {
        NbdServers.Export e = servers.start(NbdServers.Kind.QEMU_NBD_UNIX);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(e.uri("x-reconnect-delay=2")))) {
            assertEquals(4096, dev.read(0, ByteBuffer.allocate(4096)));
            servers.kill(e);
            long t0 = System.nanoTime();
            assertEquals(-Errno.EIO, dev.read(0, ByteBuffer.allocate(4096)));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waited >= 1500 && waited < 15000, "the read waited about 2 s: " + waited + " ms");
            long t1 = System.nanoTime();
            assertEquals(-Errno.EIO, dev.write(0, ByteBuffer.allocate(512)));
            assertTrue(System.nanoTime() - t1 < TimeUnit.MILLISECONDS.toNanos(1000), "later requests fail at once");
        }
    }

    @Test
    void openTimeoutWaitsForALateServer() throws Exception {
        Path image = dir.resolve("late.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Path sock = dir.resolve("late.sock");
        CompletableFuture<Process> late = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(1500);
                return new ProcessBuilder("qemu-nbd", "-f", "raw", "-t", "-x", "d", "-k", sock.toString(),
                        image.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("late.log").toFile())
                        .start();
            } catch (Exception x) {
                throw new IllegalStateException(x);
            }
        });
        assumeTrue(NbdBackendTest.works("qemu-nbd", "--version"), "skipped: qemu-nbd not installed");
        long t0 = System.nanoTime();
        try (BlockDevice dev = BlockDevices.open(DriveOptions.parse(
                "driver=nbd,server.type=unix,server.path=" + sock + ",export=d,open-timeout=20"))) {
            assertTrue(System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(1000), "the open waited for the server");
            assertEquals(1 << 20, dev.size());
        } finally {
            Process p = late.get(10, TimeUnit.SECONDS);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    // -----------------------------------------------------------------------------------------

    static String ioemu() {
        return NbdBackendTest.repo().resolve("emulator/bin/ioemu").toString();
    }

    static byte[] fileRange(Path file, long offset, int length) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }
}
