package dev.ioemu.tools.bench;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.IdeDriveConfig;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.GuestDriverException;
import dev.ioemu.devices.ide.guest.InProcessTransport;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;

/**
 * A PIIX3 IDE controller with one disk on the primary master, wired in-process to a port bus,
 * guest RAM and IRQ lines, and driven by the guest-driver kit's {@link AtaDriver}: PCI
 * configuration, I/O ports and guest memory only. Completions are detected by polling, as QEMU's
 * ide-test does (shared/spec/ide.md §8.5 step 10), never through device internals, so what the
 * benchmark times is the device model's whole path from port write to completed transfer. While
 * the device is busy the polling thread yields its core ({@link InProcessTransport}'s wait), as a
 * vCPU that exits or halts does: a tight in-process loop would otherwise starve the drive's I/O
 * thread on a small machine and keep the controller lock busy far more than any guest can.
 *
 * <p>One thread (the caller, playing the vCPU) uses it; block requests complete on the drive's
 * I/O thread inside the model.
 */
final class InProcessIdeMachine implements AutoCloseable {
    static final int RAM_SIZE = 16 << 20;
    /** libqos's first guest allocation (qtest.md §6). */
    static final long BUFFER = 0x100000;
    static final int SECTOR = Ata.SECTOR_SIZE;
    /** Sectors per DRQ block for READ/WRITE MULTIPLE: the largest QEMU allows. */
    static final int MULTIPLE_SECTORS = Ata.MAX_MULT_SECTORS;

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
    private final AtaDriver driver;
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
    InProcessIdeMachine(BlockDevice disk, int transferBytes) throws BenchFailure {
        this.transferBytes = transferBytes;
        this.table = BUFFER + ((transferBytes + 4095L) & ~4095L);
        ide = new PiixIde(ports, memory, irq14, new Line(), VmStateControl.NONE);
        PciHostBridge pci = new PciHostBridge();
        ports.map(PciConfigAccess.CONFIG_ADDRESS, 8, pci);
        pci.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
        pci.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
        pci.attach(PiixIde.DEVFN, ide);
        ide.attach(0, 0, IdeDriveConfig.disk(disk));
        InProcessTransport transport = new InProcessTransport(ports, memory, irq -> irq == 14 && irq14.level(),
                Thread::yield);
        driver = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, PciConfigAccess.IO_WINDOW_BASE);
        try {
            AtaDriver.setUpController(new PciConfigAccess(transport), PciConfigAccess.IO_WINDOW_BASE);
            driver.writePrdTable(table, PrdDescriptor.covering(BUFFER, transferBytes));
            int st = driver.setMultipleMode(MULTIPLE_SECTORS);
            if ((st & (Ata.STATUS_ERR | Ata.STATUS_DF)) != 0 || (st & Ata.STATUS_DRDY) == 0) {
                throw new BenchFailure(String.format("SET MULTIPLE MODE: ATA status 0x%02x (expected DRDY without"
                        + " ERR/DF)", st));
            }
        } catch (GuestDriverException e) {
            throw new BenchFailure("set-up: " + e.getMessage(), e);
        }
    }

    /** The guest buffer every transfer uses (the PRD table points at it). */
    MemorySpan buffer() {
        return memory.span(BUFFER, transferBytes);
    }

    /** READ DMA EXT / WRITE DMA EXT of one transfer at {@code lba} (the kit's ide-test sequence). */
    void dma(boolean write, long lba) throws BenchFailure {
        DmaCompletion c;
        try {
            c = driver.dma(DmaRequest.of(write ? Ata.CMD_WRITE_DMA_EXT : Ata.CMD_READ_DMA_EXT, lba,
                    transferBytes / SECTOR, table));
        } catch (GuestDriverException e) {
            throw new BenchFailure(e.getMessage(), e);
        }
        if (!c.succeeded()) {
            throw new BenchFailure(String.format("%s DMA at LBA %d: %s (expected BM 0x04, DRDY without BSY/DRQ/DF/ERR)",
                    write ? "write" : "read", lba, c));
        }
    }

    /** READ MULTIPLE EXT / WRITE MULTIPLE EXT of one transfer at {@code lba}, a {@code rep insw/outsw} per DRQ block. */
    void pio(boolean write, long lba) throws BenchFailure {
        try {
            driver.pioMultipleExt(write, lba, transferBytes / SECTOR, MULTIPLE_SECTORS, BUFFER);
        } catch (GuestDriverException e) {
            throw new BenchFailure(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        ide.close();
    }
}
