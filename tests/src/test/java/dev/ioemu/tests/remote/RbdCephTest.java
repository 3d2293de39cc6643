package dev.ioemu.tests.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.devices.block.AlignedBufferPool;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.rbd.RbdBlockDevice;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.ImgTool;
import dev.ioemu.tools.IoTool;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RBD backend against a real one-node Ceph cluster that {@code tests/ceph/cluster.sh} starts
 * for this class and tears down after (mon + mgr + one BlueStore OSD on a file, 127.0.0.1;
 * shared/spec/nbd.md §4.1). A guest boots the demo disk from an RBD image on the software CPU —
 * through librbd, and through qemu-storage-daemon's NBD export of the same kind of image — and
 * what it wrote and flushed is read back with {@code rbd export}, byte for byte; IDE DMA over
 * qtest round-trips through {@code -blockdev driver=rbd}; ioemu-img and ioemu-io take the
 * filenames; a flush pushes librbd's writeback cache to the OSDs; a missing image, pool or
 * cluster is one clear line. Skipped, with the reason, only where the ceph packages are missing
 * or the cluster cannot start.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class RbdCephTest {
    @TempDir
    static Path dir;
    static Path clusterDir;
    static String conf;
    static String skip;

    @BeforeAll
    static void startCluster() throws Exception {
        clusterDir = dir.resolve("ceph");
        Path script = repo().resolve("tests/ceph/cluster.sh");
        Process p = new ProcessBuilder("bash", script.toString(), "up", clusterDir.toString())
                .redirectError(dir.resolve("cluster-up.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            skip = "skipped: the one-node Ceph cluster did not start within 120 s";
        } else if (p.exitValue() != 0) {
            String err = Files.readString(dir.resolve("cluster-up.err")).trim();
            String last = err.isEmpty() ? "exit " + p.exitValue() : err.lines().reduce((a, b) -> b).orElse("");
            skip = last.startsWith("skipped:") ? last : "skipped: the one-node Ceph cluster did not start: " + last;
        } else {
            conf = out;
        }
        if (skip != null) {
            System.out.println(skip);
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (clusterDir != null) {
            Process p = new ProcessBuilder("bash", repo().resolve("tests/ceph/cluster.sh").toString(), "down",
                    clusterDir.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(60, TimeUnit.SECONDS);
        }
    }

    static void assumeCluster() {
        assumeTrue(skip == null, skip);
    }

    static String rbd(String image) {
        return "rbd:rbd/" + image + ":conf=" + conf;
    }

    // -----------------------------------------------------------------------------------------

    @Test
    void aGuestBootsFromAnRbdImageThroughLibrbdAndRbdExportSeesWhatItWrote() throws Exception {
        assumeCluster();
        Path ioemu = emulator();
        Path demo = demoDisk();
        ceph("rbd", "import", demo.toString(), "rbd/demo");
        Path run = dir.resolve("librbd");
        Files.createDirectories(run);
        Guest g = boot(ioemu, run, "file=" + rbd("demo") + ",if=ide,format=raw,cache=writeback",
                "-trace", "blk_flush", "-D", run.resolve("trace.log").toString());
        g.assertDemoRan();
        // firmware-writes=sync: each INT 13h write returned only after the drive's flush, which is
        // rbd_aio_flush here; the trace shows those flushes on the RBD image, all successful.
        List<String> flushes = Files.readAllLines(run.resolve("trace.log")).stream()
                .filter(l -> l.contains(":blk_flush ") && l.contains("rbd:rbd/demo")).toList();
        assertTrue(flushes.size() >= 2, "at least one flush per INT 13h write: " + flushes);
        assertTrue(flushes.stream().allMatch(l -> l.contains(" ret 0 ")), flushes.toString());
        assertDemoSectors(exported("demo"));
    }

    @Test
    void theSameKindOfImageThroughQemuStorageDaemonsNbdExport() throws Exception {
        assumeCluster();
        Path ioemu = emulator();
        assumeTrue(works("qemu-storage-daemon", "--version"), "skipped: qemu-storage-daemon not installed");
        ceph("rbd", "import", demoDisk().toString(), "rbd/demo-nbd");
        Path run = dir.resolve("qsd");
        Files.createDirectories(run);
        Path sock = run.resolve("r.sock");
        Process qsd = new ProcessBuilder("qemu-storage-daemon", "--blockdev",
                "driver=rbd,node-name=r,pool=rbd,image=demo-nbd,conf=" + conf + ",cache.direct=on",
                "--nbd-server", "addr.type=unix,addr.path=" + sock,
                "--export", "type=nbd,id=e,node-name=r,writable=on")
                .redirectErrorStream(true).redirectOutput(run.resolve("qsd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(sock) && qsd.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assumeTrue(Files.exists(sock), "skipped: qemu-storage-daemon could not export the RBD image "
                    + "(QEMU's rbd driver is in qemu-block-extra): " + Files.readString(run.resolve("qsd.log")).trim());
            Thread.sleep(200);   // the socket file exists from bind(), a moment before listen()
            Guest g = boot(ioemu, run, "file=nbd+unix:///r?socket=" + sock + ",if=ide,format=raw,cache=writeback");
            g.assertDemoRan();
            // Flushed by the guest through NBD_CMD_FLUSH: on the OSDs while the daemon still runs.
            assertDemoSectors(exported("demo-nbd"));
        } finally {
            qsd.destroy();
            qsd.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void ideDmaOverQtestRoundTripsThroughBlockdevDriverRbd() throws Exception {
        assumeCluster();
        Path ioemu = emulator();
        ceph("rbd", "create", "rbd/dma", "--size", "16M");
        byte[] data = new byte[8 * 512];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7 + 3);
        }
        try (QtestClient qts = QtestClient.start("ioemu", List.of(ioemu.toString(), "-machine", "pc", "-display",
                "none", "-blockdev", "driver=rbd,node-name=d0,pool=rbd,image=dma,conf=" + conf,
                "-device", "ide-hd,drive=d0,bus=ide.0,unit=0", "-qtest", "stdio"), dir.resolve("dma.err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            PciConfigAccess pci = new PciConfigAccess(transport);
            AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
            pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                    | PciConfigSpace.COMMAND_MASTER);
            AtaDriver ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
            long table = 0x100000;
            long buffer = 0x110000;
            transport.writeMemory(buffer, data);
            ata.writePrdTable(table, List.of(new PrdDescriptor(buffer, data.length, true)));
            DmaCompletion w = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, 100, 8, table));
            assertEquals(0, w.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), w.toString());
            assertEquals(0, ata.flushCache() & Ata.STATUS_ERR, "FLUSH CACHE succeeded");
            // Flushed: the OSDs hold it while ioemu still has the image open.
            assertArrayEquals(data, Arrays.copyOfRange(exported("dma"), 100 * 512, 108 * 512),
                    "rbd export after FLUSH CACHE, ioemu still running");
            transport.writeMemory(buffer, new byte[data.length]);
            DmaCompletion r = ata.dma(DmaRequest.of(Ata.CMD_READ_DMA, 100, 8, table));
            assertEquals(0, r.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), r.toString());
            assertArrayEquals(data, transport.readMemory(buffer, data.length), "READ DMA read it back");
        }
    }

    /**
     * nbd.md §4.4: with librbd's cache on, a completed write may live only in this process; a
     * completed flush puts every earlier write on the OSDs, where another client reads it.
     */
    @Test
    void aFlushPutsWritesFromLibrbdsWritebackCacheOnTheOsds() throws Exception {
        assumeCluster();
        ceph("rbd", "create", "rbd/wb", "--size", "8M");
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(rbd("wb")).withCache(CacheMode.WRITEBACK))) {
            assertTrue(((RbdBlockDevice) dev).rbdCache(), "cache=writeback turns rbd_cache on, as QEMU does");
            assertEquals(0, dev.flush(), "the first flush leaves rbd_cache_writethrough_until_flush");
            ByteBuffer b = ByteBuffer.allocateDirect(64 << 10);
            for (int i = 0; i < b.capacity(); i++) {
                b.put(i, (byte) (0x40 + i % 61));
            }
            assertEquals(b.capacity(), dev.write(1 << 20, b));
            assertEquals(0, dev.flush());
            byte[] exported = Arrays.copyOfRange(exported("wb"), 1 << 20, (1 << 20) + b.capacity());
            byte[] expected = new byte[b.capacity()];
            b.get(0, expected);
            assertArrayEquals(expected, exported, "rbd export after the flush, image still open");
            ByteBuffer back = ByteBuffer.allocate(b.capacity());   // a heap buffer: the bounce path
            assertEquals(b.capacity(), dev.read(1 << 20, back));
            assertArrayEquals(expected, back.array());
        }
        assertEquals(0, AlignedBufferPool.outstandingInAllPools(), "every bounce buffer went back to the pool");
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(rbd("wb")).withCache(CacheMode.NONE))) {
            assertFalse(((RbdBlockDevice) dev).rbdCache(), "cache=none turns rbd_cache off, as QEMU does");
            ByteBuffer tail = ByteBuffer.allocateDirect(8192);
            assertEquals(8192, dev.read((8 << 20) - 4096, tail), "a read past the end is zero-filled");
            assertEquals(-22, dev.write((8 << 20) - 4096, ByteBuffer.allocateDirect(8192)), "a write past it: EINVAL");
        }
    }

    @Test
    void ioemuImgAndIoemuIoTakeRbdFilenames() throws Exception {
        assumeCluster();
        Path src = dir.resolve("src.img");
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(4 << 20);
            f.seek(12345);
            f.write("converted to RBD and back".getBytes(StandardCharsets.US_ASCII));
        }
        Run convert = img("convert", src.toString(), rbd("conv"));
        assertEquals(0, convert.exit(), convert.err());
        Run info = img("info", rbd("conv"));
        assertEquals(0, info.exit(), info.err());
        assertTrue(info.out().contains("virtual size: 4 MiB (4194304 bytes)"), info.out());
        assertArrayEquals(Files.readAllBytes(src), exported("conv"), "rbd export of the converted image");
        Run io = io(rbd("conv"), "write -P 0x5a 1000 70000", "flush", "read -P 0x5a 1000 70000");
        assertEquals(0, io.exit(), io.err());
        Path back = dir.resolve("back.img");
        Run out = img("convert", rbd("conv"), back.toString());
        assertEquals(0, out.exit(), out.err());
        byte[] b = Files.readAllBytes(back);
        assertEquals(4 << 20, b.length);
        assertEquals((byte) 0x5a, b[1000]);
        assertEquals((byte) 0x5a, b[70999]);
        assertEquals(0, b[999]);
    }

    @Test
    void aMissingImagePoolOrClusterIsOneClearLine() throws Exception {
        assumeCluster();
        Run image = io(rbd("nope"), "read 0 512");
        assertEquals(1, image.exit());
        assertTrue(image.err().contains("rbd: error reading header from rbd/nope: No such file or directory"),
                image.err());
        Run pool = io("rbd:nopool/x:conf=" + conf, "read 0 512");
        assertEquals(1, pool.exit());
        assertTrue(pool.err().contains("rbd: error opening pool nopool: No such file or directory"), pool.err());
        Path deadConf = dir.resolve("dead.conf");
        Files.writeString(deadConf, "[global]\nmon_host = v2:127.0.0.1:9/0\nauth_client_required = none\n");
        long t0 = System.nanoTime();
        Run dead = io("rbd:rbd/x:conf=" + deadConf + ":client_mount_timeout=3", "read 0 512");
        assertEquals(1, dead.exit());
        assertTrue(dead.err().contains("rbd: error connecting: Connection timed out"), dead.err());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "gave up after client_mount_timeout");
        Run syntax = io("rbd:justapool", "read 0 512");
        assertEquals(1, syntax.exit());
        assertTrue(syntax.err().contains("rbd: Pool name is required"), syntax.err());
        for (Run r : List.of(image, pool, dead, syntax)) {
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        }
        try {
            BlockDevices.open(DriveOptions.of("rbd:rbd/nope@snap:conf=" + conf));
            throw new AssertionError("a writable snapshot opened");
        } catch (BlockOpenException e) {
            assertTrue(e.reason().contains("rbd snapshots are always read-only"), e.getMessage());
        }
    }

    /**
     * An OSD that stops answering: with {@code rados_osd_op_timeout} set in the filename (a Ceph
     * option, as QEMU passes it), requests fail with librbd's -ETIMEDOUT instead of hanging, and
     * work again once the OSD is back.
     */
    @Test
    void aStalledOsdFailsRequestsWithLibrbdsErrnoNotAHang() throws Exception {
        assumeCluster();
        ceph("rbd", "create", "rbd/stall", "--size", "8M");
        long osd = Long.parseLong(Files.readString(clusterDir.resolve("run/osd.0.pid")).trim());
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(rbd("stall") + ":rados_osd_op_timeout=2")
                .withCache(CacheMode.NONE))) {
            ByteBuffer buf = ByteBuffer.allocateDirect(4096);
            assertEquals(4096, dev.read(0, buf));
            exec("kill", "-STOP", Long.toString(osd));
            int r;
            long t0 = System.nanoTime();
            try {
                r = dev.write(8192, buf.clear());
            } finally {
                exec("kill", "-CONT", Long.toString(osd));
            }
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            assertEquals(-110, r, "ETIMEDOUT from librbd after rados_osd_op_timeout");
            assertTrue(seconds < 20, "failed after " + seconds + " s");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((r = dev.write(8192, buf.clear())) < 0 && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            assertEquals(4096, r, "the same write succeeds once the OSD answers again");
        }
    }

    /**
     * Block status from librbd's object map (rbd_diff_iterate2, as QEMU 7.2 reads it): {@code
     * ioemu-img map} prints what {@code qemu-img map} prints for the same image, holes included,
     * and {@code ioemu-img convert} writes a sparse copy with the image's bytes.
     */
    @Test
    void mapAndSparseConvertSeeLibrbdsAllocationAsQemuImgDoes() throws Exception {
        assumeCluster();
        ceph("rbd", "create", "rbd/sparse", "--size", "16M");
        Run io = io(rbd("sparse"), "write -P 0x11 4198400 4096", "write -P 0x22 12582912 65536", "flush");
        assertEquals(0, io.exit(), io.err());
        Run ours = img("map", "--output=json", rbd("sparse"));
        assertEquals(0, ours.exit(), ours.err());
        Run qemu = exec("qemu-img", "map", "--output=json", "-f", "raw", rbd("sparse"));
        assumeTrue(qemu.exit() == 0, "skipped: qemu-img cannot open rbd images here: " + qemu.err().strip());
        assertEquals(qemu.out().strip(), ours.out().strip(), "ioemu-img map vs qemu-img map");
        assertTrue(ours.out().contains("\"start\": 0, \"length\": 4194304, \"depth\": 0, \"present\": true, "
                + "\"zero\": true, \"data\": false"), "the first object is a hole: " + ours.out());
        assertTrue(ours.out().contains("\"start\": 4194304, \"length\": 4194304, \"depth\": 0, \"present\": true, "
                + "\"zero\": false, \"data\": true"), "the written object is data: " + ours.out());

        Path copy = dir.resolve("sparse-copy.img");
        Run convert = img("convert", rbd("sparse"), copy.toString());
        assertEquals(0, convert.exit(), convert.err());
        assertArrayEquals(exported("sparse"), Files.readAllBytes(copy), "the copy holds the image's bytes");
        long allocated = Long.parseLong(exec("stat", "-c", "%b", copy.toString()).out().strip()) * 512;
        assertTrue(allocated <= 8 << 20, "the copy is sparse: " + allocated + " bytes allocated of 16 MiB");
    }

    /**
     * ioemu-img bench at QD16 goes through the asynchronous path (rbd_aio_* completed by librbd's
     * callback, no thread per request); what it wrote, with a flush every 16, is on the OSDs.
     */
    @Test
    void benchWritesAtQueueDepth16ThroughAsynchronousSubmission() throws Exception {
        assumeCluster();
        ceph("rbd", "create", "rbd/qd16", "--size", "4M");
        Run bench = img("bench", "-f", "raw", "-t", "none", "-w", "-c", "256", "-d", "16", "-s", "4k",
                "--pattern=0x5a", "--flush-interval=16", rbd("qd16"));
        assertEquals(0, bench.exit(), bench.err());
        assertTrue(bench.out().contains("Run completed in"), bench.out());
        byte[] b = exported("qd16");
        for (int i = 0; i < 256 * 4096; i++) {
            if (b[i] != 0x5a) {
                throw new AssertionError("byte " + i + " is " + b[i] + " (expected: the bench's 0x5a)");
            }
        }
        Run read = img("bench", "-f", "raw", "-t", "none", "-c", "2000", "-d", "16", "-s", "4k", rbd("qd16"));
        assertEquals(0, read.exit(), read.err());
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(rbd("qd16")).withCache(CacheMode.NONE))) {
            assertTrue(dev.hasAsyncSubmit());
            ByteBuffer buf = ByteBuffer.allocateDirect(4096);
            java.util.concurrent.CompletableFuture<Integer> r = new java.util.concurrent.CompletableFuture<>();
            dev.readAsync(4096, buf, r::complete);
            assertEquals(4096, r.get(30, TimeUnit.SECONDS));
            assertEquals(0x5a, buf.get(100));
        }
    }

    /** A host without librbd (an empty library directory stands in for it): one line, no stack trace. */
    @Test
    void withoutLibrbdOpeningAnRbdImageSaysSo() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-librbd"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Run r = exec(java, "-cp", System.getProperty("java.class.path"), "-Dioemu.rbd.library-path=" + empty,
                "dev.ioemu.tools.IoTool", "-c", "read 0 512", "rbd:rbd/x:conf=/nonexistent.conf");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("rbd: librbd not available"), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    // -----------------------------------------------------------------------------------------

    record Run(int exit, String out, String err) {
    }

    record Guest(int exit, String console, String stderr) {
        void assertDemoRan() {
            for (String line : List.of("demo: AH=03h wrote LBA 16", "demo: AH=43h wrote LBA 17-19",
                    "demo: AH=42h read back equal", "IOEMU-DEMO-DONE")) {
                assertTrue(console.contains(line), "COM1 shows '" + line + "'; COM1: " + console + "; stderr: " + stderr);
            }
            assertEquals(1, exit, "isa-debug-exit status; stderr: " + stderr);
        }
    }

    /** Boots the demo disk on ioemu's software CPU with one -drive; COM1 to a file. */
    static Guest boot(Path ioemu, Path run, String drive, String... extra) throws Exception {
        Path serial = run.resolve("com1.txt");
        List<String> cmd = new ArrayList<>(List.of(ioemu.toString(), "-machine", "pc", "-accel", "soft", "-nodefaults",
                "-display", "none", "-drive", drive, "-serial", "file:" + serial,
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(run.resolve("ioemu.out").toFile())
                .start();
        if (!p.waitFor(100, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the guest did not finish in 100 s: " + Files.readString(run.resolve("ioemu.out")));
        }
        String console = Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
        return new Guest(p.exitValue(), console, Files.readString(run.resolve("ioemu.out")));
    }

    /** tests/guest/demodisk.asm on a 64 MiB raw image (the demo's disk). */
    static Path demoDisk() throws Exception {
        Path img = dir.resolve("demo.img");
        if (Files.exists(img)) {
            return img;
        }
        assumeTrue(works("nasm", "-v"), "skipped: nasm not installed");
        Path bin = dir.resolve("demodisk.bin");
        Run r = exec("nasm", "-f", "bin", "-o", bin.toString(), repo().resolve("tests/guest/demodisk.asm").toString());
        assertEquals(0, r.exit(), r.err());
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(64 << 20);
            f.write(Files.readAllBytes(bin));
        }
        return img;
    }

    static void assertDemoSectors(byte[] image) {
        assertArrayEquals(demoSector("CHS", 16), sector(image, 16), "AH=03h sector in the RBD image");
        for (int lba = 17; lba <= 19; lba++) {
            assertArrayEquals(demoSector("EDD", lba), sector(image, lba), "AH=43h sector " + lba + " in the RBD image");
        }
        assertArrayEquals(new byte[512], sector(image, 20), "LBA 20 untouched");
    }

    static byte[] sector(byte[] image, int lba) {
        return Arrays.copyOfRange(image, lba * 512, lba * 512 + 512);
    }

    /** demodisk.asm's sector: "IOEMU-DEMO <path>  sector NN" padded with '.'. */
    static byte[] demoSector(String path, int lba) {
        byte[] s = new byte[512];
        Arrays.fill(s, (byte) '.');
        byte[] text = String.format("IOEMU-DEMO %s  sector %02d", path, lba).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, s, 0, text.length);
        return s;
    }

    /** The image's bytes as another Ceph client ({@code rbd export}) reads them from the OSDs. */
    static byte[] exported(String image) throws Exception {
        Path out = dir.resolve("export-" + image + "-" + System.nanoTime() + ".img");
        ceph("rbd", "export", "rbd/" + image, out.toString());
        byte[] b = Files.readAllBytes(out);
        Files.delete(out);
        return b;
    }

    static void ceph(String... command) throws Exception {
        List<String> c = new ArrayList<>(List.of(command));
        c.add(1, "-c");
        c.add(2, conf);
        Run r = exec(c.toArray(String[]::new));
        assertEquals(0, r.exit(), String.join(" ", command) + ": " + r.err());
    }

    static Run exec(String... command) throws Exception {
        Path err = Files.createTempFile(dir, "exec", ".err");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + ": no answer in 60 s");
        }
        return new Run(p.exitValue(), out, Files.readString(err));
    }

    static Run io(String file, String... commands) {
        List<String> a = new ArrayList<>();
        for (String c : commands) {
            a.add("-c");
            a.add(c);
        }
        a.add(file);
        return inProcess(true, a);
    }

    static Run img(String... args) {
        return inProcess(false, List.of(args));
    }

    private static Run inProcess(boolean ioTool, List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        String[] a = args.toArray(String[]::new);
        int exit = ioTool ? IoTool.run(a, o, e) : ImgTool.run(a, o, e);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** emulator/bin/ioemu, when its jar is built and current (the launcher would run Maven itself). */
    static Path emulator() throws IOException {
        Path root = repo();
        Path jar = root.resolve("emulator/target/ioemu-emulator-0.1.0-SNAPSHOT.jar");
        boolean built = Files.exists(jar) && Files.isDirectory(root.resolve("emulator/target/lib"));
        if (built) {
            long jarTime = jar.toFile().lastModified();
            for (String module : new String[] {"devices", "bios", "cpu", "emulator"}) {
                Path main = root.resolve(module).resolve("src/main");
                if (Files.isDirectory(main)) {
                    try (Stream<Path> sources = Files.walk(main)) {
                        built &= sources.filter(Files::isRegularFile).allMatch(p -> p.toFile().lastModified() <= jarTime);
                    }
                }
            }
        }
        assumeTrue(built, "skipped: emulator jar missing or older than the sources (run mvn verify)");
        return root.resolve("emulator/bin/ioemu");
    }

    static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("emulator/bin/ioemu"))) {
            p = p.getParent();
        }
        return p;
    }

    static boolean works(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
