package dev.ioemu.tests.peer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Named, scripted IDE sequences: the cases of QEMU's tests/qtest/ide-test.c (shared/spec/qtest.md
 * §7) as register-level scripts, plus a few the random generator reaches only rarely. Each runs
 * against QEMU and ioemu with its own drive configuration; a failure of the random suite that
 * matters is added here as a named case.
 */
public final class IdeScenarios {
    /** A scenario: its name, the machine arguments for a peer's copy of the image, and the script. */
    public record Scenario(String name, DifferentialRun.Args args, Script script) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<String> IDENTITY = List.of("-global", "ide-hd.serial=testdisk",
            "-global", "ide-hd.ver=version", "-global", "ide-hd.model=IOEMU DIFF DISK");

    private IdeScenarios() {
    }

    static List<String> disk(Path image, String extra) {
        List<String> a = new ArrayList<>(List.of("-drive", "file=" + image + ",if=ide,format=raw,cache=writeback" + extra));
        a.addAll(IDENTITY);
        return a;
    }

    /** A blank 1 MiB image next to {@code image}, so each peer's second disk is its own file. */
    static Path secondDisk(Path image) {
        Path second = image.resolveSibling(image.getFileName() + ".second");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(second.toFile(), "rw")) {
            f.setLength(1 << 20);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return second;
    }

    public static List<Scenario> all() {
        List<Scenario> out = new ArrayList<>();
        out.add(identify());
        out.add(diagnostic());
        out.add(bmdmaSimpleReadWrite());
        out.add(bmdmaTrim());
        out.add(bmdmaVariousPrdts());
        out.add(bmdmaNoBusMaster());
        out.add(flush());
        out.add(flushNoDevice());
        out.add(flushEmptyCdrom());
        out.add(lba48AndHob());
        out.add(readMultiple());
        out.add(softResetSignatures());
        out.add(cdromPio());
        out.add(readNativeMaxChs());
        out.add(piix4PmFunction());
        out.add(pioWriteStatus());
        return out;
    }

    private static Scenario scenario(String name, DifferentialRun.Args args, java.util.function.Consumer<AtaScript> body) {
        Script s = new Script("IdeScenarios." + name);
        AtaScript ata = new AtaScript(s);
        ata.setUpPci();
        body.accept(ata);
        return new Scenario(name, args, s);
    }

    /** ide-test identify: DRDY+DRQ before every word, DRDY without DRQ after. */
    static Scenario identify() {
        return scenario("identify", image -> disk(image, ""), ata -> {
            ata.send("outb 0x1f6 0xa0");
            ata.command(0xec);
            for (int w = 0; w < 256; w++) {
                ata.send("inb 0x3f6");
                ata.send("inw 0x1f0");   // both peers get the same -global model/serial/ver
            }
            ata.status();
        });
    }

    /** ide-test diagnostic: two disks, select unit 1, EXECUTE DEVICE DIAGNOSTIC, DEV reads 0. */
    static Scenario diagnostic() {
        return scenario("diagnostic", image -> {
            List<String> a = new ArrayList<>(disk(image, ",index=0"));
            a.addAll(List.of("-drive", "file=" + secondDisk(image) + ",if=ide,format=raw,index=1"));
            return a;
        }, ata -> {
            ata.send("outb 0x1f6 0xb0");
            ata.send("inb 0x1f6");
            ata.command(0x90);
            ata.send("inb 0x1f6");
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
            ata.send("outb 0x1f6 0xb0");
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
        });
    }

    /** ide-test bmdma/simple_rw: WRITE DMA 0x55 to sector 0, 0xAA to sector 1, read both back. */
    static Scenario bmdmaSimpleReadWrite() {
        return scenario("bmdma_simple_rw", image -> disk(image, ""), ata -> {
            for (int sector = 0; sector < 2; sector++) {
                ata.memset(AtaScript.BUF, 512, sector == 0 ? 0x55 : 0xaa);
                ata.dmaRequest(0xca, false, sector, 1, new long[][] {{AtaScript.BUF, 512, 1}}, false, false);
            }
            for (int sector = 0; sector < 2; sector++) {
                ata.memset(AtaScript.BUF, 512, 0);
                ata.dmaRequest(0xc8, false, sector, 1, new long[][] {{AtaScript.BUF, 512, 1}}, true, false);
                ata.b64read(AtaScript.BUF, 512);
            }
        });
    }

