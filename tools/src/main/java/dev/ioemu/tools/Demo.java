package dev.ioemu.tools;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.GuestDriverException;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.tools.qtest.QtestClient;
import dev.ioemu.tools.qtest.QtestTransport;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The main job: attach a disk image to the emulator and drive it the way a guest OS driver would
 * — PCI enumeration, IDENTIFY by PIO, WRITE DMA through a PRD table, FLUSH CACHE, READ DMA back,
 * the write-cache toggle — over the qtest protocol with the guest-driver kit ({@link AtaDriver} on
 * a {@link QtestTransport}), then show what happened: registers and IRQs as the guest saw them,
 * the bytes in the image file, and a summary of the trace log.
 *
 * <p>Usage: {@code Demo EMULATOR_LAUNCHER WORK_DIR [CACHE_MODE]}.
 */
public final class Demo {
    private static final int BMDMA = PciConfigAccess.IO_WINDOW_BASE;
    private static final long PRD_TABLE = 0x100000;
    private static final long WRITE_BUF = 0x200000;
    private static final long READ_BUF = 0x300000;
    private static final int LBA = 2048;
    private static final int SECTORS = 64;             // 32 KiB, one PRD entry
    private static final int UNKNOWN_OPCODE = 0xFF;

    private final QtestClient qt;
    private final QtestTransport transport;
    private final AtaDriver ata;
    private final PrintStream out;

