package dev.ioemu.tests.peer;

import java.util.Base64;
import java.util.SplittableRandom;

/**
 * Seeded random register-level traffic for the PIIX3 IDE controller (shared/spec/ide.md), in one
 * of two {@link Topology topologies}: IDENTIFY,
 * PIO reads/writes (LBA28 and LBA48), READ/WRITE MULTIPLE with SET MULTIPLE MODE, bus-master DMA
 * with exact, split, short and over-long PRD tables and stops, FLUSH CACHE (EXT), TRIM, SET
 * FEATURES, non-data commands, aborting opcodes, soft resets, nIEN, HOB reads, register writes
 * while busy, absent devices, BMDMA and PCI configuration registers; with {@link Topology#FULL}
 * also the primary slave disk and ATAPI packets to a CD-ROM on the secondary bus.
 *
 * <p>A script cannot branch on replies (both peers get the same requests), so the generator
 * follows a model of what a correct device does: a data phase it expects is performed in full;
 * if a peer aborted instead, its data port reads 0 and ignores writes, which is itself compared.
 * Every wait is a poll of the alternate status (it does not touch the IRQ) until BSY clears.
 */
public final class IdeSequenceGenerator {
    /** Image size the generator addresses, in 512-byte sectors (an 8 MiB image). */
    public static final int SECTORS = 16384;

    private static final int CMD = AtaScript.CMD;
    private static final int CTL = AtaScript.CTL;
    private static final int CMD2 = AtaScript.CMD2;
    private static final int CTL2 = AtaScript.CTL2;
    private static final int BM = AtaScript.BM;
    private static final long BUF = AtaScript.BUF;
    private static final long TRIM_BUF = AtaScript.TRIM_BUF;
    private static final int[] ABORTING = {0x00, 0x08, 0x11, 0x1f, 0x2f, 0x37, 0x3d, 0x60, 0x61, 0x71, 0x92, 0xa0,
            0xa1, 0xb1, 0xc7, 0xcc, 0xda, 0xde, 0xe4, 0xe8, 0xed, 0xf1, 0xf9};
    private static final int[] NON_DATA = {0x10, 0x40, 0x41, 0x42, 0x70, 0x90, 0x91, 0x94, 0x95, 0x96, 0x97, 0x98,
            0x99, 0xe0, 0xe1, 0xe2, 0xe3, 0xe5, 0xe6, 0xf5, 0xf8, 0x27};

    /** Which drives the peers were started with. */
    public enum Topology {
        /** A disk at the primary master; primary slave absent; secondary bus empty. */
        SINGLE_DISK,
        /** Disks at the primary master and slave; a CD-ROM with a medium at the secondary master. */
        FULL
    }

    /** Blocks of the CD-ROM medium (2048 bytes each) the FULL topology's image provides. */
    public static final int CD_BLOCKS = SECTORS / 4;

    private final SplittableRandom rnd;
    private final Script script;
    private final AtaScript ata;
    private final Topology topology;
    private final int[] multiple = {16, 16};   // the model's READ/WRITE MULTIPLE block size per unit (QEMU's default)
    private boolean busMaster = true;

    private IdeSequenceGenerator(long seed, Topology topology) {
        this.rnd = new SplittableRandom(seed);
        this.script = new Script("IdeSequenceGenerator " + topology + " seed " + seed);
        this.ata = new AtaScript(script);
        this.topology = topology;
    }

    /** A script of at least {@code operations} requests for {@link Topology#SINGLE_DISK}. */
    public static Script generate(long seed, int operations) {
        return generate(seed, operations, Topology.SINGLE_DISK);
    }

    /** A script of at least {@code operations} requests. */
    public static Script generate(long seed, int operations, Topology topology) {
        IdeSequenceGenerator g = new IdeSequenceGenerator(seed, topology);
        g.ata.setUpPci();
        g.taskFile(CMD, CTL);
        g.taskFile(CMD2, CTL2);
        while (g.script.size() < operations) {
            g.operation();
        }
        g.flush(0xe7);   // QEMU and ioemu both flush at exit; this also compares a last status
        g.taskFile(CMD, CTL);
        return g.script;
    }

    private static String hex(long v) {
        return AtaScript.hex(v);
    }