    /** ide-test bmdma/trim: ranges (0,2),(6,8) succeed; (10,1) + (last sector, 2) abort. */
    static Scenario bmdmaTrim() {
        return scenario("bmdma_trim", image -> disk(image, ""), ata -> {
            long last = IdeSequenceGenerator.SECTORS - 1;
            for (long[][] ranges : new long[][][] {{{0, 2}, {6, 8}}, {{10, 1}, {last, 2}}}) {
                StringBuilder hex = new StringBuilder("0x");
                for (long[] r : ranges) {
                    long entry = r[0] | r[1] << 48;
                    for (int b = 0; b < 8; b++) {
                        hex.append(String.format("%02x", entry >>> (8 * b) & 0xff));
                    }
                }
                ata.memset(AtaScript.TRIM_BUF, 512, 0);
                ata.send("write " + AtaScript.hex(AtaScript.TRIM_BUF) + " " + AtaScript.hex(ranges.length * 8L) + " " + hex);
                ata.send("outb 0x1f1 0x01");
                ata.dmaRequest(0x06, false, 0, 1, new long[][] {{AtaScript.TRIM_BUF, 512, 1}}, false, false);
            }
        });
    }

    /** ide-test bmdma/various_prdts, thinned: PRD shorter, equal, longer than the transfer, with and without an immediate stop. */
    static Scenario bmdmaVariousPrdts() {
        return scenario("bmdma_various_prdts", image -> disk(image, ""), ata -> {
            for (int sectors = 1; sectors <= 256; sectors *= 4) {
                int size = sectors * 512;
                for (int prd : new int[] {256, size - 256, size, size + 256, 0}) {
                    for (boolean stop : new boolean[] {false, true}) {
                        ata.dmaRequest(0xc8, false, 0, sectors & 0xff,
                                new long[][] {{0, prd & 0xffff, 1}}, true, stop);
                    }
                }
            }
        });
    }

    /** ide-test bmdma/no_busmaster: bus mastering off, 4096 zero PRDs, READ DMA 512 sectors: BM 0x05, no crash. */
    static Scenario bmdmaNoBusMaster() {
        return scenario("bmdma_no_busmaster", image -> disk(image, ""), ata -> {
            ata.busMaster(false);
            ata.memset(AtaScript.PRD, 4096 * 8, 0);
            ata.send("outb 0x1f6 0x40");
            ata.send("outb 0xc000 0x00");
            ata.send("outb 0xc002 0x04");
            ata.send("outl 0xc004 " + AtaScript.hex(AtaScript.PRD));
            ata.address28(AtaScript.CMD, 0, 0);   // 0 = 256 sectors
            ata.start("outb 0x1f7 0xc8");
            ata.start("outb 0xc000 0x09");
            ata.script.add(Step.poll("inb 0xc002", AtaScript.BM_DONE));
            ata.waitNotBusy(AtaScript.CTL);
            ata.send("inb 0xc002");
            ata.status();
            ata.send("outb 0xc000 0x00");
            ata.busMaster(true);
        });
    }

    /** ide-test flush, without the blkdebug breakpoint: dirty sector 1, FLUSH CACHE, status. */
    static Scenario flush() {
        return scenario("flush", image -> disk(image, ""), ata -> {
            ata.memset(AtaScript.BUF, 512, 0x5a);
            ata.dmaRequest(0xca, false, 1, 1, new long[][] {{AtaScript.BUF, 512, 1}}, false, false);
            ata.send("outb 0x1f6 0xa0");
            ata.command(0xe7);
            ata.send("inb 0x1f6");
            ata.status();
            ata.command(0xea);
            ata.status();
        });
    }

    /** ide-test flush/nodev: FLUSH CACHE to unit 0 of a bus without a drive. */
    static Scenario flushNoDevice() {
        return scenario("flush_nodev", image -> List.of(), ata -> {
            ata.send("outb 0x1f6 0xa0");
            ata.command(0xe7);
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
        });
    }