    private Demo(QtestClient qt, PrintStream out) {
        this.qt = qt;
        this.transport = new QtestTransport(qt);
        this.ata = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, BMDMA);
        this.out = out;
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the demo; returns 0, or 1 (with a one-line reason on {@code err}) if it could not finish. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2) {
            err.println("usage: Demo EMULATOR_LAUNCHER WORK_DIR [CACHE_MODE]");
            return 1;
        }
        try {
            demo(Path.of(args[0]), Path.of(args[1]), args.length > 2 ? args[2] : "fadvise", out);
            return 0;
        } catch (IOException | UncheckedIOException | GuestDriverException e) {
            err.println("demo: " + e.getMessage());
            return 1;
        }
    }

    private static void demo(Path launcher, Path dir, String cache, PrintStream out) throws IOException {
        Files.createDirectories(dir);
        Path image = dir.resolve("demo.img");
        Path trace = dir.resolve("trace.log");
        Files.deleteIfExists(trace);
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(0);
            f.setLength(64L << 20);
        }
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(),
                "-machine", "pc", "-accel", "qtest", "-nodefaults", "-display", "none",
                "-qtest", "stdio", "-qtest-log", "none",
                "-drive", "file=" + image + ",if=ide,index=0,format=raw,cache=" + cache,
                "-trace", "ide_*", "-trace", "bmdma_*", "-trace", "blk_*", "-D", trace.toString()));
        out.println("== ioemu demo: a 64 MiB raw image on the primary IDE master, cache=" + cache);
        out.println("   " + String.join(" ", cmd));
        int status;
        try (QtestClient qt = QtestClient.start("ioemu", cmd, ProcessBuilder.Redirect.INHERIT)) {
            new Demo(qt, out).run();
            status = qt.terminate();
        }
        out.println("\n== emulator ended by SIGTERM with exit status " + status);
        verifyImage(image, out);
        summariseTrace(trace, out);
        out.println("\nTrace log: " + trace + "   image: " + image);
    }

    private void run() throws IOException {
        String hello = qt.command("endianness");
        step("handshake: endianness -> " + hello);
        qt.irqInterceptIn("ioapic");

        step("PCI bus 0 (config mechanism #1 at 0xCF8/0xCFC)");
        PciConfigAccess pci = new PciConfigAccess(transport);
        for (int devfn : new int[] {0x00, 0x08, AtaDriver.PIIX_IDE_DEVFN}) {
            int id = pci.id(devfn);
            out.printf("   %02x.%d  %04x:%04x  class %06x%n", devfn >> 3, devfn & 7, id & 0xFFFF, id >>> 16,
                    pci.classCode(devfn));
        }
        int size = AtaDriver.setUpController(pci, BMDMA);
        out.printf("   IDE BAR4 sized %d bytes, mapped at 0x%04x; I/O, memory and bus master enabled%n", size, BMDMA);

        step("IDENTIFY DEVICE (0xEC) by PIO");
        ata.select(0);
        ata.command(Ata.CMD_IDENTIFY_DEVICE);
        ata.awaitNotBusy();
        boolean irq = ata.irq();
        int st = ata.status();
        out.printf("   IRQ14 %s; status 0x%02x (DRDY|DSC|DRQ expected 0x58); reading it lowers IRQ14: %s%n",
                irq ? "raised" : "low", st, ata.irq() ? "no" : "yes");
        int[] id = ata.readWords(Ata.IDENTIFY_WORDS);
        long lba28 = (id[Ata.IDENTIFY_LBA28_SECTORS] & 0xFFFFL) | ((long) id[Ata.IDENTIFY_LBA28_SECTORS + 1] << 16);
        out.printf("   model '%s' serial '%s' firmware '%s'%n", ataString(id, Ata.IDENTIFY_MODEL, 20),
                ataString(id, Ata.IDENTIFY_SERIAL, 10), ataString(id, Ata.IDENTIFY_FIRMWARE, 4));
        out.printf("   CHS %d/%d/%d, %d sectors (%d MiB)%n", id[1], id[3], id[6], lba28, lba28 / 2048);
        printWriteCache(id);

        byte[] data = new byte[SECTORS * Ata.SECTOR_SIZE];
        byte[] msg = "Written by the ioemu demo through PIIX3 bus-master DMA. ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < data.length; i++) {
            data[i] = msg[i % msg.length];
        }
        step(String.format("WRITE DMA (0xCA): %d sectors at LBA %d from guest RAM 0x%x", SECTORS, LBA, WRITE_BUF));
        transport.writeMemory(WRITE_BUF, data);
        DmaCompletion c = dma(Ata.CMD_WRITE_DMA, WRITE_BUF);
        out.printf("   BMDMA status 0x%02x (Interrupt, engine idle), ATA status 0x%02x%n", c.bmStatus(), c.ataStatus());

        step("FLUSH CACHE (0xE7): BSY until the block layer says the data is durable");
        st = ata.flushCache();
        out.printf("   status 0x%02x, error 0x%02x -> flush %s%n", st, ata.error(),
                (st & Ata.STATUS_ERR) == 0 ? "acknowledged" : "FAILED");

        step(String.format("READ DMA (0xC8) of the same sectors into guest RAM 0x%x", READ_BUF));
        c = dma(Ata.CMD_READ_DMA, READ_BUF);
        byte[] back = transport.readMemory(READ_BUF, data.length);
        out.printf("   BMDMA status 0x%02x; %s%n", c.bmStatus(), Arrays.equals(back, data)
                ? "data read back equals data written" : "MISMATCH between written and read data");

        step("SET FEATURES 0x82: the guest turns the write cache off (every write now durable on completion)");
        st = ata.setFeatures(Ata.FEATURE_DISABLE_WRITE_CACHE);
        out.printf("   status 0x%02x; IDENTIFY again:%n", st);
        printWriteCache(ata.identify(Ata.CMD_IDENTIFY_DEVICE));

        step("A command the disk does not know (0xFF) is aborted, as QEMU does");
        st = ata.nonDataCommand(UNKNOWN_OPCODE);
        out.printf("   status 0x%02x error 0x%02x (ERR + ABRT expected 0x41/0x04)%n", st, ata.error());
        out.println("   IRQ lines seen by the guest: " + qt.irqChanges() + " changes");
    }

    /** IDENTIFY word 85, whose bit 5 says whether the volatile write cache is on. */
    private void printWriteCache(int[] identify) {
        int w85 = identify[Ata.IDENTIFY_COMMAND_SET_ENABLED];
        out.printf("   IDENTIFY word 85 = 0x%04x (write cache %s)%n", w85,
                (w85 & Ata.IDENTIFY_WRITE_CACHE_ENABLED) != 0 ? "on" : "off");
    }

    /** One bus-master DMA command of SECTORS sectors at LBA through a single-entry PRD table. */
    private DmaCompletion dma(int command, long buffer) {
        ata.writePrdTable(PRD_TABLE, List.of(new PrdDescriptor(buffer, SECTORS * Ata.SECTOR_SIZE, true)));
        return ata.dma(DmaRequest.of(command, LBA, SECTORS, PRD_TABLE));
    }

    private static String ataString(int[] words, int first, int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = first; i < first + count; i++) {
            sb.append((char) (words[i] >> 8)).append((char) (words[i] & 0xFF));
        }
        return sb.toString().trim();
    }

    private void step(String what) {
        out.println("\n-- " + what);
    }

    private static void verifyImage(Path image, PrintStream out) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] sector = new byte[512];
            f.seek((long) LBA * 512);
            f.readFully(sector);
            String text = new String(sector, 0, 56, StandardCharsets.US_ASCII);
            out.printf("== image file at byte %d: \"%s\"%n", (long) LBA * 512, text);
        }
    }

    private static void summariseTrace(Path trace, PrintStream out) throws IOException {
        if (!Files.exists(trace)) {
            out.println("== no trace log written");
            return;
        }
        Map<String, Integer> counts = new TreeMap<>();
        List<String> flushes = new ArrayList<>();
        for (String line : Files.readAllLines(trace)) {
            int colon = line.indexOf(':');
            int space = line.indexOf(' ', colon);
            if (colon < 0 || space < 0) {
                continue;
            }
            String name = line.substring(colon + 1, space);
            counts.merge(name, 1, Integer::sum);
            if (name.equals("blk_flush")) {
                flushes.add(line.substring(space + 1));
            }
        }
        out.println("== trace summary (" + trace.getFileName() + "): events by name");
        counts.forEach((name, n) -> out.printf("   %-22s %6d%n", name, n));
        flushes.forEach(f -> out.println("   flush: " + f));
    }
}
