package dev.ioemu.tests.peer;

import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.pci.PciConfigSpace;

/**
 * Writes ATA/BMDMA/PCI register sequences into a {@link Script} the way a guest driver (and QEMU's
 * ide-test) issues them (shared/spec/ide.md §1, §8.5). Waits are polls of the alternate status,
 * which does not touch the IRQ line, until BSY clears.
 */
public final class AtaScript {
    public static final int CMD = AtaDriver.Channel.PRIMARY.commandBase;
    public static final int CTL = AtaDriver.Channel.PRIMARY.control;
    public static final int CMD2 = AtaDriver.Channel.SECONDARY.commandBase;
    public static final int CTL2 = AtaDriver.Channel.SECONDARY.control;
    /** BAR4 as {@link #setUpPci} programs it (libqos's first I/O allocation). */
    public static final int BM = PciConfigAccess.IO_WINDOW_BASE;
    public static final long PRD = 0x100000;
    public static final long BUF = 0x110000;
    public static final long TRIM_BUF = 0x140000;
    public static final int DEVFN_IDE = AtaDriver.PIIX_IDE_DEVFN;
    private static final int POLL_TRIES = 200_000;
    private static final int BAR4 = PciConfigSpace.BASE_ADDRESS_0 + 4 * AtaDriver.BUS_MASTER_BAR;
    private static final int IO_MEMORY_MASTER = PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY
            | PciConfigSpace.COMMAND_MASTER;
    public static final Step.Poll NOT_BUSY = new Step.Poll(Ata.STATUS_BSY, 0x00, true, POLL_TRIES);
    /** BM status: Active clear or Interrupt set (ide-test's "(status & 0x05) != 0x01"). */
    public static final Step.Poll BM_DONE = new Step.Poll(Ata.BM_STATUS_ACTIVE | Ata.BM_STATUS_INTERRUPT,
            Ata.BM_STATUS_ACTIVE, false, POLL_TRIES);

    final Script script;
    /** The unit (0 master, 1 slave) the address helpers select in the Device register. */
    public int unit;

    public AtaScript(Script script) {
        this.script = script;
    }

    public static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    public void send(String line) {
        script.add(Step.send(line));
    }

    public void send(String line, String tag) {
        script.add(Step.send(line, tag));
    }

    /** A request that may start asynchronous work (its IRQ can arrive later). */
    public void start(String line) {
        script.add(Step.start(line));
    }

    public void waitNotBusy(int ctl) {
        script.add(Step.poll("inb " + hex(ctl), NOT_BUSY));
    }

    public void pciWrite(int devfn, int offset, String width, long value) {
        send("outl " + hex(PciConfigAccess.CONFIG_ADDRESS) + " " + hex(0x80000000L | devfn << 8 | offset));
        send("out" + width + " " + hex(PciConfigAccess.CONFIG_DATA) + " " + hex(value));
    }

    public void pciRead(int devfn, int offset, String width) {
        send("outl " + hex(PciConfigAccess.CONFIG_ADDRESS) + " " + hex(0x80000000L | devfn << 8 | offset));
        send("in" + width + " " + hex(PciConfigAccess.CONFIG_DATA));
    }

    /** Interception, the IDE function's identity, BAR4 sizing and assignment, I/O|memory|master. */
    public void setUpPci() {
        send("endianness");
        send("irq_intercept_in ioapic");
        for (int devfn : new int[] {0x00, 0x08, DEVFN_IDE, 0x0a, 0x10}) {
            pciRead(devfn, 0x00, "l");
            pciRead(devfn, 0x08, "l");
        }
        pciRead(DEVFN_IDE, 0x02, "w");   // unaligned offset in 0xcf8, as libqos does
        pciWrite(DEVFN_IDE, BAR4, "l", 0xffffffffL);
        pciRead(DEVFN_IDE, BAR4, "l");
        pciWrite(DEVFN_IDE, BAR4, "l", BM | 1);
        pciWrite(DEVFN_IDE, PciConfigSpace.COMMAND, "w", IO_MEMORY_MASTER);
        pciRead(DEVFN_IDE, PciConfigSpace.COMMAND, "w");
        pciRead(DEVFN_IDE, PciConfigSpace.STATUS, "w");
    }

    public void busMaster(boolean on) {
        pciWrite(DEVFN_IDE, PciConfigSpace.COMMAND, "w",
                on ? IO_MEMORY_MASTER : PciConfigSpace.COMMAND_IO | PciConfigSpace.COMMAND_MEMORY);
    }

    /** Error … Device, alternate status, then status (which lowers the IRQ). */
    public void taskFile(int cmd, int ctl) {
        for (int r = 1; r <= 6; r++) {
            send("inb " + hex(cmd + r));
        }
        send("inb " + hex(ctl));
        send("inb " + hex(cmd + 7));
    }

    public void address28(int cmd, long lba, int count) {
        send("outb " + hex(cmd + 2) + " " + hex(count & 0xff));
        send("outb " + hex(cmd + 3) + " " + hex(lba & 0xff));
        send("outb " + hex(cmd + 4) + " " + hex(lba >> 8 & 0xff));
        send("outb " + hex(cmd + 5) + " " + hex(lba >> 16 & 0xff));
        send("outb " + hex(cmd + 6) + " " + hex(0xe0 | unit << 4 | (lba >> 24 & 0x0f)));
    }

