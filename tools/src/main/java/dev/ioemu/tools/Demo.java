package dev.ioemu.tools;

import java.io.IOException;
import java.io.RandomAccessFile;
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
 * the write-cache toggle — over the qtest protocol, then show what happened: registers and IRQs
 * as the guest saw them, the bytes in the image file, and a summary of the trace log.
 *
 * <p>Usage: {@code Demo EMULATOR_LAUNCHER WORK_DIR [CACHE_MODE]}.
 */
public final class Demo {
    private static final int IDE0 = 0x1F0;
    private static final int IDE0_CTL = 0x3F6;
    private static final int BMDMA = 0xC000;
    private static final long PRD_TABLE = 0x100000;
    private static final long WRITE_BUF = 0x200000;
    private static final long READ_BUF = 0x300000;
    private static final int LBA = 2048;
    private static final int SECTORS = 64;             // 32 KiB, one PRD entry

    private final QtestClient qt;

    private Demo(QtestClient qt) {
        this.qt = qt;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Demo EMULATOR_LAUNCHER WORK_DIR [CACHE_MODE]");
            System.exit(1);
        }
        Path launcher = Path.of(args[0]);
        Path dir = Path.of(args[1]);
        String cache = args.length > 2 ? args[2] : "fadvise";
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
        System.out.println("== ioemu demo: a 64 MiB raw image on the primary IDE master, cache=" + cache);
        System.out.println("   " + String.join(" ", cmd));
        int status;
        try (QtestClient qt = QtestClient.start(cmd)) {
            new Demo(qt).run();
            status = qt.terminate();
        }
        System.out.println("\n== emulator ended by SIGTERM with exit status " + status);
        verifyImage(image);
        summariseTrace(trace);
        System.out.println("\nTrace log: " + trace + "   image: " + image);
    }

    private void run() throws IOException {
        String hello = qt.command("endianness");
        step("handshake: endianness -> " + hello);
        qt.command("irq_intercept_in ioapic");

        step("PCI bus 0 (config mechanism #1 at 0xCF8/0xCFC)");
        for (int devfn : new int[] {0x00, 0x08, 0x09}) {
            int id = pciRead(devfn, 0, 4);
            int cls = pciRead(devfn, 8, 4);
            System.out.printf("   %02x.%d  %04x:%04x  class %06x%n", devfn >> 3, devfn & 7,
                    id & 0xFFFF, id >>> 16, cls >>> 8);
        }
        pciWrite(0x09, 0x20, 0xFFFFFFFF);
        int size = ~(pciRead(0x09, 0x20, 4) & ~3) + 1;
        pciWrite(0x09, 0x20, BMDMA | 1);
        pciWrite(0x09, 0x04, 0x0005);
        System.out.printf("   IDE BAR4 sized %d bytes, mapped at 0x%04x; I/O + bus master enabled%n", size, BMDMA);

        step("IDENTIFY DEVICE (0xEC) by PIO");
        qt.outb(IDE0 + 6, 0xA0);
        qt.outb(IDE0 + 7, 0xEC);
        awaitAltStatusNotBusy();
        boolean irq = qt.irq(14);
        int st = qt.inb(IDE0 + 7);
        System.out.printf("   IRQ14 %s; status 0x%02x (DRDY|DSC|DRQ expected 0x58); reading it lowers IRQ14: %s%n",
                irq ? "raised" : "low", st, qt.irq(14) ? "no" : "yes");
        int[] id = new int[256];
        for (int i = 0; i < 256; i++) {
            id[i] = qt.inw(IDE0);
        }
        long lba28 = (id[60] & 0xFFFFL) | ((long) id[61] << 16);
        System.out.printf("   model '%s' serial '%s' firmware '%s'%n", ataString(id, 27, 20), ataString(id, 10, 10),
                ataString(id, 23, 4));
        System.out.printf("   CHS %d/%d/%d, %d sectors (%d MiB), write cache %s (word 85 bit 5)%n",
                id[1], id[3], id[6], lba28, lba28 / 2048, (id[85] & 0x20) != 0 ? "on" : "off");

        byte[] data = new byte[SECTORS * 512];
        byte[] msg = "Written by the ioemu demo through PIIX3 bus-master DMA. ".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < data.length; i++) {
            data[i] = msg[i % msg.length];
        }
        step(String.format("WRITE DMA (0xCA): %d sectors at LBA %d from guest RAM 0x%x", SECTORS, LBA, WRITE_BUF));
        qt.memwrite(WRITE_BUF, data);
        int bm = dma(0xCA, WRITE_BUF);
        System.out.printf("   BMDMA status 0x%02x (Interrupt, engine idle), ATA status 0x%02x%n", bm, qt.inb(IDE0 + 7));

        step("FLUSH CACHE (0xE7): BSY until the block layer says the data is durable");
        qt.outb(IDE0 + 7, 0xE7);
        st = awaitNotBusy();
        System.out.printf("   status 0x%02x, error 0x%02x -> flush %s%n", st, qt.inb(IDE0 + 1),
                (st & 0x01) == 0 ? "acknowledged" : "FAILED");

        step(String.format("READ DMA (0xC8) of the same sectors into guest RAM 0x%x", READ_BUF));
        bm = dma(0xC8, READ_BUF);
        byte[] back = qt.memread(READ_BUF, data.length);
        System.out.printf("   BMDMA status 0x%02x; %s%n", bm, Arrays.equals(back, data)
                ? "data read back equals data written" : "MISMATCH between written and read data");

        step("SET FEATURES 0x82: the guest turns the write cache off (every write now durable on completion)");
        qt.outb(IDE0 + 1, 0x82);
        qt.outb(IDE0 + 7, 0xEF);
        st = awaitNotBusy();
        qt.outb(IDE0 + 7, 0xEC);
        awaitNotBusy();
        int w85 = 0;
        for (int i = 0; i < 256; i++) {
            int w = qt.inw(IDE0);
            if (i == 85) {
                w85 = w;
            }
        }
        System.out.printf("   status 0x%02x; IDENTIFY word 85 = 0x%04x (write cache %s)%n", st, w85,
                (w85 & 0x20) != 0 ? "on" : "off");

        step("A command the disk does not know (0xFF) is aborted, as QEMU does");
        qt.outb(IDE0 + 7, 0xFF);
        st = awaitNotBusy();
        System.out.printf("   status 0x%02x error 0x%02x (ERR + ABRT expected 0x41/0x04)%n", st, qt.inb(IDE0 + 1));
        System.out.println("   IRQ lines seen by the guest: " + qt.irqEvents().size() + " changes");
    }

    /** One bus-master DMA command of SECTORS sectors at LBA with a single-entry PRD table. */
    private int dma(int command, long buffer) throws IOException {
        qt.outb(IDE0 + 6, 0x40);
        qt.outb(BMDMA, 0x00);
        qt.outb(BMDMA + 2, 0x04);
        qt.writel(PRD_TABLE, (int) buffer);
        qt.writel(PRD_TABLE + 4, 0x80000000 | (SECTORS * 512));
        qt.outl(BMDMA + 4, (int) PRD_TABLE);
        qt.outb(IDE0 + 2, SECTORS);
        qt.outb(IDE0 + 3, LBA & 0xFF);
        qt.outb(IDE0 + 4, (LBA >> 8) & 0xFF);
        qt.outb(IDE0 + 5, (LBA >> 16) & 0xFF);
        qt.outb(IDE0 + 7, command);
        qt.outb(BMDMA, command == 0xC8 ? 0x09 : 0x01);
        int status;
        long deadline = System.nanoTime() + 10_000_000_000L;
        do {
            status = qt.inb(BMDMA + 2);
        } while ((status & 0x05) == 0x01 && System.nanoTime() < deadline);
        qt.outb(BMDMA, 0x00);
        return status;
    }

    /** Polls Alternate Status until BSY clears, then reads Status (which acknowledges the IRQ). */
    private int awaitNotBusy() throws IOException {
        awaitAltStatusNotBusy();
        return qt.inb(IDE0 + 7);
    }

    /** Polls Alternate Status, which leaves the IRQ line alone, until BSY clears. */
    private int awaitAltStatusNotBusy() throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        int st;
        do {
            st = qt.inb(IDE0_CTL);
        } while ((st & 0x80) != 0 && System.nanoTime() < deadline);
        return st;
    }

    private int pciRead(int devfn, int offset, int size) throws IOException {
        qt.outl(0xCF8, 0x80000000 | devfn << 8 | offset);
        return size == 4 ? qt.inl(0xCFC) : qt.inw(0xCFC);
    }

    private void pciWrite(int devfn, int offset, int value) throws IOException {
        qt.outl(0xCF8, 0x80000000 | devfn << 8 | offset);
        qt.outl(0xCFC, value);
    }

    private static String ataString(int[] words, int first, int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = first; i < first + count; i++) {
            sb.append((char) (words[i] >> 8)).append((char) (words[i] & 0xFF));
        }
        return sb.toString().trim();
    }

    private static void step(String what) {
        System.out.println("\n-- " + what);
    }

    private static void verifyImage(Path image) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "r")) {
            byte[] sector = new byte[512];
            f.seek((long) LBA * 512);
            f.readFully(sector);
            String text = new String(sector, 0, 56, StandardCharsets.US_ASCII);
            System.out.printf("== image file at byte %d: \"%s\"%n", (long) LBA * 512, text);
        }
    }

    private static void summariseTrace(Path trace) throws IOException {
        if (!Files.exists(trace)) {
            System.out.println("== no trace log written");
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
        System.out.println("== trace summary (" + trace.getFileName() + "): events by name");
        counts.forEach((name, n) -> System.out.printf("   %-22s %6d%n", name, n));
        flushes.forEach(f -> System.out.println("   flush: " + f));
    }
}
