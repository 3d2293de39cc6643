package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives the PIIX3 IDE model the way a guest driver (and QEMU's tests/qtest/ide-test.c) does:
 * only through I/O ports, PCI configuration, guest memory and the IRQ lines. Waits are
 * deterministic: {@link PiixIde#drain()} instead of sleeps.
 */
final class AtaTestDriver implements AutoCloseable {
    static final int RAM_SIZE = 64 << 20;
    static final int CONFIG_ADDRESS = 0xCF8;
    static final int CONFIG_DATA = 0xCFC;
    /** libqos's first I/O BAR allocation. */
    static final int BM_BASE = 0xC000;

    static final int ST_BSY = 0x80, ST_DRDY = 0x40, ST_DF = 0x20, ST_DSC = 0x10, ST_DRQ = 0x08, ST_ERR = 0x01;
    static final int ER_ABRT = 0x04;
    static final int BM_ACTIVE = 0x01, BM_INTERRUPT = 0x04;

    static final int CMD_READ_SECTORS = 0x20, CMD_READ_SECTORS_EXT = 0x24, CMD_READ_DMA_EXT = 0x25;
    static final int CMD_WRITE_SECTORS = 0x30, CMD_WRITE_SECTORS_EXT = 0x34, CMD_WRITE_DMA_EXT = 0x35;
    static final int CMD_READ_DMA = 0xC8, CMD_WRITE_DMA = 0xCA, CMD_DSM = 0x06;
    static final int CMD_READ_MULTIPLE = 0xC4, CMD_WRITE_MULTIPLE = 0xC5, CMD_SET_MULTIPLE = 0xC6;
    static final int CMD_IDENTIFY = 0xEC, CMD_FLUSH_CACHE = 0xE7, CMD_FLUSH_CACHE_EXT = 0xEA;
    static final int CMD_SET_FEATURES = 0xEF, CMD_DIAGNOSTIC = 0x90;

    final IoPortBus bus = new IoPortBus();
    final GuestMemory memory = new GuestMemory(RAM_SIZE);
    final RecordingIrq irq14 = new RecordingIrq();
    final RecordingIrq irq15 = new RecordingIrq();
    final List<String> stopRequests = new ArrayList<>();
    final PciHostBridge pci = new PciHostBridge();
    final PiixIde ide;

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
        bus.map(CONFIG_ADDRESS, 8, pci);
        pci.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
        pci.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
        pci.attach(PiixIde.DEVFN, ide);
    }

    static AtaTestDriver withDisk(MemoryBlockDevice disk) {
        AtaTestDriver d = new AtaTestDriver();
        d.ide.attach(0, 0, IdeDriveConfig.disk(disk));
        d.enableBusMaster();
        return d;
    }

    /** Switches the helpers to the secondary channel. */
    AtaTestDriver secondary() {
        base = PiixIde.SECONDARY_COMMAND_BASE;
        ctrl = PiixIde.SECONDARY_CONTROL;
        bm = BM_BASE + 8;
        irq = irq15;
        return this;
    }

    // ---- raw ports ----
    void outb(int port, int v) { bus.write(port, 1, v); }
    void outw(int port, int v) { bus.write(port, 2, v); }
    void outl(int port, int v) { bus.write(port, 4, v); }
    int inb(int port) { return bus.read(port, 1); }
    int inw(int port) { return bus.read(port, 2); }
    int inl(int port) { return bus.read(port, 4); }

    // ---- PCI (libqos style: offset latched in 0xCF8, data always at 0xCFC) ----
    int pciRead(int devfn, int offset, int size) {
        outl(CONFIG_ADDRESS, 0x8000_0000 | devfn << 8 | offset);
        return bus.read(CONFIG_DATA, size);
    }

    void pciWrite(int devfn, int offset, int size, int value) {
        outl(CONFIG_ADDRESS, 0x8000_0000 | devfn << 8 | offset);
        bus.write(CONFIG_DATA, size, value);
    }

    /** get_pci_device(): size BAR4, assign 0xC000, enable I/O | memory | bus master. */
    void enableBusMaster() {
        pciWrite(PiixIde.DEVFN, 0x20, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFF1, pciRead(PiixIde.DEVFN, 0x20, 4), "BAR4 sizing: 16 bytes of I/O");
        pciWrite(PiixIde.DEVFN, 0x20, 4, BM_BASE | 1);
        int cmd = pciRead(PiixIde.DEVFN, 0x04, 2) | 0x7;
        pciWrite(PiixIde.DEVFN, 0x04, 2, cmd);
        assertEquals(0x7, pciRead(PiixIde.DEVFN, 0x04, 2) & 0x7, "I/O, memory and bus master stick");
    }

    // ---- ATA registers ----
    int status() { return inb(base + 7); }
    int altStatus() { return inb(ctrl); }
    int error() { return inb(base + 1); }
    int sectorCount() { return inb(base + 2); }

    void select(int unit) { outb(base + 6, 0xA0 | 0x40 | unit << 4); }

    void command(int opcode) { outb(base + 7, opcode); }

    /** LBA28 address and count, unit 0 unless selected otherwise (keeps the DEV bit). */
    void setLba28(long lba, int count) {
        int dev = inb(base + 6) & 0x10;
        outb(base + 2, count & 0xFF);
        outb(base + 3, (int) lba & 0xFF);
        outb(base + 4, (int) (lba >> 8) & 0xFF);
        outb(base + 5, (int) (lba >> 16) & 0xFF);
        outb(base + 6, 0xE0 | dev | (int) (lba >> 24) & 0x0F);
    }

    /** LBA48: high bytes first so they land in the HOB shadows. */
    void setLba48(long lba, int count) {
        int dev = inb(base + 6) & 0x10;
        outb(base + 2, (count >> 8) & 0xFF);
        outb(base + 3, (int) (lba >> 24) & 0xFF);
        outb(base + 4, (int) (lba >> 32) & 0xFF);
        outb(base + 5, (int) (lba >> 40) & 0xFF);
        outb(base + 2, count & 0xFF);
        outb(base + 3, (int) lba & 0xFF);
        outb(base + 4, (int) (lba >> 8) & 0xFF);
        outb(base + 5, (int) (lba >> 16) & 0xFF);
        outb(base + 6, 0x40 | dev);
    }

    /** Waits for the device's I/O to finish and returns the alternate status (IRQ untouched). */
    int awaitNotBusy() {
        ide.drain();
        int st = altStatus();
        assertEquals(0, st & ST_BSY, () -> String.format("still BSY: 0x%02x", st));
        return st;
    }

    static void assertBitsSet(int value, int bits) {
        assertEquals(bits, value & bits, () -> String.format("expected bits 0x%02x set in 0x%02x", bits, value));
    }

    static void assertBitsClear(int value, int bits) {
        assertEquals(0, value & bits, () -> String.format("expected bits 0x%02x clear in 0x%02x", bits, value));
    }

    // ---- PIO ----
    int[] readWords(int n) {
        int[] w = new int[n];
        for (int i = 0; i < n; i++) {
            w[i] = inw(base);
        }
        return w;
    }

    int[] identify() {
        command(CMD_IDENTIFY);
        int st = awaitNotBusy();
        assertEquals(ST_DRDY | ST_DSC | ST_DRQ, st);
        int[] words = readWords(256);
        assertEquals(ST_DRDY | ST_DSC, altStatus());
        return words;
    }

    /** READ SECTORS with one {@code inw} per word, checking DRQ and the IRQ per block. */
    byte[] readSectorsPio(long lba, int n) {
        setLba28(lba, n);
        command(CMD_READ_SECTORS);
        byte[] out = new byte[n * 512];
        for (int s = 0; s < n; s++) {
            awaitNotBusy();
            assertTrue(irq.level(), "IRQ for PIO-in block " + s);
            assertBitsSet(status(), ST_DRQ | ST_DRDY);
            for (int i = 0; i < 256; i++) {
                int w = inw(base);
                out[s * 512 + 2 * i] = (byte) w;
                out[s * 512 + 2 * i + 1] = (byte) (w >> 8);
            }
        }
        int st = awaitNotBusy();
        assertEquals(ST_DRDY | ST_DSC, st, "status after the last PIO-in block");
        return out;
    }

    /** WRITE SECTORS with one {@code outw} per word; waits for each block's IRQ. */
    void writeSectorsPio(long lba, byte[] data) {
        int n = data.length / 512;
        setLba28(lba, n);
        command(CMD_WRITE_SECTORS);
        for (int s = 0; s < n; s++) {
            assertBitsSet(altStatus(), ST_DRQ);
            for (int i = 0; i < 256; i++) {
                outw(base, (data[s * 512 + 2 * i] & 0xFF) | (data[s * 512 + 2 * i + 1] & 0xFF) << 8);
            }
            awaitNotBusy();
            assertTrue(irq.level(), "IRQ after PIO-out block " + s);
            status();
        }
        assertEquals(ST_DRDY | ST_DSC, altStatus());
    }

    // ---- bus-master DMA (ide.md §8.5) ----
    /** Writes PRD entries {address, byteCount, eot(0/1)} at {@code table}. */
    void writePrdTable(long table, long[]... entries) {
        for (int i = 0; i < entries.length; i++) {
            memory.writeDword(table + 8L * i, (int) entries[i][0]);
            memory.writeDword(table + 8L * i + 4, (int) entries[i][1] | (entries[i][2] != 0 ? 0x8000_0000 : 0));
        }
    }

    /**
     * send_dma_request + wait_dma_completion: returns the BM status once the engine is done
     * (Active clear, or Interrupt with Active kept by a long table), after checking that the IRQ
     * level matches BM Interrupt and that the final status read shows DRDY without BSY/DRQ.
     */
    int dmaRequest(int cmd, long lba, int count, long table, boolean stopImmediately) {
        outb(base + 6, 0x40);
        outb(bm, 0x00);
        outb(bm + 2, 0x04);
        outl(bm + 4, (int) table);
        if (cmd == CMD_DSM) {
            outb(base + 1, 0x01);
        }
        outb(base + 2, count & 0xFF);
        outb(base + 3, (int) lba & 0xFF);
        outb(base + 4, (int) (lba >> 8) & 0xFF);
        outb(base + 5, (int) (lba >> 16) & 0xFF);
        command(cmd);
        boolean toMemory = cmd == CMD_READ_DMA || cmd == CMD_READ_DMA_EXT;
        outb(bm, 0x01 | (toMemory ? 0x08 : 0));
        if (stopImmediately) {
            outb(bm, 0x00);
        }
        ide.drain();
        int bmStatus = inb(bm + 2);
        assertEquals((bmStatus & BM_INTERRUPT) != 0, irq.level(), "IRQ level follows BM Interrupt");
        int st = status();
        assertBitsSet(st, ST_DRDY);
        assertBitsClear(st, ST_BSY | ST_DRQ);
        assertEquals(false, irq.level(), "status read lowers the IRQ");
        if ((bmStatus & BM_ACTIVE) != 0) {
            outb(bm, 0x00);
        }
        return bmStatus;
    }

    void assertNoInternalErrors() {
        assertEquals(List.of(), ide.internalErrors(), "device-model internal errors");
    }

    @Override
    public void close() {
        ide.close();
    }
}
