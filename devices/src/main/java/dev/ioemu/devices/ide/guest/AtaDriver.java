package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.pci.PciConfigSpace;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

/**
 * A guest's driver for one channel of the PIIX3 IDE controller (shared/spec/ide.md §1, §5, §7,
 * §8.5, §9): the task file, PIO data phases, bus-master DMA through a PRD table, FLUSH, SET
 * FEATURES and ATAPI packets, all through a {@link GuestTransport}. It never looks inside the
 * device: completion is seen the way a guest sees it, by polling Alternate Status (no IRQ side
 * effect) or the bus-master status, and by the IRQ line.
 *
 * <p>Waits follow the ATA rule that status is valid only some time after a command is written:
 * the transport's {@link GuestTransport#awaitProgress} runs before each poll. A wait that never
 * ends fails after {@link #TIMEOUT_NANOS} of host time (a bound on a hang, never a result).
 * Anything a driver relies on and does not get is a {@link GuestDriverException}.
 */
public final class AtaDriver {
    /** The PIIX3 IDE function on bus 0 (00:01.1). */
    public static final int PIIX_IDE_DEVFN = 0x09;
    public static final int PIIX_IDE_ID = 0x7010_8086;
    /** BAR4: the bus-master register blocks of both channels. */
    public static final int BUS_MASTER_BAR = 4;
    public static final int BUS_MASTER_BAR_SIZE = 16;
    static final long TIMEOUT_NANOS = 30_000_000_000L;

    /** A legacy channel: command block, control port, ISA IRQ and its bus-master block's offset in BAR4. */
    public enum Channel {
        PRIMARY(0x1F0, 0x3F6, 14, 0),
        SECONDARY(0x170, 0x376, 15, Ata.BM_CHANNEL_STRIDE);

        public final int commandBase;
        public final int control;
        public final int irq;
        final int busMasterOffset;

        Channel(int commandBase, int control, int irq, int busMasterOffset) {
            this.commandBase = commandBase;
            this.control = control;
            this.irq = irq;
            this.busMasterOffset = busMasterOffset;
        }
    }

    private final GuestTransport transport;
    private final Channel channel;
    private final int base;
    private final int control;
    private final int bm;

    /** A driver for {@code channel} whose bus-master block is at {@code busMasterBase} + the channel's offset. */
    public AtaDriver(GuestTransport transport, Channel channel, int busMasterBase) {
        this.transport = transport;
        this.channel = channel;
        this.base = channel.commandBase;
        this.control = channel.control;
        this.bm = busMasterBase + channel.busMasterOffset;
    }

    /**
     * What a driver does once for the controller (ide-test's {@code get_pci_device}): checks that
     * 00:01.1 is a PIIX3 IDE function, sizes BAR4 and assigns it {@code busMasterBase}, and turns on
     * I/O, memory and bus mastering. Returns BAR4's size in bytes (16).
     *
     * @throws GuestDriverException if the function, the BAR or the command bits are not as expected
     */
    public static int setUpController(PciConfigAccess pci, int busMasterBase) {
        int id = pci.id(PIIX_IDE_DEVFN);
        if (id != PIIX_IDE_ID) {
            throw new GuestDriverException(String.format("PCI 00:01.1 is %04x:%04x (expected 8086:7010, PIIX3 IDE)",
                    id & 0xFFFF, id >>> 16));
        }
        int size = pci.assignIoBar(PIIX_IDE_DEVFN, BUS_MASTER_BAR, busMasterBase);
        if (size != BUS_MASTER_BAR_SIZE) {
            throw new GuestDriverException("BAR4 sized " + size + " bytes (expected 16 bytes of I/O)");
        }
        pci.enable(PIIX_IDE_DEVFN, PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
                | PciConfigSpace.COMMAND_MASTER);
        return size;
    }

    public Channel channel() {
        return channel;
    }

    /** The channel's bus-master register block. */
    public int busMasterBase() {
        return bm;
    }

    public GuestTransport transport() {
        return transport;
    }

    // ---- task file ----

