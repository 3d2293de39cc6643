package dev.ioemu.tools.bench;

import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.ide.IdeDriveConfig;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;

/**
 * A PIIX3 IDE controller with one disk on the primary master, wired in-process to a port bus,
 * guest RAM and IRQ lines, and driven only the way a guest driver drives it: PCI configuration,
 * I/O ports and guest memory. Completions are detected by polling, as QEMU's ide-test does
 * (shared/spec/ide.md §8.5 step 10), never through device internals, so what the benchmark times
 * is the device model's whole path from port write to completed transfer. Between two polls the
 * polling thread yields its core, as a vCPU that exits or halts does: a tight in-process loop
 * would otherwise starve the drive's I/O thread on a small machine and keep the controller lock
 * busy far more than any guest can.
 *
 * <p>One thread (the caller, playing the vCPU) uses it; block requests complete on the drive's
 * I/O thread inside the model.
 */
final class IdeGuestDriver implements AutoCloseable {
    static final int RAM_SIZE = 16 << 20;
    /** libqos's first I/O BAR allocation and first guest allocation (qtest.md §6). */
    static final int BM_BASE = 0xC000;
    static final long BUFFER = 0x100000;
    static final int SECTOR = 512;
    /** Largest PRD entry (ide.md §8.3). */
    static final int PRD_MAX = 0x10000;

    static final int CONFIG_ADDRESS = 0xCF8;
    static final int CONFIG_DATA = 0xCFC;
    static final int PCI_COMMAND = 0x04;
    static final int PCI_BAR4 = 0x20;
    static final int PCI_COMMAND_IO_MEMORY_MASTER = 0x07;

    static final int BASE = PiixIde.PRIMARY_COMMAND_BASE;
    static final int CONTROL = PiixIde.PRIMARY_CONTROL;
    static final int REG_DATA = 0, REG_NSECTOR = 2, REG_LBA_LOW = 3, REG_LBA_MID = 4, REG_LBA_HIGH = 5;
    static final int REG_DEVICE = 6, REG_COMMAND = 7;
    static final int DEVICE_LBA = 0x40;

    static final int ST_BSY = 0x80, ST_DRDY = 0x40, ST_DF = 0x20, ST_DRQ = 0x08, ST_ERR = 0x01;
    static final int BM_COMMAND = 0, BM_STATUS = 2, BM_TABLE = 4;
    static final int BM_START = 0x01, BM_TO_MEMORY = 0x08;
    static final int BM_ACTIVE = 0x01, BM_INTERRUPT = 0x04;

    static final int CMD_READ_DMA_EXT = 0x25, CMD_WRITE_DMA_EXT = 0x35;
    static final int CMD_READ_MULTIPLE_EXT = 0x29, CMD_WRITE_MULTIPLE_EXT = 0x39;
    static final int CMD_SET_MULTIPLE = 0xC6;
    /** Sectors per DRQ block for READ/WRITE MULTIPLE: the largest QEMU allows. */
    static final int MULTIPLE_SECTORS = 16;

    /** A level-triggered line the guest side can look at from its own thread. */
    static final class Line implements IrqLine {
        private volatile boolean level;

        @Override
        public void set(boolean level) {
            this.level = level;
        }

        boolean level() {
            return level;
        }
    }

    final IoPortBus ports = new IoPortBus();
    final GuestMemory memory = new GuestMemory(RAM_SIZE);
    final Line irq14 = new Line();
    private final PiixIde ide;
    private final int transferBytes;
    private final long table;

    /**
     * Builds the machine and does what a driver does once: BAR4 at 0xC000, I/O + bus master on,
     * multiple mode 16 sectors, and a PRD table describing {@code transferBytes} of guest memory
     * at {@link #BUFFER} in 64 KiB entries.
     *
     * @param transferBytes bytes per command, a multiple of 512, at most 256 sectors × 512
     * @throws BenchFailure if the model does not accept the set-up
     */
    IdeGuestDriver(BlockDevice disk, int transferBytes) throws BenchFailure {
        this.transferBytes = transferBytes;
        this.table = BUFFER + ((transferBytes + 4095L) & ~4095L);
        ide = new PiixIde(ports, memory, irq14, new Line(), VmStateControl.NONE);
        PciHostBridge pci = new PciHostBridge();
        ports.map(CONFIG_ADDRESS, 8, pci);
        pci.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
        pci.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
        pci.attach(PiixIde.DEVFN, ide);
        ide.attach(0, 0, IdeDriveConfig.disk(disk));

        pciWrite(PCI_BAR4, BM_BASE | 1);
        pciWrite(PCI_COMMAND, pciRead(PCI_COMMAND) | PCI_COMMAND_IO_MEMORY_MASTER);
        if ((pciRead(PCI_COMMAND) & PCI_COMMAND_IO_MEMORY_MASTER) != PCI_COMMAND_IO_MEMORY_MASTER) {
            throw new BenchFailure("PCI command bits I/O|memory|master did not stick");
        }
        int entries = (transferBytes + PRD_MAX - 1) / PRD_MAX;
        for (int i = 0; i < entries; i++) {
            int length = Math.min(PRD_MAX, transferBytes - i * PRD_MAX);
            boolean last = i == entries - 1;
            memory.writeDword(table + 8L * i, (int) (BUFFER + (long) i * PRD_MAX));
            memory.writeDword(table + 8L * i + 4, (length & 0xFFFF) | (last ? 0x8000_0000 : 0));
        }
        outb(BASE + REG_DEVICE, DEVICE_LBA);
        outb(BASE + REG_NSECTOR, MULTIPLE_SECTORS);
        outb(BASE + REG_COMMAND, CMD_SET_MULTIPLE);
        checkStatus("SET MULTIPLE MODE", awaitNotBusy());
        inb(BASE + REG_COMMAND);
    }