    private void send(String line) {
        ata.send(line);
    }

    private void start(String line) {
        ata.start(line);
    }

    private void waitNotBusy(int ctl) {
        ata.waitNotBusy(ctl);
    }

    /** PCI 00:01.3, the PIIX4 power-management (ACPI) function of QEMU's pc machine. */
    private static final int PIIX4_PM_DEVFN = 0x0b;

    private void pciRead(int devfn, int offset, String width) {
        if (devfn == PIIX4_PM_DEVFN) {
            // QEMU's pc machine has its ACPI/PM function at 01.3; ioemu does not yet (AllowedDifferences).
            send("outl 0xcf8 " + hex(0x80000000L | devfn << 8 | offset));
            ata.send("in" + width + " 0xcfc", "pci:piix4-pm");
            return;
        }
        ata.pciRead(devfn, offset, width);
    }

    private void taskFile(int cmd, int ctl) {
        ata.taskFile(cmd, ctl);
    }

    /** LBA28 addressing, or now and then CHS under the default 16-head, 63-sector geometry. */
    private void address28(int cmd, long lba, int count) {
        if (rnd.nextInt(7) == 0) {
            ata.addressChs(cmd, lba, count, 16, 63);
        } else {
            ata.address28(cmd, lba, count);
        }
    }

    private void address48(int cmd, long lba, int count) {
        ata.address48(cmd, lba, count);
    }

    private void command(int opcode) {
        ata.command(opcode);
    }

    private void status() {
        ata.status();
    }

    private void operation() {
        if (topology == Topology.FULL) {
            // Each operation addresses the master or the slave disk; commands without address
            // writes act on whichever unit the Device register selects.
            ata.unit = rnd.nextInt(10) < 7 ? 0 : 1;
            send("outb " + hex(CMD + 6) + " " + hex(0xa0 | ata.unit << 4));
        }
        int pick = rnd.nextInt(100);
        if (pick < 4) {
            identify();
        } else if (pick < 10) {
            pioRead();
        } else if (pick < 16) {
            pioWrite();
        } else if (pick < 21) {
            multipleTransfer();
        } else if (pick < 25) {
            setMultiple();
        } else if (pick < 47) {
            dma();
        } else if (pick < 53) {
            flush(rnd.nextBoolean() ? 0xe7 : 0xea);
        } else if (pick < 59) {
            trim();
        } else if (pick < 64) {
            setFeatures();
        } else if (pick < 71) {
            nonData(NON_DATA[rnd.nextInt(NON_DATA.length)]);
        } else if (pick < 75) {
            nonData(ABORTING[rnd.nextInt(ABORTING.length)]);
        } else if (pick < 79) {
            softReset();
        } else if (pick < 81) {
            interruptEnable();
        } else if (pick < 83) {
            hobRead();
        } else if (pick < 86) {
            taskFile(CMD, CTL);
        } else if (pick < 88) {
            if (topology == Topology.FULL) {
                cdrom();
            } else {
                absentSlave();
            }
        } else if (pick < 91) {
            if (topology == Topology.FULL) {
                cdrom();
            } else {
                emptySecondary();
            }
        } else if (pick < 94) {
            bmdmaRegisters();
        } else if (pick < 96) {
            pciRead(rnd.nextBoolean() ? 0x09 : rnd.nextInt(0x20), rnd.nextInt(0x40) & ~3, "l");
        } else if (pick < 98) {
            malformed();
        } else {
            dataPortWhileBusy();
        }
    }

    /**
     * A driver that reads too far: after a block of a multi-sector PIO READ ends and the drive has
     * fetched the next one, it reads and writes the data port and reads the status, then writes a
     * command while DRQ is set.
     */
    private void dataPortWhileBusy() {
        long lba = rnd.nextLong(0, SECTORS - 3);
        address28(CMD, lba, 3);
        command(0x20);
        status();
        readData(256);
        // Wait for the next block's fetch (poll the alternate status until BSY clears): QEMU's
        // answer right after a block depends on its I/O thread winning a race with the client (a
        // QEMU-against-QEMU run differed even after two padding requests), while ioemu settles
        // before every line (QTEST.md; IdePioDeterminismTest checks ioemu against itself).
        waitNotBusy(CTL);
        send("inw " + hex(CMD));
        send("outw " + hex(CMD) + " " + hex(rnd.nextInt(1 << 16)));
        status();
        readData(rnd.nextInt(1, 256));
        start("outb " + hex(CMD + 7) + " " + hex(rnd.nextBoolean() ? 0x20 : 0xec));
        status();
        softReset();
    }

