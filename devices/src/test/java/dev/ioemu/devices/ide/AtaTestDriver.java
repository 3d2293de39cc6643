package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.DmaCompletion;
import dev.ioemu.devices.ide.guest.DmaRequest;
import dev.ioemu.devices.ide.guest.InProcessTransport;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.ide.guest.PrdDescriptor;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;

import java.util.ArrayList;
import java.util.List;

import static dev.ioemu.devices.ide.Ata.STATUS_BSY;
import static dev.ioemu.devices.ide.Ata.STATUS_DRDY;
import static dev.ioemu.devices.ide.Ata.STATUS_DRQ;
import static dev.ioemu.devices.ide.Ata.STATUS_DSC;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The in-process machine the device tests drive (port bus, 64 MiB of guest RAM, PCI host, the
 * PIIX3 IDE function, recording IRQ lines) and the guest driver kit's {@link AtaDriver} on it,
 * plus the assertions the tests share. Waits are deterministic: the transport's
 * {@code awaitProgress} is {@link PiixIde#drain()}, never a sleep.
 */
final class AtaTestDriver implements AutoCloseable {
    static final int RAM_SIZE = 64 << 20;
    /** libqos's first I/O BAR allocation. */
    static final int BM_BASE = PciConfigAccess.IO_WINDOW_BASE;

    final IoPortBus bus = new IoPortBus();
    final GuestMemory memory = new GuestMemory(RAM_SIZE);
    final RecordingIrq irq14 = new RecordingIrq();
    final RecordingIrq irq15 = new RecordingIrq();
    final List<String> stopRequests = new ArrayList<>();
    final PciHostBridge pci = new PciHostBridge();
    final PiixIde ide;
    final InProcessTransport transport;
    final PciConfigAccess config;
    /** The kit's driver for the channel under test. */
    AtaDriver driver;

    /** The channel under test: command block, control port, BM register block, IRQ. */
    int base = PiixIde.PRIMARY_COMMAND_BASE;
    int ctrl = PiixIde.PRIMARY_CONTROL;
    int bm = BM_BASE;
    RecordingIrq irq = irq14;

    AtaTestDriver() {
        VmStateControl vm = reason -> {
            synchronized (stopRequests) {
                stopRequests.add(reason);
            }
        };
        ide = new PiixIde(bus, memory, irq14, irq15, vm);
        bus.map(PciConfigAccess.CONFIG_ADDRESS, 8, pci);
        pci.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
        pci.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
        pci.attach(PiixIde.DEVFN, ide);
        transport = new InProcessTransport(bus, memory, n -> (n == 15 ? irq15 : irq14).level(), ide::drain);
        config = new PciConfigAccess(transport);
        driver = new AtaDriver(transport, AtaDriver.Channel.PRIMARY, BM_BASE);
    }

    static AtaTestDriver withDisk(MemoryBlockDevice disk) {
        AtaTestDriver d = new AtaTestDriver();
        d.ide.attach(0, 0, IdeDriveConfig.disk(disk));
        d.enableBusMaster();
        return d;
    }

    /** Switches the helpers to the secondary channel. */
    AtaTestDriver secondary() {
        driver = new AtaDriver(transport, AtaDriver.Channel.SECONDARY, BM_BASE);
        base = PiixIde.SECONDARY_COMMAND_BASE;
        ctrl = PiixIde.SECONDARY_CONTROL;
        bm = driver.busMasterBase();
        irq = irq15;
        return this;
    }

    // ---- raw ports ----
    void outb(int port, int v) { transport.outb(port, v); }
    void outw(int port, int v) { transport.outw(port, v); }
    void outl(int port, int v) { transport.outl(port, v); }
    int inb(int port) { return transport.inb(port); }
    int inw(int port) { return transport.inw(port); }
    int inl(int port) { return transport.inl(port); }

    int pciRead(int devfn, int offset, int size) { return config.read(devfn, offset, size); }
    void pciWrite(int devfn, int offset, int size, int value) { config.write(devfn, offset, size, value); }

    /** get_pci_device(): size BAR4, assign 0xC000, enable I/O | memory | bus master (the kit checks each). */
    void enableBusMaster() {
        AtaDriver.setUpController(config, BM_BASE);
    }

    // ---- ATA registers ----
    int status() { return driver.status(); }
    int altStatus() { return driver.altStatus(); }
    int error() { return driver.error(); }
    int sectorCount() { return driver.sectorCount(); }
    void select(int unit) { driver.select(unit); }
    void command(int opcode) { driver.command(opcode); }
    void setLba28(long lba, int count) { driver.setLba28(lba, count); }
    void setLba48(long lba, int count) { driver.setLba48(lba, count); }
    int[] readWords(int n) { return driver.readWords(n); }

    /** Waits for the device's I/O to finish and returns the alternate status (IRQ untouched). */
    int awaitNotBusy() {
        int st = driver.awaitNotBusy();
        assertEquals(0, st & STATUS_BSY, () -> String.format("still BSY: 0x%02x", st));
        return st;
    }

    static void assertBitsSet(int value, int bits) {
        assertEquals(bits, value & bits, () -> String.format("expected bits 0x%02x set in 0x%02x", bits, value));
    }

    static void assertBitsClear(int value, int bits) {
        assertEquals(0, value & bits, () -> String.format("expected bits 0x%02x clear in 0x%02x", bits, value));
    }

    // ---- PIO (the kit checks DRQ and the IRQ per block; the final status is checked exactly here) ----
    int[] identify() {
        command(Ata.CMD_IDENTIFY_DEVICE);
        assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, awaitNotBusy());
        int[] words = readWords(Ata.IDENTIFY_WORDS);
        assertEquals(STATUS_DRDY | STATUS_DSC, altStatus());
        return words;
    }

    byte[] readSectorsPio(long lba, int n) {
        byte[] out = driver.readSectorsPio(lba, n);
        assertEquals(STATUS_DRDY | STATUS_DSC, altStatus(), "status after the last PIO-in block");
        return out;
    }

    void writeSectorsPio(long lba, byte[] data) {
        driver.writeSectorsPio(lba, data);
        assertEquals(STATUS_DRDY | STATUS_DSC, altStatus());
    }

    // ---- bus-master DMA (ide.md §8.5) ----
    /** Writes PRD entries {address, byteCount, eot(0/1)} at {@code table}. */
    void writePrdTable(long table, long[]... entries) {
        List<PrdDescriptor> prds = new ArrayList<>();
        for (long[] e : entries) {
            prds.add(new PrdDescriptor(e[0], (int) e[1] & 0xFFFF, e[2] != 0));
        }
        driver.writePrdTable(table, prds);
    }

    /**
     * send_dma_request + wait_dma_completion: returns the BM status once the engine is done
     * (Active clear, or Interrupt with Active kept by a long table), after checking that the IRQ
     * level matches BM Interrupt and that the final status read shows DRDY without BSY/DRQ.
     */
    int dmaRequest(int cmd, long lba, int count, long table, boolean stopImmediately) {
        DmaCompletion c = driver.dma(DmaRequest.of(cmd, lba, count, table).stoppedAtOnce(stopImmediately)
                .withIrqSamples());
        assertEquals((c.bmStatus() & Ata.BM_STATUS_INTERRUPT) != 0, c.irqAtCompletion(), "IRQ level follows BM Interrupt");
        assertBitsSet(c.ataStatus(), STATUS_DRDY);
        assertBitsClear(c.ataStatus(), STATUS_BSY | STATUS_DRQ);
        assertEquals(false, c.irqAfterStatusRead(), "status read lowers the IRQ");
        return c.bmStatus();
    }

    void assertNoInternalErrors() {
        assertEquals(List.of(), ide.internalErrors(), "device-model internal errors");
    }

    @Override
    public void close() {
        ide.close();
    }
}