    /**
     * CHS addressing (Device bit 6 clear) of {@code lba} under a geometry of {@code heads} heads
     * and {@code sectors} sectors per track (QEMU's default for a small disk: 16 and 63).
     */
    public void addressChs(int cmd, long lba, int count, int heads, int sectors) {
        long cylinder = lba / ((long) heads * sectors);
        long head = lba / sectors % heads;
        long sector = lba % sectors + 1;
        send("outb " + hex(cmd + 2) + " " + hex(count & 0xff));
        send("outb " + hex(cmd + 3) + " " + hex(sector & 0xff));
        send("outb " + hex(cmd + 4) + " " + hex(cylinder & 0xff));
        send("outb " + hex(cmd + 5) + " " + hex(cylinder >> 8 & 0xff));
        send("outb " + hex(cmd + 6) + " " + hex(0xa0 | unit << 4 | head & 0x0f));
    }

    /** High-order bytes first, so each register's HOB copy holds them (ide.md §1.4). */
    public void address48(int cmd, long lba, int count) {
        send("outb " + hex(cmd + 2) + " " + hex(count >> 8 & 0xff));
        send("outb " + hex(cmd + 2) + " " + hex(count & 0xff));
        send("outb " + hex(cmd + 3) + " " + hex(lba >> 24 & 0xff));
        send("outb " + hex(cmd + 3) + " " + hex(lba & 0xff));
        send("outb " + hex(cmd + 4) + " " + hex(lba >> 32 & 0xff));
        send("outb " + hex(cmd + 4) + " " + hex(lba >> 8 & 0xff));
        send("outb " + hex(cmd + 5) + " " + hex(lba >> 40 & 0xff));
        send("outb " + hex(cmd + 5) + " " + hex(lba >> 16 & 0xff));
        send("outb " + hex(cmd + 6) + " " + hex(0x40 | unit << 4));
    }

    /** Writes the command register and waits until BSY clears. */
    public void command(int opcode) {
        start("outb " + hex(CMD + Ata.REG_COMMAND) + " " + hex(opcode));
        waitNotBusy(CTL);
    }

    /** Status (lowers the IRQ) and Error. */
    public void status() {
        send("inb " + hex(CMD + Ata.REG_STATUS));
        send("inb " + hex(CMD + Ata.REG_ERROR));
    }

    /**
     * {@code count} data-port requests; the last one is unsettled because finishing a DRQ block
     * starts the next sector's I/O (reads) or the write of this one, whose IRQ comes later.
     */
    public void dataBlock(String request, int count) {
        for (int i = 0; i < count; i++) {
            if (i == count - 1) {
                start(request);
            } else {
                send(request);
            }
        }
    }

    /**
     * IDENTIFY DEVICE on a primary unit. With {@code stringsMayDiffer} (no model/serial/ver given to
     * both peers) the words are tagged so AllowedDifferences can excuse the string fields.
     */
    public void identify(int device, boolean stringsMayDiffer) {
        send("outb " + hex(CMD + Ata.REG_DEVICE) + " " + hex(device));
        command(Ata.CMD_IDENTIFY_DEVICE);
        status();
        for (int w = 0; w < 256; w++) {
            send("inw " + hex(CMD), stringsMayDiffer ? "identify:word:" + w : "");
        }
        status();
    }

    /** Writes a PRD table of {address, byteCount, eot} entries at {@link #PRD}. */
    public void prdTable(long[][] entries) {
        StringBuilder hex = new StringBuilder("0x");
        for (long[] e : entries) {
            long addr = e[0];
            long count = e[1] & 0xffff;
            long flags = e[2] != 0 ? 0x8000 : 0;
            long[] bytes = {addr, addr >> 8, addr >> 16, addr >> 24, count, count >> 8, 0, flags >> 8};
            for (long b : bytes) {
                hex.append(String.format("%02x", b & 0xff));
            }
        }
        send("write " + hex(PRD) + " " + hex(entries.length * 8L) + " " + hex);
    }

    /** ide-test's BMDMA request sequence (ide.md §8.5), then the final BM and ATA status. */
    public void dmaRequest(int opcode, boolean ext, long lba, int count, long[][] table, boolean toMemory,
                           boolean stopAtOnce) {
        send("outb " + hex(CMD + 6) + " " + hex(ext ? 0x40 | unit << 4 : 0xe0 | unit << 4 | (lba >> 24 & 0x0f)));
        send("outb " + hex(BM) + " 0x00");
        send("outb " + hex(BM + 2) + " 0x04");
        prdTable(table);
        send("outl " + hex(BM + 4) + " " + hex(PRD));
        if (ext) {
            address48(CMD, lba, count);
        } else {
            address28(CMD, lba, count);
        }
        start("outb " + hex(CMD + 7) + " " + hex(opcode));
        start("outb " + hex(BM) + " " + (toMemory ? "0x09" : "0x01"));
        if (stopAtOnce) {
            start("outb " + hex(BM) + " 0x00");
        }
        script.add(Step.poll("inb " + hex(BM + 2), BM_DONE));
        waitNotBusy(CTL);
        send("inb " + hex(BM + 2));
        status();
        send("outb " + hex(BM) + " 0x00");
        send("inb " + hex(BM + 2));
    }

    /**
     * SRST rising edge then release; waits for the reset to finish and reads the signature. QEMU
     * runs the reset in a bottom half after the write, so both writes are unsettled.
     */
    public void softReset() {
        start("outb " + hex(CTL) + " 0x04");
        start("outb " + hex(CTL) + " 0x00");
        waitNotBusy(CTL);
        taskFile(CMD, CTL);
    }

    /** Fills {@code bytes} of guest memory at {@code addr} with a pattern byte. */
    public void memset(long addr, long bytes, int value) {
        send("memset " + hex(addr) + " " + hex(bytes) + " " + hex(value));
    }

    public void b64read(long addr, long bytes) {
        send("b64read " + hex(addr) + " " + hex(bytes));
    }
}