    /** ide-test flush/empty_drive: FLUSH CACHE to an empty CD-ROM. */
    static Scenario flushEmptyCdrom() {
        return scenario("flush_empty_drive", image -> List.of("-device", "ide-cd,bus=ide.0"), ata -> {
            ata.send("outb 0x1f6 0xa0");
            ata.command(0xe7);
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
        });
    }

    /** LBA48 PIO write and read near the end of the disk, then the HOB registers. */
    static Scenario lba48AndHob() {
        return scenario("lba48_hob", image -> disk(image, ""), ata -> {
            long lba = IdeSequenceGenerator.SECTORS - 2;
            ata.address48(AtaScript.CMD, lba, 2);
            ata.command(0x34);
            for (int s = 0; s < 2; s++) {
                ata.status();
                for (int w = 0; w < 256; w++) {
                    String request = "outw 0x1f0 " + AtaScript.hex((w * 257 + s) & 0xffff);
                    if (w == 255) {
                        ata.start(request);
                    } else {
                        ata.send(request);
                    }
                }
                ata.waitNotBusy(AtaScript.CTL);
            }
            ata.address48(AtaScript.CMD, lba, 2);
            ata.command(0x24);
            for (int s = 0; s < 2; s++) {
                if (s > 0) {
                    ata.waitNotBusy(AtaScript.CTL);
                }
                ata.status();
                ata.dataBlock("inl 0x1f0", 128);
            }
            ata.waitNotBusy(AtaScript.CTL);
            ata.status();
            ata.send("outb 0x3f6 0x80");
            for (int r = 1; r <= 5; r++) {
                ata.send("inb " + AtaScript.hex(AtaScript.CMD + r));
            }
            ata.send("outb 0x3f6 0x00");
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
            ata.address48(AtaScript.CMD, lba, 3);   // one sector past the end
            ata.command(0x24);
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
        });
    }

    /** SET MULTIPLE MODE 4, READ MULTIPLE of 10 sectors (blocks of 4, 4, 2), invalid counts abort. */
    static Scenario readMultiple() {
        return scenario("read_multiple", image -> disk(image, ""), ata -> {
            for (int count : new int[] {3, 0, 4}) {
                ata.send("outb 0x1f2 " + AtaScript.hex(count));
                ata.command(0xc6);
                ata.status();
            }
            ata.address28(AtaScript.CMD, 100, 10);
            ata.command(0xc4);
            for (int block : new int[] {4, 4, 2}) {
                ata.waitNotBusy(AtaScript.CTL);
                ata.status();
                ata.dataBlock("inl 0x1f0", 128 * block);
            }
            ata.waitNotBusy(AtaScript.CTL);
            ata.status();
        });
    }

    /**
     * WRITE SECTORS of two sectors, as ide.md §7.2: ST=0x58 and no IRQ for the first block; after
     * each block's last word ST=0xD0 (BSY|DRDY|DSC) while the block is written, then 0x58 + IRQ for
     * the next block and 0x50 + IRQ after the last; the sectors read back. The status right after
     * the last word is polled (alternate status, until BSY clears) instead of read once: QEMU
     * answers 0xD0 or 0x50 there depending on whether its I/O thread finished first (ioemu-trace
     * diff saw 0xD0 from QEMU and 0x50 from ioemu, whose qtest settles the write before the next
     * line), so a single read compares host timing, not the models.
     */
    static Scenario pioWriteStatus() {
        return scenario("pio_write_status", image -> disk(image, ""), ata -> {
            ata.address28(AtaScript.CMD, 20, 2);
            ata.command(0x30);
            ata.send("inb 0x3f6");
            for (int block = 0; block < 2; block++) {
                for (int w = 0; w < 256; w++) {
                    String word = AtaScript.hex((block * 256 + w) * 0x0101 & 0xffff);
                    if (w == 255) {
                        ata.start("outw 0x1f0 " + word);
                    } else {
                        ata.send("outw 0x1f0 " + word);
                    }
                }
                ata.waitNotBusy(AtaScript.CTL);
                ata.status();
            }
            ata.address28(AtaScript.CMD, 20, 2);
            ata.command(0x20);
            for (int block = 0; block < 2; block++) {
                ata.waitNotBusy(AtaScript.CTL);
                ata.status();
                ata.dataBlock("inw 0x1f0", 256);
            }
            ata.waitNotBusy(AtaScript.CTL);
            ata.status();
        });
    }

