package dev.ioemu.tests.peer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Bus-master DMA against the machine's memory map, compared with QEMU 7.2 (128 MiB, no firmware
 * run): the drive reads into and writes from ROM (the BIOS at 0xf0000), unassigned space
 * (option-ROM space 0xc0000 and above RAM) and buffers that straddle the end of RAM. QEMU drops
 * the device's writes to ROM and unassigned space and feeds it the ROM's bytes or zeros; ioemu
 * must do the same through its one address space. The CPU side over qtest too: unassigned memory
 * reads 0, an unassigned I/O port all-ones.
 *
 * <p>The only allowed difference is the BIOS's content ("bios-rom": QEMU shows SeaBIOS, ioemu's
 * ROM is zero-filled); {@link #romWritesAreDroppedInIoemu} checks those steps on ioemu alone.
 */
class MemoryMapDifferentialTest {
    private static final long ROM = 0xf0000;
    private static final long OPTION_ROM_SPACE = 0xc0000;
    private static final long ABOVE_RAM = 0x9000000;
    private static final long LOW_RAM_END = 0xbff00;        // 256 bytes of RAM, then the option-ROM space
    private static final long RAM_END = (128L << 20) - 256;  // 256 bytes of RAM, then unassigned space
    private static final String ROM_TAG = "memory:bios-rom";
    /** LPT2's base: nothing decodes it on the pc machine without default devices. */
    private static final long UNASSIGNED_PORT = 0x278;

    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    private static List<String> args(Path image) {
        return IdeScenarios.disk(image, "");
    }

    /** READ DMA of sector {@code lba} into [address, address+512), then the memory read back. */
    private static void readInto(AtaScript ata, long lba, long address, String tag) {
        ata.dmaRequest(0xc8, false, lba, 1, new long[][] {{address, 512, 1}}, true, false);
        ata.send("b64read " + AtaScript.hex(address) + " 0x200", tag);
    }

    /** WRITE DMA of sector {@code lba} from [address, address+512), then the sector read back through RAM. */
    private static void writeFrom(AtaScript ata, long lba, long address, String tag) {
        ata.dmaRequest(0xca, false, lba, 1, new long[][] {{address, 512, 1}}, false, false);
        ata.memset(AtaScript.BUF, 512, 0xee);
        ata.dmaRequest(0xc8, false, lba, 1, new long[][] {{AtaScript.BUF, 512, 1}}, true, false);
        ata.send("b64read " + AtaScript.hex(AtaScript.BUF) + " 0x200", tag);
    }

    /**
     * The compared script. A WRITE DMA from the BIOS ROM is not in it: the sector would hold
     * SeaBIOS in QEMU's image and zeros in ioemu's, and the images are compared whole.
     */
    static Script script(boolean writeFromRom) {
        Script s = new Script("MemoryMapDifferentialTest");
        AtaScript ata = new AtaScript(s);
        ata.setUpPci();
        readInto(ata, 3, ROM, ROM_TAG);
        readInto(ata, 4, OPTION_ROM_SPACE, "");
        readInto(ata, 5, ABOVE_RAM, "");
        readInto(ata, 6, LOW_RAM_END, "");
        readInto(ata, 7, RAM_END, "");
        writeFrom(ata, 8, OPTION_ROM_SPACE, "");
        writeFrom(ata, 9, ABOVE_RAM, "");
        ata.memset(RAM_END, 256, 0x5a);
        writeFrom(ata, 10, RAM_END, "");
        if (writeFromRom) {
            writeFrom(ata, 11, ROM, ROM_TAG);
        }
        cpuSideUnassignedAccesses(ata);
        return s;
    }

    /**
     * The CPU side of the same map, over qtest: unassigned memory reads 0 and drops writes, while
     * an unassigned I/O port reads all-ones at every width and drops writes — QEMU 7.2's
     * unassigned memory and I/O answer differently, and the peer is what ioemu follows.
     */
    private static void cpuSideUnassignedAccesses(AtaScript ata) {
        ata.send("read " + AtaScript.hex(ABOVE_RAM) + " 0x10");
        ata.send("writel " + AtaScript.hex(ABOVE_RAM) + " 0x12345678");
        ata.send("readl " + AtaScript.hex(ABOVE_RAM));
        ata.send("readb " + AtaScript.hex(OPTION_ROM_SPACE + 0x10));
        ata.send("writew " + AtaScript.hex(OPTION_ROM_SPACE + 0x10) + " 0xabcd");
        ata.send("readw " + AtaScript.hex(OPTION_ROM_SPACE + 0x10));
        ata.send("outb " + AtaScript.hex(UNASSIGNED_PORT) + " 0x55");
        ata.send("inb " + AtaScript.hex(UNASSIGNED_PORT));
        ata.send("inw " + AtaScript.hex(UNASSIGNED_PORT));
        ata.send("inl " + AtaScript.hex(UNASSIGNED_PORT));
    }

    @Test
    void scriptIsDeterministicOnQemu() throws Exception {
        Comparison c = DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.QEMU, script(false),
                IdeDifferentialTest.image(dir, 11), MemoryMapDifferentialTest::args, dir);
        assertTrue(c.divergences().isEmpty(), c.report(10));
    }

    @Test
    void dmaIntoRomAndUnassignedSpaceMatchesQemu() throws Exception {
        Comparison c = DifferentialRun.run(QtestPeer.Kind.QEMU, QtestPeer.Kind.IOEMU, script(false),
                IdeDifferentialTest.image(dir, 11), MemoryMapDifferentialTest::args, dir);
        assertTrue(c.divergences().isEmpty(), c.report(10));
    }

    /** Where the comparison allows the BIOS's content to differ, ioemu's zero-filled ROM must stay zero. */
    @Test
    void romWritesAreDroppedInIoemu() throws Exception {
        Path image = IdeDifferentialTest.image(dir, 11);
        List<String> romReplies = new ArrayList<>();
        try (QtestPeer ioemu = QtestPeer.launch(QtestPeer.Kind.IOEMU, args(image), dir)) {
            for (Step step : script(true).steps()) {
                Exchange e = DifferentialRun.execute(ioemu, step);
                if (step.tag().equals(ROM_TAG)) {
                    romReplies.add(e.reply());
                }
            }
        }
        String zeros = "OK " + Base64.getEncoder().encodeToString(new byte[512]);
        assertEquals(List.of(zeros, zeros), romReplies,
                "a READ DMA into ROM left the ROM unchanged, and a WRITE DMA from it wrote the ROM's bytes");
    }
}