    /** nIEN on for a few commands, then off again: no IRQ may be raised meanwhile. */
    private void interruptEnable() {
        send("outb " + hex(CTL) + " 0x02");
        int n = rnd.nextInt(1, 4);
        for (int i = 0; i < n; i++) {
            if (rnd.nextBoolean()) {
                flush(0xe7);
            } else {
                nonData(NON_DATA[rnd.nextInt(NON_DATA.length)]);
            }
        }
        send("outb " + hex(CTL) + " 0x00");
        taskFile(CMD, CTL);
    }

    // ---- registers ----

    private void hobRead() {
        send("outb " + hex(CTL) + " 0x80");
        for (int r = 1; r <= 5; r++) {
            send("inb " + hex(CMD + r));
        }
        send("outb " + hex(CTL) + " 0x00");
        send("inw " + hex(CMD + 7));   // 0xff00 | status, lowers the IRQ
        send("inw " + hex(CTL));
    }

    /** An LBA: mostly inside the disk, sometimes at or past its end. */
    private long lba(int count) {
        int r = rnd.nextInt(100);
        if (r < 4) {
            return SECTORS - count + rnd.nextInt(0, 3);   // ends exactly at, or one/two past, the end
        }
        if (r < 7) {
            return SECTORS + rnd.nextInt(0, 1000);
        }
        if (r < 9) {
            return rnd.nextLong(1L << 27, 1L << 47);   // far past the end; uses the LBA48 high bytes
        }
        return rnd.nextLong(0, Math.max(1, SECTORS - count));
    }

    // ---- commands ----

    private void identify() {
        ata.identify(0xa0 | ata.unit << 4, false);   // the suite gives both peers the same model/serial/ver
    }

    private void pioRead() {
        boolean ext = rnd.nextInt(3) == 0;
        int count = rnd.nextInt(4) == 0 ? rnd.nextInt(2, 4) : 1;
        long lba = lba(count);
        if (ext) {
            address48(CMD, lba, count);
        } else {
            address28(CMD, lba, count);
        }
        command(ext ? 0x24 : rnd.nextBoolean() ? 0x20 : 0x21);
        for (int s = 0; s < count; s++) {
            if (s > 0) {
                waitNotBusy(CTL);
            }
            status();
            readData(256);
        }
        waitNotBusy(CTL);
        status();
    }

    /**
     * {@code words} 16-bit words from the data port, most as 32-bit reads. The last request is
     * unsettled: ending a DRQ block starts the next sector's read.
     */
    private void readData(int words) {
        int w = 0;
        while (w < words) {
            boolean wide = w + 2 <= words && rnd.nextInt(5) != 0;
            String request = wide ? "inl " + hex(CMD) : "inw " + hex(CMD);
            w += wide ? 2 : 1;
            if (w == words) {
                start(request);
            } else {
                send(request);
            }
        }
    }

    /** As {@link #readData}; the last word written starts the block's write. */
    private void writeData(int words) {
        int w = 0;
        while (w < words) {
            boolean wide = w + 2 <= words && rnd.nextInt(5) != 0;
            String request = wide ? "outl " + hex(CMD) + " " + hex(rnd.nextLong(1L << 32))
                    : "outw " + hex(CMD) + " " + hex(rnd.nextInt(1 << 16));
            w += wide ? 2 : 1;
            if (w == words) {
                start(request);
            } else {
                send(request);
            }
        }
    }

    private void pioWrite() {
        boolean ext = rnd.nextInt(3) == 0;
        int count = rnd.nextInt(4) == 0 ? rnd.nextInt(2, 4) : 1;
        long lba = lba(count);
        if (ext) {
            address48(CMD, lba, count);
        } else {
            address28(CMD, lba, count);
        }
        int[] ops = {0x30, 0x31, 0x3c};
        command(ext ? 0x34 : ops[rnd.nextInt(ops.length)]);
        for (int s = 0; s < count; s++) {
            status();
            writeData(256);
            waitNotBusy(CTL);
        }
        status();
    }