    /** SRST with a disk master and an absent slave: signatures, IRQ, selected unit kept. */
    static Scenario softResetSignatures() {
        return scenario("srst_signatures", image -> disk(image, ""), ata -> {
            ata.send("outb 0x1f6 0xb0");
            ata.softReset();
            ata.send("outb 0x1f6 0xa0");
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
            ata.send("outb 0x3f6 0x02");   // nIEN: the next reset raises no IRQ
            ata.softReset();
            ata.send("outb 0x3f6 0x00");
            ata.taskFile(AtaScript.CMD2, AtaScript.CTL2);
            ata.start("outb 0x376 0x04");
            ata.start("outb 0x376 0x00");
            ata.waitNotBusy(AtaScript.CTL2);
            ata.taskFile(AtaScript.CMD2, AtaScript.CTL2);
        });
    }

    /** ide-test cdrom/pio: PACKET with byte count limit 5120, READ(10) of one 2048-byte block by PIO. */
    static Scenario cdromPio() {
        return scenario("cdrom_pio", image -> List.of("-drive", "if=none,file=" + image
                + ",media=cdrom,format=raw,id=sr0,index=0", "-device", "ide-cd,drive=sr0,bus=ide.0"), ata -> {
            ata.send("outb 0x1f6 0xa0");
            ata.command(0xa1);   // IDENTIFY PACKET DEVICE
            ata.status();
            for (int w = 0; w < 256; w++) {
                ata.send("inw 0x1f0", w >= 10 && w <= 46 ? "identify:word:" + w : "");
            }
            ata.send("outb 0x1f1 0x00");
            ata.send("outb 0x1f4 0x00");   // byte count limit 5120 = 0x1400
            ata.send("outb 0x1f5 0x14");
            ata.command(0xa0);
            ata.status();
            int[] cdb = {0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0};   // READ(10), LBA 3, 1 block
            for (int i = 0; i < 12; i += 2) {
                ata.start("outw 0x1f0 " + AtaScript.hex(cdb[i] | cdb[i + 1] << 8));
            }
            ata.waitNotBusy(AtaScript.CTL);
            ata.status();
            ata.send("inb 0x1f4");
            ata.send("inb 0x1f5");
            ata.send("inb 0x1f2");
            ata.dataBlock("inw 0x1f0", 1024);
            ata.waitNotBusy(AtaScript.CTL);
            ata.taskFile(AtaScript.CMD, AtaScript.CTL);
        });
    }

    /**
     * READ NATIVE MAX ADDRESS (and EXT) in CHS mode after INITIALIZE DEVICE PARAMETERS changed the
     * geometry: QEMU 7.2 converts with the current geometry (differential suite, seed 5296787620651).
     */
    static Scenario readNativeMaxChs() {
        return scenario("read_native_max_chs", image -> disk(image, ""), ata -> {
            for (int[] geometry : new int[][] {{16, 0xa0}, {63, 0xaf}, {1, 0xa3}}) {
                ata.send("outb 0x1f2 " + AtaScript.hex(geometry[0]));   // sectors per track
                ata.send("outb 0x1f6 " + AtaScript.hex(geometry[1]));   // CHS mode, heads - 1
                ata.command(0x91);
                ata.status();
                for (int opcode : new int[] {0xf8, 0x27}) {
                    ata.send("outb 0x1f6 0xa0");
                    ata.command(opcode);
                    ata.taskFile(AtaScript.CMD, AtaScript.CTL);
                }
            }
        });
    }

    /**
     * PCI 00:01.3, QEMU's PIIX4 ACPI/PM function, which ioemu does not model: its configuration
     * space reads all-ones, an allowed difference byte by byte (differential suite, seed
     * 8025553525014).
     */
    static Scenario piix4PmFunction() {
        return scenario("piix4_pm_function", image -> disk(image, ""), ata -> {
            for (int offset : new int[] {0x00, 0x04, 0x08, 0x3c}) {
                ata.send("outl 0xcf8 " + AtaScript.hex(0x80000000L | 0x0b << 8 | offset));
                ata.send("inl 0xcfc", "pci:piix4-pm");
                ata.send("inw 0xcfc", "pci:piix4-pm");
            }
        });
    }
}