    /** The guest buffer every transfer uses (the PRD table points at it). */
    MemorySpan buffer() {
        return memory.span(BUFFER, transferBytes);
    }

    // ---- raw access ----
    void outb(int port, int v) { ports.write(port, 1, v); }
    void outl(int port, int v) { ports.write(port, 4, v); }
    int inb(int port) { return ports.read(port, 1); }

    private int pciRead(int offset) {
        outl(CONFIG_ADDRESS, 0x8000_0000 | PiixIde.DEVFN << 8 | offset);
        return ports.read(CONFIG_DATA, 4);
    }

    private void pciWrite(int offset, int value) {
        outl(CONFIG_ADDRESS, 0x8000_0000 | PiixIde.DEVFN << 8 | offset);
        ports.write(CONFIG_DATA, 4, value);
    }

    /** LBA48 address and count: high bytes first so they land in the HOB shadows. */
    private void setLba48(long lba, int count) {
        outb(BASE + REG_NSECTOR, count >> 8);
        outb(BASE + REG_LBA_LOW, (int) (lba >> 24));
        outb(BASE + REG_LBA_MID, (int) (lba >> 32));
        outb(BASE + REG_LBA_HIGH, (int) (lba >> 40));
        outb(BASE + REG_NSECTOR, count);
        outb(BASE + REG_LBA_LOW, (int) lba);
        outb(BASE + REG_LBA_MID, (int) (lba >> 8));
        outb(BASE + REG_LBA_HIGH, (int) (lba >> 16));
    }

    /** Polls Alternate Status (no IRQ side effect) until BSY clears. */
    private int awaitNotBusy() {
        int st;
        while (((st = inb(CONTROL)) & ST_BSY) != 0) {
            Thread.yield();
        }
        return st;
    }

    private static void checkStatus(String what, int st) throws BenchFailure {
        if ((st & (ST_ERR | ST_DF)) != 0 || (st & ST_DRDY) == 0) {
            throw new BenchFailure(String.format("%s: ATA status 0x%02x (expected DRDY without ERR/DF)", what, st));
        }
    }

    /**
     * READ DMA EXT / WRITE DMA EXT of one transfer at {@code lba}, as ide-test's send_dma_request
     * and wait_dma_completion do it: stop the engine, clear Interrupt, point it at the table,
     * program the command, start the engine, poll BM status until it stops being busy, then read
     * the ATA status (which acknowledges the IRQ).
     */
    void dma(boolean write, long lba) throws BenchFailure {
        int bm = BM_BASE;
        outb(BASE + REG_DEVICE, DEVICE_LBA);
        outb(bm + BM_COMMAND, 0);
        outb(bm + BM_STATUS, BM_INTERRUPT);
        outl(bm + BM_TABLE, (int) table);
        setLba48(lba, transferBytes / SECTOR);
        outb(BASE + REG_COMMAND, write ? CMD_WRITE_DMA_EXT : CMD_READ_DMA_EXT);
        outb(bm + BM_COMMAND, BM_START | (write ? 0 : BM_TO_MEMORY));
        int bmStatus;
        while (((bmStatus = inb(bm + BM_STATUS)) & (BM_ACTIVE | BM_INTERRUPT)) == BM_ACTIVE) {
            Thread.yield();
        }
        int st = inb(BASE + REG_COMMAND);
        if (bmStatus != BM_INTERRUPT || (st & (ST_BSY | ST_DRQ)) != 0) {
            throw new BenchFailure(String.format("%s DMA at LBA %d: BM status 0x%02x, ATA status 0x%02x"
                    + " (expected BM 0x04 and no BSY/DRQ)", write ? "write" : "read", lba, bmStatus, st));
        }
        checkStatus((write ? "write" : "read") + " DMA at LBA " + lba, st);
    }

    /**
     * READ MULTIPLE EXT / WRITE MULTIPLE EXT of one transfer at {@code lba}: each 16-sector DRQ
     * block moves with one {@code rep insw}/{@code rep outsw} between the data port and the
     * guest buffer ({@link IoPortBus#readString}), as a driver's PIO loop does.
     */
    void pio(boolean write, long lba) throws BenchFailure {
        outb(BASE + REG_DEVICE, DEVICE_LBA);
        setLba48(lba, transferBytes / SECTOR);
        outb(BASE + REG_COMMAND, write ? CMD_WRITE_MULTIPLE_EXT : CMD_READ_MULTIPLE_EXT);
        int blockBytes = MULTIPLE_SECTORS * SECTOR;
        for (int at = 0; at < transferBytes; at += blockBytes) {
            int bytes = Math.min(blockBytes, transferBytes - at);
            int st = awaitNotBusy();
            if ((st & ST_DRQ) == 0) {
                throw new BenchFailure(String.format("%s MULTIPLE at LBA %d, byte %d: status 0x%02x (expected DRQ)",
                        write ? "write" : "read", lba, at, st));
            }
            if (!write) {
                inb(BASE + REG_COMMAND);
            }
            MemorySpan span = memory.span(BUFFER + at, bytes);
            int words = write ? ports.writeString(BASE + REG_DATA, 2, bytes / 2, span)
                    : ports.readString(BASE + REG_DATA, 2, bytes / 2, span);
            if (words != bytes / 2) {
                throw new BenchFailure("PIO at LBA " + lba + ": " + words + " of " + bytes / 2 + " words moved");
            }
            if (write) {
                awaitNotBusy();
                inb(BASE + REG_COMMAND);
            }
        }
        int st = awaitNotBusy();
        checkStatus((write ? "write" : "read") + " MULTIPLE at LBA " + lba, st);
    }

    @Override
    public void close() {
        ide.close();
    }
}