    private void setMultiple() {
        int[] counts = {0, 1, 2, 4, 8, 16, 3, 32};
        int c = counts[rnd.nextInt(counts.length)];
        send("outb " + hex(CMD + 2) + " " + hex(c));
        command(0xc6);
        status();
        if (c != 0 && c <= 16 && Integer.bitCount(c) == 1) {
            multiple[ata.unit] = c;
        }
    }

    private void multipleTransfer() {
        boolean write = rnd.nextBoolean();
        boolean ext = rnd.nextInt(3) == 0;
        int count = rnd.nextInt(1, 5);
        long lba = lba(count);
        if (ext) {
            address48(CMD, lba, count);
        } else {
            address28(CMD, lba, count);
        }
        command(write ? (ext ? 0x39 : 0xc5) : (ext ? 0x29 : 0xc4));
        int blockSize = multiple[ata.unit];
        for (int done = 0; done < count; done += blockSize) {
            int block = Math.min(blockSize, count - done);
            if (done > 0 && !write) {
                waitNotBusy(CTL);
            }
            status();
            if (write) {
                writeData(256 * block);
                waitNotBusy(CTL);
            } else {
                readData(256 * block);
            }
        }
        waitNotBusy(CTL);
        status();
    }

    private void dma() {
        boolean write = rnd.nextBoolean();
        boolean ext = rnd.nextInt(3) == 0;
        int count = rnd.nextInt(1, 65);
        long lba = lba(count);
        int bytes = count * 512;
        long[][] table;
        int shape = rnd.nextInt(10);
        if (shape < 5) {
            table = new long[][] {{BUF, bytes, 1}};
        } else if (shape < 7) {
            int first = (rnd.nextInt(1, Math.max(2, bytes / 512)) * 512) & 0xffff;
            table = first >= bytes || first == 0 ? new long[][] {{BUF, bytes, 1}}
                    : new long[][] {{BUF, first, 0}, {BUF + first, bytes - first, 1}};
        } else if (shape < 8) {
            table = new long[][] {{BUF, Math.max(2, bytes - 512), 1}};                     // too short
        } else if (shape < 9) {
            table = new long[][] {{BUF, bytes, 0}, {BUF + bytes, 512, 1}};                  // too long
        } else {
            table = new long[][] {{BUF, bytes + 1, 1}};                                     // odd count
        }
        if (write) {
            byte[] data = new byte[bytes];
            rnd.nextBytes(data);
            send("b64write " + hex(BUF) + " " + hex(bytes) + " " + Base64.getEncoder().encodeToString(data));
        } else {
            send("memset " + hex(BUF) + " " + hex(bytes + 512) + " 0xa5");
        }
        if (rnd.nextInt(100) == 0 && !write) {
            busMaster(false);
        }
        ata.dmaRequest(write ? (ext ? 0x35 : rnd.nextBoolean() ? 0xca : 0xcb) : (ext ? 0x25 : rnd.nextBoolean() ? 0xc8 : 0xc9),
                ext, lba, count, table, !write, stopAtOnce(rnd.nextInt(15) == 0));
        if (!write) {
            send("b64read " + hex(BUF) + " " + hex(bytes + 512));
        }
        if (!busMaster) {
            busMaster(true);
        }
    }

    /**
     * Stopping the engine at once while bus mastering is disabled makes QEMU 7.2 abort
     * (ide_cancel_dma_sync: assertion `s->bus->dma->aiocb == NULL`, found by this generator); the
     * random choice is still drawn so the rest of the script does not change.
     */
    private boolean stopAtOnce(boolean wanted) {
        return wanted && busMaster;
    }

    private void busMaster(boolean on) {
        ata.busMaster(on);
        busMaster = on;
    }

    private void flush(int opcode) {
        command(opcode);
        status();
    }

