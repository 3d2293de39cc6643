package dev.ioemu.tests.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NBD backend against real servers started here (qemu-nbd over a Unix socket and TCP, nbdkit
 * with its memory plugin and its log and error filters) and against a hostile fake server: bytes
 * round-trip through ioemu-io and through the IDE model driven by a guest driver over qtest, the
 * cache mode decides FLUSH and FUA on the wire, server errors arrive as errno values, and a dead
 * or lying server fails requests instead of hanging anything.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdBackendTest {
    static final boolean QEMU_NBD = works("qemu-nbd", "--version");
    static final boolean NBDKIT = works("nbdkit", "--version");

    @TempDir
    Path dir;
    final List<Process> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Process p : servers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    // -----------------------------------------------------------------------------------------

    @Test
    void ioemuIoRoundTripsThroughQemuNbdOverUnixAndTcp() throws Exception {
        assumeTrue(QEMU_NBD, "skipped: qemu-nbd not installed");
        Path image = image("disk.img", 16 << 20);
        Path sock = dir.resolve("q.sock");
        server("qemu-nbd", "-f", "raw", "-e", "4", "-t", "-x", "disk0", "-k", sock.toString(), image.toString());
        awaitSocket(sock);
        int port = freePort();
        server("qemu-nbd", "-f", "raw", "-e", "4", "-t", "-x", "disk0", "-b", "127.0.0.1", "-p",
                String.valueOf(port), image.toString());
        awaitPort(port);
        String unix = "nbd+unix:///disk0?socket=" + sock;
        String tcp = "nbd://127.0.0.1:" + port + "/disk0";
        assertEquals(0, io(unix, "write -P 0x5a 1000 70000", "flush", "read -P 0x5a 1000 70000").exit(), lastErr);
        assertEquals(0, io(tcp, "write -P 0xa5 1048576 2097152", "flush", "read -P 0x5a 1000 70000",
                "read -P 0xa5 1048576 2097152").exit(), lastErr);
        byte[] file = Files.readAllBytes(image);
        for (int i = 1000; i < 71000; i++) {
            assertEquals((byte) 0x5a, file[i], "byte " + i + " of the exported file");
        }
        assertEquals((byte) 0xa5, file[1048576]);
        assertEquals((byte) 0xa5, file[3145727]);
        assertEquals(0, file[999]);
        assertEquals(0, io("nbd:unix:" + sock + ":exportname=disk0", "read -P 0x5a 1000 70000").exit(), lastErr);
    }

    @Test
    void theCacheModeDecidesFlushAndFuaOnTheWire() throws Exception {
        assumeTrue(NBDKIT, "skipped: nbdkit not installed");
        Path log = dir.resolve("nbdkit.log");
        Path sock = dir.resolve("k.sock");
        server("nbdkit", "-f", "-U", sock.toString(), "--filter=log", "memory", "8M", "logfile=" + log);
        awaitSocket(sock);
        String uri = "nbd+unix:///?socket=" + sock;
        assertEquals(0, io("--cache", "writeback", uri, "write -P 1 0 4096", "flush").exit(), lastErr);
        List<String> wb = commands(log);
        assertTrue(wb.contains("Write offset=0x0 count=0x1000 fua=0"), wb.toString());
        assertTrue(wb.indexOf("Flush") > wb.indexOf("Write offset=0x0 count=0x1000 fua=0"), wb.toString());
        Files.writeString(log, "");
        assertEquals(0, io("--cache", "writethrough", uri, "write -P 2 4096 4096").exit(), lastErr);
        assertTrue(commands(log).contains("Write offset=0x1000 count=0x1000 fua=1"), commands(log).toString());
    }

    /**
     * {@code ioemu-img bench -d 16} on an NBD export submits asynchronously (the thread that reads a
     * reply sends the next request) and keeps qemu-img's flush rule: with {@code --flush-interval=16}
     * each FLUSH goes out after the 16 writes it covers, and the data is in the export.
     */
    @Test
    void benchAtQueueDepth16KeepsFlushOrderAndWritesEverything() throws Exception {
        assumeTrue(NBDKIT, "skipped: nbdkit not installed");
        Path log = dir.resolve("bench.log");
        Path sock = dir.resolve("bench.sock");
        server("nbdkit", "-f", "-U", sock.toString(), "--filter=log", "memory", "8M", "logfile=" + log);
        awaitSocket(sock);
        String uri = "nbd+unix:///?socket=" + sock;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = ImgTool.run(new String[] {"bench", "-f", "raw", "-w", "-c", "256", "-d", "16", "-s", "4k",
                        "--pattern=0x5a", "--flush-interval=16", uri},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("Run completed in"));
        List<String> wire = commands(log);
        int writes = 0;
        int flushes = 0;
        for (String c : wire) {
            if (c.equals("Flush")) {
                flushes++;
                assertEquals(16 * flushes, writes, "flush " + flushes + " covers the 16 writes before it: " + wire);
            } else {
                writes++;
            }
        }
        assertEquals(256, writes);
        assertEquals(16, flushes);
        assertEquals(0, io(uri, "read -P 0x5a 0 1M").exit(), lastErr);
    }

    @Test
    void guestIdeDmaWritesLandInTheExportedImage() throws Exception {
        assumeTrue(QEMU_NBD, "skipped: qemu-nbd not installed");
        Path image = image("guest.img", 16 << 20);
        Path sock = dir.resolve("g.sock");
        server("qemu-nbd", "-f", "raw", "-e", "2", "-t", "-x", "disk0", "-k", sock.toString(), image.toString());
        awaitSocket(sock);
        Path ioemu = repo().resolve("emulator/bin/ioemu");
        try (QtestClient qts = QtestClient.start("ioemu", List.of(ioemu.toString(), "-machine", "pc", "-display",
                "none", "-drive", "file=nbd+unix:///disk0?socket=" + sock + ",format=raw,if=ide,cache=none",
                "-qtest", "stdio"), dir.resolve("ioemu.err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            PciConfigAccess pci = new PciConfigAccess(transport);
            AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
            pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                    | PciConfigSpace.COMMAND_MASTER);
            AtaDriver ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
            byte[] data = new byte[8 * 512];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7 + 3);
            }
            long table = 0x100000;
            long buffer = 0x110000;
            transport.writeMemory(buffer, data);
            ata.writePrdTable(table, List.of(new PrdDescriptor(buffer, data.length, true)));
            DmaCompletion w = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, 100, 8, table));
            assertEquals(0, w.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), w.toString());
            assertEquals(0, ata.flushCache() & Ata.STATUS_ERR, "FLUSH CACHE succeeded");
            transport.writeMemory(buffer, new byte[data.length]);
            DmaCompletion r = ata.dma(DmaRequest.of(Ata.CMD_READ_DMA, 100, 8, table));
            assertEquals(0, r.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), r.toString());
            assertTrue(Arrays.equals(data, transport.readMemory(buffer, data.length)), "READ DMA read it back");
        }
        byte[] onDisk = Arrays.copyOfRange(Files.readAllBytes(image), 100 * 512, 108 * 512);
        for (int i = 0; i < onDisk.length; i++) {
            assertEquals((byte) (i * 7 + 3), onDisk[i], "byte " + i + " of LBA 100.. in the exported file");
        }
    }

    @Test
    void serverErrorsArriveAsTheirErrno() throws Exception {
        assumeTrue(NBDKIT, "skipped: nbdkit not installed");
        Path sock = dir.resolve("e.sock");
        server("nbdkit", "-f", "-U", sock.toString(), "--filter=error", "memory", "8M", "error-pread=EIO",
                "error-pread-rate=1", "error-pwrite=ENOSPC", "error-pwrite-rate=1");
        awaitSocket(sock);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of("nbd+unix:///?socket=" + sock))) {
            assertEquals(-Errno.EIO, dev.read(0, ByteBuffer.allocateDirect(4096)));
            assertEquals(-Errno.ENOSPC, dev.write(0, ByteBuffer.allocateDirect(4096)));
            assertEquals(0, dev.flush(), "the connection survives request errors");
        }
        IoRun r = io("nbd+unix:///?socket=" + sock, "read 0 512");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("Input/output error"), r.err());
    }

    @Test
    void aMissingServerOrExportIsOneClearLine() throws Exception {
        IoRun none = io("nbd+unix:///disk0?socket=" + dir.resolve("absent.sock"), "read 0 512");
        assertEquals(1, none.exit());
        assertTrue(none.err().contains("Failed to connect to 'unix:" + dir.resolve("absent.sock") + "'"), none.err());
        IoRun bad = io("nbd+unix:///x?socket=a&b=c", "read 0 512");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("expected: nbd://HOST[:PORT]/EXPORT"), bad.err());
        assumeTrue(QEMU_NBD, "skipped: qemu-nbd not installed");
        Path sock = dir.resolve("x.sock");
        server("qemu-nbd", "-f", "raw", "-t", "-x", "disk0", "-k", sock.toString(),
                image("x.img", 1 << 20).toString());
        awaitSocket(sock);
        IoRun wrong = io("nbd+unix:///nope?socket=" + sock, "read 0 512");
        assertEquals(1, wrong.exit());
        assertTrue(wrong.err().contains("Requested export not available"), wrong.err());
        // qemu-nbd serves one client at a time by default: the refused client must have let go.
        assertEquals(0, io("nbd+unix:///disk0?socket=" + sock, "read 0 512").exit(), lastErr);
        for (String e : List.of(none.err(), bad.err(), wrong.err())) {
            assertTrue(!e.contains("Exception") && !e.contains("\tat "), e);
        }
    }

    @Test
    void aServerThatDiesFailsRequestsInsteadOfHanging() throws Exception {
        assumeTrue(QEMU_NBD, "skipped: qemu-nbd not installed");
        Path sock = dir.resolve("d.sock");
        Process server = server("qemu-nbd", "-f", "raw", "-t", "-x", "disk0", "-k", sock.toString(),
                image("d.img", 1 << 20).toString());
        awaitSocket(sock);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of("nbd+unix:///disk0?socket=" + sock))) {
            assertEquals(4096, dev.read(0, ByteBuffer.allocateDirect(4096)));
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
            int r = dev.read(0, ByteBuffer.allocateDirect(4096));
            assertEquals(-Errno.EIO, r);
            assertEquals(-Errno.EIO, dev.write(0, ByteBuffer.allocateDirect(512)));
            assertEquals(-Errno.EIO, dev.flush());
        }
    }

    /** A fake server that negotiates correctly and then answers with something the protocol forbids. */
    @Test
    void hostileRepliesEndTheConnectionWithEioNeverAHang() throws Exception {
        for (String lie : List.of("bad-magic", "unknown-cookie", "chunk-outside-request", "short-read")) {
            Path sock = dir.resolve(lie + ".sock");
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            listener.bind(UnixDomainSocketAddress.of(sock));
            Thread fake = new Thread(() -> fakeServer(listener, lie));
            fake.setDaemon(true);
            fake.start();
            try (BlockDevice dev = BlockDevices.open(DriveOptions.of("nbd+unix:///?socket=" + sock))) {
                assertEquals(1 << 20, dev.size(), lie);
                assertEquals(-Errno.EIO, dev.read(0, ByteBuffer.allocateDirect(4096)), lie);
                assertEquals(-Errno.EIO, dev.read(0, ByteBuffer.allocateDirect(4096)), lie + ": and after it");
            }
            listener.close();
        }
    }

    private static void fakeServer(ServerSocketChannel listener, String lie) {
        try (SocketChannel c = listener.accept()) {
            write(c, ByteBuffer.allocate(18).putLong(0x4e42444d41474943L).putLong(0x49484156454F5054L)
                    .putShort((short) 3).flip());
            read(c, 4);
            boolean structured = lie.equals("chunk-outside-request");
            while (true) {
                ByteBuffer h = read(c, 16);
                int option = h.getInt(8);
                read(c, h.getInt(12));
                if (option == 8) {
                    write(c, optionReply(option, structured ? 1 : 0x80000001, ByteBuffer.allocate(0)));
                } else if (option == 7) {
                    write(c, optionReply(option, 3, ByteBuffer.allocate(12).putShort((short) 0).putLong(1 << 20)
                            .putShort((short) 0x0005).flip()));
                    write(c, optionReply(option, 1, ByteBuffer.allocate(0)));
                    break;
                } else {
                    write(c, optionReply(option, 0x80000001, ByteBuffer.allocate(0))); // ERR_UNSUP
                }
            }
            ByteBuffer req = read(c, 28);
            long cookie = req.getLong(8);
            switch (lie) {
                case "bad-magic" -> write(c, ByteBuffer.allocate(16).putInt(0x12345678).putInt(0).putLong(cookie).flip());
                case "unknown-cookie" -> write(c, ByteBuffer.allocate(16).putInt(0x67446698).putInt(0)
                        .putLong(cookie + 99).flip());
                case "chunk-outside-request" -> write(c, ByteBuffer.allocate(20 + 8 + 16).putInt(0x668e33ef)
                        .putShort((short) 1).putShort((short) 1).putLong(cookie).putInt(8 + 16)
                        .putLong(1 << 19).put(new byte[16]).flip());
                default -> {
                    write(c, ByteBuffer.allocate(16 + 100).putInt(0x67446698).putInt(0).putLong(cookie)
                            .put(new byte[100]).flip());
                    return; // hang up 3996 bytes short
                }
            }
            c.read(ByteBuffer.allocate(64));
        } catch (IOException e) {
            // The client hung up on our lie: that is what the test wants.
        }
    }

    private static ByteBuffer optionReply(int option, int type, ByteBuffer data) {
        return ByteBuffer.allocate(20 + data.remaining()).putLong(0x0003e889045565a9L).putInt(option).putInt(type)
                .putInt(data.remaining()).put(data).flip();
    }

    private static ByteBuffer read(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("eof");
            }
        }
        return b.flip();
    }

    private static void write(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    // -----------------------------------------------------------------------------------------

    record IoRun(int exit, String out, String err) {
    }

    String lastErr = "";

    /** ioemu-io in-process: [--cache MODE] URI then one -c per command. */
    IoRun io(String... args) {
        List<String> a = new ArrayList<>();
        int i = 0;
        if (args[0].equals("--cache")) {
            a.add("--cache");
            a.add(args[1]);
            i = 2;
        }
        String uri = args[i++];
        for (; i < args.length; i++) {
            a.add("-c");
            a.add(args[i]);
        }
        a.add(uri);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = IoTool.run(a.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        lastErr = err.toString(StandardCharsets.UTF_8);
        return new IoRun(exit, out.toString(StandardCharsets.UTF_8), lastErr);
    }

    /** nbdkit log lines as "Write offset=… count=… fua=…" / "Flush", in order. */
    static List<String> commands(Path log) throws IOException {
        List<String> c = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            int at = line.indexOf("connection=");
            if (at < 0 || line.contains("...") && line.contains("return=")) {
                continue;
            }
            String rest = line.substring(line.indexOf(' ', at) + 1).replace(" ...", "");
            String[] f = rest.split(" ");
            if (f[0].equals("Write") || f[0].equals("Flush")) {
                List<String> keep = new ArrayList<>(List.of(f[0]));
                for (String field : f) {
                    if (field.startsWith("offset=") || field.startsWith("count=") || field.startsWith("fua=")) {
                        keep.add(field);
                    }
                }
                c.add(String.join(" ", keep));
            }
        }
        return c;
    }

    Path image(String name, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    Process server(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server-" + servers.size() + ".log").toFile()).start();
        servers.add(p);
        return p;
    }

    static void awaitSocket(Path sock) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(sock) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(sock), "the server's socket " + sock + " appeared");
    }

    static void awaitPort(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        throw new AssertionError("nothing listens on port " + port);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
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