    public int readRegister(int register) {
        return transport.inb(base + register);
    }

    public void writeRegister(int register, int value) {
        transport.outb(base + register, value);
    }

    /** Status: reading it acknowledges (lowers) the IRQ. */
    public int status() {
        return transport.inb(base + Ata.REG_STATUS);
    }

    /** Alternate Status: the same bits, without touching the IRQ. */
    public int altStatus() {
        return transport.inb(control);
    }

    public int error() {
        return transport.inb(base + Ata.REG_ERROR);
    }

    public int sectorCount() {
        return transport.inb(base + Ata.REG_NSECTOR);
    }

    public void deviceControl(int value) {
        transport.outb(control, value);
    }

    /** Selects {@code unit} (0 master, 1 slave) in LBA mode. */
    public void select(int unit) {
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_ALWAYS_ON | Ata.DEVICE_LBA | unit << 4);
    }

    public void command(int opcode) {
        writeRegister(Ata.REG_COMMAND, opcode);
    }

    /** The level of this channel's IRQ line. */
    public boolean irq() {
        return transport.irqLevel(channel.irq);
    }

    /** LBA28 address and count for the selected unit (its DEV bit is read back and kept). */
    public void setLba28(long lba, int count) {
        int dev = readRegister(Ata.REG_DEVICE) & Ata.DEVICE_DEV;
        writeRegister(Ata.REG_NSECTOR, count & 0xFF);
        writeLbaLow24(lba);
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_ALWAYS_ON | Ata.DEVICE_LBA | dev | (int) (lba >> 24) & Ata.DEVICE_HEAD);
    }

    /** LBA48 address and count for the selected unit; high bytes first so they land in the HOB shadows (§1.4). */
    public void setLba48(long lba, int count) {
        int dev = readRegister(Ata.REG_DEVICE) & Ata.DEVICE_DEV;
        writeLba48(lba, count);
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_LBA | dev);
    }

    private void writeLbaLow24(long lba) {
        writeRegister(Ata.REG_LBA_LOW, (int) lba & 0xFF);
        writeRegister(Ata.REG_LBA_MID, (int) (lba >> 8) & 0xFF);
        writeRegister(Ata.REG_LBA_HIGH, (int) (lba >> 16) & 0xFF);
    }

    private void writeLba48(long lba, int count) {
        writeRegister(Ata.REG_NSECTOR, (count >> 8) & 0xFF);
        writeRegister(Ata.REG_LBA_LOW, (int) (lba >> 24) & 0xFF);
        writeRegister(Ata.REG_LBA_MID, (int) (lba >> 32) & 0xFF);
        writeRegister(Ata.REG_LBA_HIGH, (int) (lba >> 40) & 0xFF);
        writeRegister(Ata.REG_NSECTOR, count & 0xFF);
        writeLbaLow24(lba);
    }

    // ---- waiting ----

    /** Polls Alternate Status until BSY clears and returns it (the IRQ is left alone). */
    public int awaitNotBusy() {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            transport.awaitProgress();
            int st = altStatus();
            if ((st & Ata.STATUS_BSY) == 0) {
                return st;
            }
            if (System.nanoTime() > deadline) {
                throw new GuestDriverException(String.format("%s channel: status 0x%02x still BSY after 30 s", channel, st));
            }
        }
    }

    /** Polls the channel's IRQ line until it is raised. */
    public void awaitIrq(String what) {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            transport.awaitProgress();
            if (irq()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new GuestDriverException(what + ": IRQ " + channel.irq + " not raised within 30 s");
            }
        }
    }

    /** A command without data phase: writes it, waits for BSY to clear, returns Status (acknowledging the IRQ). */
    public int nonDataCommand(int opcode) {
        command(opcode);
        awaitNotBusy();
        return status();
    }

    /** FLUSH CACHE (§5.8): BSY until the data is durable; returns the final status. */
    public int flushCache() {
        return nonDataCommand(Ata.CMD_FLUSH_CACHE);
    }

    /** SET FEATURES with subcommand {@code feature} (§5.1), e.g. {@link Ata#FEATURE_DISABLE_WRITE_CACHE}. */
    public int setFeatures(int feature) {
        writeRegister(Ata.REG_FEATURES, feature);
        return nonDataCommand(Ata.CMD_SET_FEATURES);
    }

    // ---- PIO ----

    /** {@code n} data-port words, one {@code inw} each. */
    public int[] readWords(int n) {
        int[] w = new int[n];
        for (int i = 0; i < n; i++) {
            w[i] = transport.inw(base + Ata.REG_DATA);
        }
        return w;
    }

    private void readData(byte[] dst, int offset, int bytes) {
        for (int i = 0; i < bytes; i += 2) {
            int w = transport.inw(base + Ata.REG_DATA);
            dst[offset + i] = (byte) w;
            dst[offset + i + 1] = (byte) (w >> 8);
        }
    }

    private void writeData(byte[] src, int offset, int bytes) {
        for (int i = 0; i < bytes; i += 2) {
            transport.outw(base + Ata.REG_DATA, (src[offset + i] & 0xFF) | (src[offset + i + 1] & 0xFF) << 8);
        }
    }

    /**
     * IDENTIFY DEVICE (or IDENTIFY PACKET DEVICE) on the selected unit by PIO: the 256 words.
     *
     * @throws GuestDriverException if the device offers no data (no DRQ, or ERR: e.g. a CD-ROM
     *                              answering IDENTIFY DEVICE)
     */
    public int[] identify(int opcode) {
        command(opcode);
        int st = awaitNotBusy();
        requireDataPhase("IDENTIFY", st);
        int[] words = readWords(Ata.IDENTIFY_WORDS);
        status();
        return words;
    }

    /** A data phase of one PIO command: how one DRQ block moves between the data port and the guest. */
    private interface BlockMover {
        void move(int offset, int bytes);
    }

    /**
     * The PIO state machine of §7.1/§7.2 for {@code sectors} sectors in DRQ blocks of
     * {@code sectorsPerBlock}: for a read, wait, IRQ, Status (acknowledges), DRQ, then the block;
     * for a write, wait, DRQ, the block, wait, IRQ, Status. Returns the final Alternate Status.
     */
    private int pioDataPhase(String what, boolean write, int sectors, int sectorsPerBlock, BlockMover mover) {
        int total = sectors * Ata.SECTOR_SIZE;
        int blockBytes = sectorsPerBlock * Ata.SECTOR_SIZE;
        for (int at = 0; at < total; at += blockBytes) {
            int bytes = Math.min(blockBytes, total - at);
            int st = awaitNotBusy();
            if (!write) {
                requireIrq(what, at);
                st = status();
            }
            requireDataPhase(what + " at byte " + at, st);
            mover.move(at, bytes);
            if (write) {
                awaitNotBusy();
                requireIrq(what, at);
                status();
            }
        }
        int st = awaitNotBusy();
        if ((st & (Ata.STATUS_ERR | Ata.STATUS_DF | Ata.STATUS_DRQ)) != 0 || (st & Ata.STATUS_DRDY) == 0) {
            throw new GuestDriverException(String.format("%s: status 0x%02x after the data (expected DRDY without"
                    + " ERR/DF/DRQ)", what, st));
        }
        return st;
    }

    private void requireIrq(String what, int at) {
        if (!irq()) {
            throw new GuestDriverException(what + ": no IRQ " + channel.irq + " for the block at byte " + at);
        }
    }

    private static void requireDataPhase(String what, int st) {
        if ((st & (Ata.STATUS_DRQ | Ata.STATUS_ERR)) != Ata.STATUS_DRQ) {
            throw new GuestDriverException(String.format("%s: status 0x%02x (expected DRQ without ERR)", what, st));
        }
    }

    /** READ SECTORS (LBA28) of {@code n} sectors with one {@code inw} per word; returns the data. */
    public byte[] readSectorsPio(long lba, int n) {
        setLba28(lba, n);
        command(Ata.CMD_READ_SECTORS);
        byte[] out = new byte[n * Ata.SECTOR_SIZE];
        pioDataPhase("READ SECTORS at LBA " + lba, false, n, 1, (at, bytes) -> readData(out, at, bytes));
        return out;
    }

    /** WRITE SECTORS (LBA28) of {@code data} (whole sectors) with one {@code outw} per word. */
    public void writeSectorsPio(long lba, byte[] data) {
        int n = data.length / Ata.SECTOR_SIZE;
        setLba28(lba, n);
        command(Ata.CMD_WRITE_SECTORS);
        pioDataPhase("WRITE SECTORS at LBA " + lba, true, n, 1, (at, bytes) -> writeData(data, at, bytes));
    }

    /**
     * READ MULTIPLE EXT / WRITE MULTIPLE EXT of {@code sectors} at {@code lba} between the data port
     * and guest memory at {@code address}: each DRQ block of {@code sectorsPerBlock} (the SET
     * MULTIPLE MODE value) moves with one {@code rep insw}/{@code rep outsw}, as a driver's PIO loop
     * does.
     */
    public void pioMultipleExt(boolean write, long lba, int sectors, int sectorsPerBlock, long address) {
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_LBA);
        writeLba48(lba, sectors);
        command(write ? Ata.CMD_WRITE_MULTIPLE_EXT : Ata.CMD_READ_MULTIPLE_EXT);
        pioDataPhase((write ? "WRITE" : "READ") + " MULTIPLE EXT at LBA " + lba, write, sectors, sectorsPerBlock,
                (at, bytes) -> {
                    int words = write ? transport.writeString(base + Ata.REG_DATA, 2, bytes / 2, address + at)
                            : transport.readString(base + Ata.REG_DATA, 2, bytes / 2, address + at);
                    if (words != bytes / 2) {
                        throw new GuestDriverException("PIO at LBA " + lba + ": " + words + " of " + bytes / 2
                                + " words moved");
                    }
                });
    }

    /** SET MULTIPLE MODE: DRQ blocks of {@code sectors} for READ/WRITE MULTIPLE; returns the final status. */
    public int setMultipleMode(int sectors) {
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_LBA);
        writeRegister(Ata.REG_NSECTOR, sectors);
        return nonDataCommand(Ata.CMD_SET_MULTIPLE_MODE);
    }

    // ---- bus-master DMA (§8.5) ----

    /** Writes {@code table} into guest memory at {@code address}. */
    public void writePrdTable(long address, List<PrdDescriptor> table) {
        transport.writeMemory(address, PrdDescriptor.encode(table));
    }

    /**
     * One DMA command as ide-test's {@code send_dma_request} + {@code wait_dma_completion}: select
     * unit 0 in LBA mode, stop the engine, clear Interrupt, point it at the PRD table, program the
     * command (TRIM: Features = 1), start the engine (and stop it at once if asked), poll BM status
     * until Active clears or Interrupt is set, read the ATA status (acknowledging the IRQ), and stop
     * an engine still Active.
     */
    public DmaCompletion dma(DmaRequest r) {
        writeRegister(Ata.REG_DEVICE, Ata.DEVICE_LBA);
        transport.outb(bm + Ata.BM_REG_COMMAND, 0);
        transport.outb(bm + Ata.BM_REG_STATUS, Ata.BM_STATUS_INTERRUPT);
        transport.outl(bm + Ata.BM_REG_TABLE, (int) r.prdTable());
        if (r.opcode() == Ata.CMD_DATA_SET_MANAGEMENT) {
            writeRegister(Ata.REG_FEATURES, Ata.DSM_TRIM);
        }
        if (r.lba48()) {
            writeLba48(r.lba(), r.count());
        } else {
            // 28-bit: the Device register written above (0x40) supplies LBA bits 24-27 = 0.
            writeRegister(Ata.REG_NSECTOR, r.count() & 0xFF);
            writeLbaLow24(r.lba());
        }
        command(r.opcode());
        transport.outb(bm + Ata.BM_REG_COMMAND, Ata.BM_COMMAND_START | (r.toMemory() ? Ata.BM_COMMAND_READ : 0));
        if (r.stopAtOnce()) {
            transport.outb(bm + Ata.BM_REG_COMMAND, 0);
        }
        int bmStatus = awaitBusMasterDone(r);
        boolean irqAtCompletion = r.sampleIrq() && irq();
        int st = status();
        boolean irqAfter = r.sampleIrq() && irq();
        if ((bmStatus & Ata.BM_STATUS_ACTIVE) != 0) {
            transport.outb(bm + Ata.BM_REG_COMMAND, 0);
        }
        return new DmaCompletion(bmStatus, st, irqAtCompletion, irqAfter);
    }

    /** Polls BM status until the transfer is over: Active clear, or Interrupt set with Active kept by a long table. */
    private int awaitBusMasterDone(DmaRequest r) {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (true) {
            transport.awaitProgress();
            int st = transport.inb(bm + Ata.BM_REG_STATUS);
            if ((st & (Ata.BM_STATUS_ACTIVE | Ata.BM_STATUS_INTERRUPT)) != Ata.BM_STATUS_ACTIVE) {
                return st;
            }
            if (System.nanoTime() > deadline) {
                throw new GuestDriverException(String.format("DMA command 0x%02x at LBA %d: BM status 0x%02x still"
                        + " Active after 30 s", r.opcode(), r.lba(), st));
            }
        }
    }

    // ---- ATAPI (§9.2) ----

    /**
     * PACKET with byte count limit {@code byteCountLimit} and {@code features} (e.g. DMA): waits for
     * the device to ask for the command packet and returns that status (DRQ, reason CoD expected);
     * then {@link #writePacket} sends the CDB.
     */
    public int startPacket(int byteCountLimit, int features) {
        writeRegister(Ata.REG_DEVICE, 0);
        writeRegister(Ata.REG_FEATURES, features);
        writeRegister(Ata.REG_LBA_MID, byteCountLimit & 0xFF);
        writeRegister(Ata.REG_LBA_HIGH, byteCountLimit >> 8 & 0xFF);
        command(Ata.CMD_PACKET);
        return awaitNotBusy();
    }

    /** The 12-byte command packet as six {@code outw} (a shorter CDB is padded with zeros). */
    public void writePacket(byte[] cdb) {
        byte[] p = Arrays.copyOf(cdb, Ata.ATAPI_PACKET_SIZE);
        writeData(p, 0, p.length);
    }

    /** The byte count the device put in LBA mid/high for the current DRQ chunk. */
    public int byteCount() {
        return readRegister(Ata.REG_LBA_MID) | readRegister(Ata.REG_LBA_HIGH) << 8;
    }

    /**
     * A PIO packet command with a data-in phase: PACKET, the CDB, then {@link #readPacketData}.
     *
     * @throws GuestDriverException if the device does not ask for the packet or a chunk has ERR set
     */
    public byte[] packetPioIn(byte[] cdb, int byteCountLimit) {
        int st = startPacket(byteCountLimit, 0);
        requireDataPhase("PACKET 0x" + Integer.toHexString(cdb[0] & 0xFF), st);
        writePacket(cdb);
        return readPacketData();
    }

    /**
     * The data-in phase of a PIO packet command, chunk by chunk: BSY clear, the IRQ, Status
     * (acknowledging it), the byte count the device reports, until a status without DRQ ends it.
     *
     * @throws GuestDriverException if a chunk has ERR set
     */
    public byte[] readPacketData() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            awaitNotBusy();
            awaitIrq("PACKET data");
            int st = status();
            if ((st & Ata.STATUS_ERR) != 0) {
                throw new GuestDriverException(String.format("PACKET data: status 0x%02x error 0x%02x", st, error()));
            }
            if ((st & Ata.STATUS_DRQ) == 0) {
                return out.toByteArray();
            }
            byte[] chunk = new byte[byteCount() & ~1];
            readData(chunk, 0, chunk.length);
            out.writeBytes(chunk);
        }
    }
}