    private void trim() {
        int entries = rnd.nextInt(1, 5);
        StringBuilder hex = new StringBuilder("0x");
        for (int i = 0; i < entries; i++) {
            int n = rnd.nextInt(0, 64);
            long lba = rnd.nextInt(20) == 0 ? SECTORS - rnd.nextInt(0, 4) : rnd.nextLong(0, SECTORS - 64);
            long entry = lba | (long) n << 48;
            for (int b = 0; b < 8; b++) {
                hex.append(String.format("%02x", entry >>> (8 * b) & 0xff));
            }
        }
        send("memset " + hex(TRIM_BUF) + " 0x200 0");
        send("write " + hex(TRIM_BUF) + " " + hex(entries * 8L) + " " + hex);
        int features = rnd.nextInt(10) == 0 ? 0 : 1;
        int blocks = rnd.nextInt(10) == 0 ? 0 : 1;
        send("outb " + hex(CMD + 1) + " " + hex(features));
        ata.dmaRequest(0x06, false, 0, blocks, new long[][] {{TRIM_BUF, 512, 1}}, false, false);
    }

    private void setFeatures() {
        int[][] subcommands = {{0x02, 0}, {0x82, 0}, {0x03, 0x08}, {0x03, 0x22}, {0x03, 0x42}, {0x03, 0x45},
                {0xaa, 0}, {0x55, 0}, {0xcc, 0}, {0x66, 0}, {0x99, 0}};
        int[] sc = subcommands[rnd.nextInt(subcommands.length)];
        send("outb " + hex(CMD + 1) + " " + hex(sc[0]));
        send("outb " + hex(CMD + 2) + " " + hex(sc[1]));
        command(0xef);
        status();
    }

    private void nonData(int opcode) {
        // INITIALIZE DEVICE PARAMETERS with 0 sectors per track makes QEMU 7.2 divide by zero
        // (SIGFPE) at the next CHS-mode command (found by this generator); keep the peer alive.
        int count = opcode == 0x91 ? rnd.nextInt(1, 8) : rnd.nextInt(0, 8);
        address28(CMD, lba(count), count);
        command(opcode);
        status();
        taskFile(CMD, CTL);
    }

    private void softReset() {
        ata.softReset();
        multiple[0] = 16;
        multiple[1] = 16;
    }

    /**
     * One ATAPI PACKET to the CD-ROM at the secondary master, by PIO with a byte count limit of
     * 0xfffe so each reply comes in one DRQ phase: TEST UNIT READY, REQUEST SENSE, INQUIRY, READ
     * CAPACITY, READ(10) (also past the end), PREVENT/ALLOW MEDIUM REMOVAL, an unknown opcode; or
     * IDENTIFY PACKET DEVICE. The data phase reads as many bytes as a correct drive returns.
     */
    private void cdrom() {
        send("outb " + hex(CMD2 + 6) + " 0xa0");
        if (rnd.nextInt(8) == 0) {
            start("outb " + hex(CMD2 + 7) + " 0xa1");
            waitNotBusy(CTL2);
            taskFile(CMD2, CTL2);
            for (int w = 0; w < 256; w++) {
                send("inw " + hex(CMD2));
            }
            taskFile(CMD2, CTL2);
            return;
        }
        int[] cdb = new int[12];
        int bytes;
        switch (rnd.nextInt(7)) {
            case 0 -> bytes = 0;                                               // TEST UNIT READY
            case 1 -> { cdb[0] = 0x03; cdb[4] = 18; bytes = 18; }              // REQUEST SENSE
            case 2 -> { cdb[0] = 0x12; cdb[4] = 36; bytes = 36; }              // INQUIRY
            case 3 -> { cdb[0] = 0x25; bytes = 8; }                            // READ CAPACITY
            case 4 -> {                                                        // READ(10)
                int blocks = rnd.nextInt(1, 3);
                long lba = rnd.nextInt(10) == 0 ? CD_BLOCKS - 1 : rnd.nextLong(0, CD_BLOCKS - 2);
                cdb[0] = 0x28;
                cdb[2] = (int) (lba >> 24 & 0xff);
                cdb[3] = (int) (lba >> 16 & 0xff);
                cdb[4] = (int) (lba >> 8 & 0xff);
                cdb[5] = (int) (lba & 0xff);
                cdb[8] = blocks;
                bytes = lba + blocks <= CD_BLOCKS ? blocks * 2048 : 0;
            }
            case 5 -> { cdb[0] = 0x1e; cdb[4] = rnd.nextInt(2); bytes = 0; }  // PREVENT/ALLOW MEDIUM REMOVAL
            default -> { cdb[0] = 0xff; bytes = 0; }                           // unknown: CHECK CONDITION
        }
        send("outb " + hex(CMD2 + 1) + " 0x00");
        send("outb " + hex(CMD2 + 4) + " 0xfe");
        send("outb " + hex(CMD2 + 5) + " 0xff");
        start("outb " + hex(CMD2 + 7) + " 0xa0");
        waitNotBusy(CTL2);
        taskFile(CMD2, CTL2);
        for (int i = 0; i < 12; i += 2) {
            String request = "outw " + hex(CMD2) + " " + hex(cdb[i] | cdb[i + 1] << 8);
            if (i == 10) {
                start(request);   // the packet is complete: the command runs
            } else {
                send(request);
            }
        }
        waitNotBusy(CTL2);
        taskFile(CMD2, CTL2);
        if (bytes > 0 && cdb[0] == 0x12) {
            // INQUIRY: words 4-15 carry the vendor and product strings, ioemu's own (AllowedDifferences).
            for (int w = 0; w < bytes / 2 - 1; w++) {
                ata.send("inw " + hex(CMD2), w >= 4 && w <= 15 ? "inquiry:strings" : "");
            }
            start("inw " + hex(CMD2));
            waitNotBusy(CTL2);
            taskFile(CMD2, CTL2);
        } else if (bytes > 0) {
            ata.dataBlock("inw " + hex(CMD2), bytes / 2);
            waitNotBusy(CTL2);
            taskFile(CMD2, CTL2);
        }
    }

