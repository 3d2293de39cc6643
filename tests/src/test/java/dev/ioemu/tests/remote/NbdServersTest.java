package dev.ioemu.tests.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.tools.ImgTool;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every NBD server of shared/spec/nbd.md §3.1 — qemu-nbd and qemu-storage-daemon (Unix socket and
 * TCP), nbdkit (memory plugin; file plugin over a Unix socket and TCP), nbd-server 3.24 (TCP,
 * simple replies only) — started here, and three clients of ioemu's NBD backend against each:
 * the block layer (byte-exact round trip, flush, trim), a guest driver on the IDE model over
 * qtest (PIO and DMA writes, FLUSH CACHE, reads back), and a boot sector on the software CPU that
 * writes and reads through INT 13h. File-backed exports are then read straight from the file.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdServersTest {
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

    @ParameterizedTest
    @EnumSource(NbdServers.Kind.class)
    void blockLayerRoundTripsFlushesAndTrims(NbdServers.Kind kind) throws Exception {
        NbdServers.Export e = servers.start(kind);
        byte[] data = pattern(70000, 11);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + e.uri() + ",discard=unmap"))) {
            assertEquals(NbdServers.SIZE, dev.size(), kind + ": export size (nbd-server's comes from GO)");
            assertEquals(data.length, dev.write(1000, ByteBuffer.wrap(data)), kind + " unaligned write");
            byte[] trimmed = pattern(1 << 20, 5);
            assertEquals(trimmed.length, dev.write(4 << 20, ByteBuffer.wrap(trimmed)));
            assertEquals(0, dev.flush(), kind + " flush");
            ByteBuffer back = ByteBuffer.allocate(data.length);
            assertEquals(data.length, dev.read(1000, back));
            assertArrayEquals(data, back.array(), kind + ": read back");
            assertEquals(0, dev.discard(4 << 20, 1 << 20), kind + " trim");
            assertEquals(0, dev.flush());
            ByteBuffer afterTrim = ByteBuffer.allocate(1 << 20);
            assertEquals(1 << 20, dev.read(4 << 20, afterTrim));
            assertArrayEquals(new byte[1 << 20], afterTrim.array(), kind + ": a trimmed range reads as zeros");
        }
        if (e.file() != null) {
            byte[] file = Files.readAllBytes(e.file());
            assertArrayEquals(data, Arrays.copyOfRange(file, 1000, 1000 + data.length), kind + ": bytes in the file");
            assertEquals(0, file[999]);
            assertEquals(0, file[1000 + data.length]);
        }
    }

    /** Each server once (nbdkit's file plugin over a Unix socket; its TCP transport is the block-layer case's). */
    @ParameterizedTest
    @EnumSource(value = NbdServers.Kind.class, mode = EnumSource.Mode.EXCLUDE, names = "NBDKIT_FILE_TCP")
    void guestIdePioAndDmaRoundTrip(NbdServers.Kind kind) throws Exception {
        NbdServers.Export e = servers.start(kind);
        byte[] pio = pattern(4 * 512, 3);
        byte[] dma = pattern(16 * 512, 7);
        try (QtestClient qts = QtestClient.start("ioemu", List.of(NbdBackendTest.repo().resolve("emulator/bin/ioemu")
                        .toString(), "-machine", "pc", "-display", "none", "-drive", "file=" + e.uri()
                        + ",format=raw,if=ide,cache=writeback", "-qtest", "stdio"), dir.resolve("ioemu.err"))) {
            qts.irqInterceptIn("ioapic");
            QtestTransport transport = new QtestTransport(qts);
            AtaDriver ata = controller(transport);
            ata.writeSectorsPio(40, pio);
            long table = 0x100000;
            long buffer = 0x110000;
            transport.writeMemory(buffer, dma);
            ata.writePrdTable(table, List.of(new PrdDescriptor(buffer, dma.length, true)));
            DmaCompletion w = ata.dma(DmaRequest.of(Ata.CMD_WRITE_DMA, 200, 16, table));
            assertEquals(0, w.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), kind + " WRITE DMA: " + w);
            assertEquals(0, ata.flushCache() & Ata.STATUS_ERR, kind + " FLUSH CACHE");
            assertArrayEquals(pio, ata.readSectorsPio(40, 4), kind + ": READ SECTORS after WRITE SECTORS");
            transport.writeMemory(buffer, new byte[dma.length]);
            DmaCompletion r = ata.dma(DmaRequest.of(Ata.CMD_READ_DMA, 200, 16, table));
            assertEquals(0, r.ataStatus() & (Ata.STATUS_ERR | Ata.STATUS_BSY), kind + " READ DMA: " + r);
            assertArrayEquals(dma, transport.readMemory(buffer, dma.length), kind + ": READ DMA after WRITE DMA");
        }
        assertEquals(List.of(pio, dma).stream().map(Arrays::toString).toList(),
                List.of(exported(e, 40 * 512, pio.length), exported(e, 200 * 512, dma.length)).stream()
                        .map(Arrays::toString).toList(), kind + ": the guest's sectors in the export");
    }

    @ParameterizedTest
    @EnumSource(value = NbdServers.Kind.class, mode = EnumSource.Mode.EXCLUDE, names = "NBDKIT_FILE_TCP")
    void bootSectorWritesAndReadsThroughInt13(NbdServers.Kind kind) throws Exception {
        assumeTrue(NbdBackendTest.works("nasm", "-v"), "skipped: nasm not installed");
        NbdServers.Export e = servers.start(kind);
        Path bin = demoDisk(dir);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(e.uri()))) {
            byte[] sector = Files.readAllBytes(bin);
            assertEquals(sector.length, dev.write(0, ByteBuffer.wrap(sector)));
            assertEquals(0, dev.flush());
        }
        Path console = dir.resolve("debugcon.txt");
        int status = bootSoft(e.uri(), console, dir.resolve("boot.err"));
        assertEquals(1, status, kind + ": isa-debug-exit status (1 = the guest's checks passed); console: "
                + Files.readString(console));
        for (int lba = 16; lba < 20; lba++) {
            String text = new String(exported(e, lba * 512L, 512), StandardCharsets.US_ASCII);
            String expected = (lba == 16 ? "IOEMU-DEMO CHS  sector " : "IOEMU-DEMO EDD  sector ") + lba;
            assertTrue(text.startsWith(expected), kind + ": LBA " + lba + " holds '" + text.substring(0, 32) + "'");
        }
    }

    /** ioemu-img map and convert over NBD block status, diffed against qemu-img on the same export. */
    @ParameterizedTest
    @EnumSource(value = NbdServers.Kind.class, names = {"QEMU_NBD_UNIX", "QSD_TCP", "NBDKIT_FILE_UNIX",
            "NBD_SERVER_TCP"})
    void mapAndSparseConvertMatchQemuImg(NbdServers.Kind kind) throws Exception {
        assumeTrue(NbdBackendTest.works("qemu-img", "--version"), "skipped: qemu-img not installed");
        Path image = dir.resolve("sparse.img");
        byte[] a = pattern(8192, 1);
        byte[] b = pattern(4096, 2);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(NbdServers.SIZE);
            f.seek(1 << 20);
            f.write(a);
            f.seek(5 << 20);
            f.write(b);
        }
        NbdServers.Export e = servers.start(kind, image, List.of());
        String plain = e.uri().replaceAll("[?&]x-open-timeout=20$", "");
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        assertEquals(0, ImgTool.run(new String[] {"info", e.uri()}, new PrintStream(first), System.err),
                "the export is up");
        for (String format : List.of("json", "human")) {
            String ours = img("map", "--output=" + format, plain);
            String theirs = run(List.of("qemu-img", "map", "--output=" + format, "-f", "raw", plain));
            assertEquals(theirs, ours, kind + ": ioemu-img map --output=" + format + " vs qemu-img");
        }
        Path copy = dir.resolve("copy.img");
        img("convert", "-O", "raw", plain, copy.toString());
        assertArrayEquals(Files.readAllBytes(image), Files.readAllBytes(copy), kind + ": convert copied every byte");
        long allocated = Long.parseLong(run(List.of("stat", "-c", "%b", copy.toString())).trim()) * 512;
        if (kind != NbdServers.Kind.NBD_SERVER_TCP) {
            assertTrue(allocated < (1 << 20), kind + ": the copy is sparse (" + allocated + " bytes allocated)");
        }
    }

    // -----------------------------------------------------------------------------------------

    static String img(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = ImgTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, "ioemu-img " + String.join(" ", args) + ": " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + out);
        return out;
    }

    static AtaDriver controller(QtestTransport transport) {
        PciConfigAccess pci = new PciConfigAccess(transport);
        AtaDriver.setUpController(pci, PciConfigAccess.IO_WINDOW_BASE);
        pci.setCommand(AtaDriver.PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                | PciConfigSpace.COMMAND_MASTER);
        return new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
    }

    /** Assembles tests/guest/demodisk.asm (a boot sector that writes LBA 16-19 through INT 13h). */
    static Path demoDisk(Path dir) throws IOException, InterruptedException {
        Path bin = dir.resolve("demodisk.bin");
        Process p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(),
                NbdBackendTest.repo().resolve("tests/guest/demodisk.asm").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "nasm: " + out);
        return bin;
    }

    /** Boots {@code drive} on the software CPU; returns ioemu's exit status (isa-debug-exit). */
    static int bootSoft(String drive, Path console, Path err, String... extra) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(NbdBackendTest.repo().resolve("emulator/bin/ioemu")
                .toString(), "-machine", "pc", "-accel", "soft", "-nodefaults", "-display", "none", "-drive",
                "file=" + drive + ",if=ide,format=raw", "-debugcon", "file:" + console, "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the guest did not finish within 90 s: " + Files.readString(err));
        }
        return p.exitValue();
    }

    /** Bytes of the export: from its file, or through a fresh NBD connection for the memory plugin. */
    static byte[] exported(NbdServers.Export e, long offset, int length) throws Exception {
        if (e.file() != null) {
            return Arrays.copyOfRange(Files.readAllBytes(e.file()), (int) offset, (int) offset + length);
        }
        try (BlockDevice dev = BlockDevices.open(DriveOptions.of(e.uri()).withReadOnly(true))) {
            ByteBuffer b = ByteBuffer.allocate(length);
            assertEquals(length, dev.read(offset, b));
            return b.array();
        }
    }

    static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed + (i >> 9));
        }
        return b;
    }
}