    private void absentSlave() {
        send("outb " + hex(CMD + 6) + " 0xb0");
        taskFile(CMD, CTL);
        command(rnd.nextBoolean() ? 0xec : 0x20);
        taskFile(CMD, CTL);
        send("inw " + hex(CMD));
        send("outb " + hex(CMD + 6) + " 0xa0");
    }

    private void emptySecondary() {
        taskFile(CMD2, CTL2);
        int[] ops = {0xec, 0xe7, 0x20, 0xc8, 0x90, 0x98, 0x00};
        send("outb " + hex(CMD2 + 6) + " " + (rnd.nextBoolean() ? "0xa0" : "0xb0"));
        start("outb " + hex(CMD2 + 7) + " " + hex(ops[rnd.nextInt(ops.length)]));
        waitNotBusy(CTL2);
        taskFile(CMD2, CTL2);
        send("inb " + hex(BM + 10));
    }

    private void bmdmaRegisters() {
        for (int r = 0; r < 16; r++) {
            if (rnd.nextInt(3) == 0) {
                send("inb " + hex(BM + r));
            }
        }
        int[] statusWrites = {0x60, 0x06, 0x20, 0x00};
        send("outb " + hex(BM + 2) + " " + hex(statusWrites[rnd.nextInt(statusWrites.length)]));
        send("inb " + hex(BM + 2));
        send("outl " + hex(BM + 4) + " " + hex(rnd.nextLong(1L << 32)));
        send("inl " + hex(BM + 4));
        send("inw " + hex(BM));
        send("inl " + hex(BM + 8));
    }

    /** Guest mistakes: register writes during a data phase, a command on top of DRQ, a read abandoned by SRST. */
    private void malformed() {
        long lba = rnd.nextLong(0, SECTORS - 2);
        address28(CMD, lba, 2);
        command(0x20);
        status();
        readData(rnd.nextInt(1, 200));
        send("outb " + hex(CMD + 2) + " 0x55");   // ignored: DRQ is set
        send("outb " + hex(CMD + 6) + " 0xb0");   // ignored too: cannot switch drives during DRQ
        start("outb " + hex(CMD + 7) + " 0xec");  // ignored: the unit is busy with DRQ
        taskFile(CMD, CTL);
        softReset();
        send("inw " + hex(CMD));                  // no DRQ: reads 0
        send("outb " + hex(CMD + 6) + " 0xa0");
    }
}
