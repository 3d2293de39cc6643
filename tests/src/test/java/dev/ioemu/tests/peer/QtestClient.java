package dev.ioemu.tests.peer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * libqtest's calls in Java (shared/spec/qtest.md §4, §6): port and memory accessors that fail on
 * anything but an OK reply, an IRQ level table fed by the IRQ lines, {@link #getIrq} with
 * libqtest's {@code inb 0x0} flush, and libqos's PCI helpers (BAR4 allocated anew from 0xC000 on
 * every lookup, as libqos does).
 */
public final class QtestClient implements AutoCloseable {
    private final QtestPeer peer;
    private final boolean[] irqLevels = new boolean[256];
    private int nextIoBar = 0xc000;

    private QtestClient(QtestPeer peer) {
        this.peer = peer;
    }

    public static QtestClient launch(QtestPeer.Kind kind, List<String> args, Path workDir) throws IOException {
        return new QtestClient(QtestPeer.launch(kind, args, workDir));
    }

    /** Sends one request, applies IRQ lines, returns the reply; anything but OK fails. */
    public String request(String line) throws IOException {
        Exchange e = peer.send(Step.send(line), line);
        for (String irq : e.irqLines()) {
            String[] w = irq.split(" ");
            irqLevels[Integer.parseInt(w[2])] = w[1].equals("raise");
        }
        if (!e.reply().startsWith("OK")) {
            throw new AssertionError(peer.kind() + ": '" + line + "' answered '" + e.reply() + "'");
        }
        return e.reply();
    }

    private long value(String line) throws IOException {
        return Long.parseUnsignedLong(request(line).substring(5), 16);
    }

    public int inb(int port) throws IOException {
        return (int) value("inb 0x" + Integer.toHexString(port));
    }

    public int inw(int port) throws IOException {
        return (int) value("inw 0x" + Integer.toHexString(port));
    }

    public int inl(int port) throws IOException {
        return (int) value("inl 0x" + Integer.toHexString(port));
    }

    public void outb(int port, int v) throws IOException {
        request("outb 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(v & 0xff));
    }

    public void outw(int port, int v) throws IOException {
        request("outw 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(v & 0xffff));
    }

    public void outl(int port, int v) throws IOException {
        request("outl 0x" + Integer.toHexString(port) + " 0x" + Integer.toHexString(v));
    }

    /** {@code qtest_memwrite}. */
    public void memwrite(long addr, byte[] data) throws IOException {
        request("write 0x" + Long.toHexString(addr) + " 0x" + Integer.toHexString(data.length) + " 0x"
                + HexFormat.of().formatHex(data));
    }

    /** {@code qtest_memread}. */
    public byte[] memread(long addr, int size) throws IOException {
        String r = request("read 0x" + Long.toHexString(addr) + " 0x" + Integer.toHexString(size));
        return HexFormat.of().parseHex(r.substring(5));
    }

    public void memset(long addr, int size, int value) throws IOException {
        request("memset 0x" + Long.toHexString(addr) + " 0x" + Integer.toHexString(size) + " 0x"
                + Integer.toHexString(value & 0xff));
    }

    public void irqInterceptIn(String path) throws IOException {
        request("irq_intercept_in " + path);
    }

    /** {@code qtest_get_irq}: flush pending IRQ lines with a dummy {@code inb 0x0}, then the table. */
    public boolean getIrq(int n) throws IOException {
        inb(0x0);
        return irqLevels[n];
    }

    private static int address(int devfn, int offset) {
        return 0x80000000 | devfn << 8 | offset;
    }

    public int pciReadW(int devfn, int offset) throws IOException {
        outl(0xcf8, address(devfn, offset));
        return inw(0xcfc);
    }

    public int pciReadL(int devfn, int offset) throws IOException {
        outl(0xcf8, address(devfn, offset));
        return inl(0xcfc);
    }

    public void pciWriteW(int devfn, int offset, int v) throws IOException {
        outl(0xcf8, address(devfn, offset));
        outw(0xcfc, v);
    }

    public void pciWriteL(int devfn, int offset, int v) throws IOException {
        outl(0xcf8, address(devfn, offset));
        outl(0xcfc, v);
    }

    /** {@code qpci_iomap} for an I/O BAR: size it, assign the next range of the I/O window. */
    public int iomap(int devfn, int bar) throws IOException {
        int offset = 0x10 + 4 * bar;
        pciWriteL(devfn, offset, 0xffffffff);
        int mask = pciReadL(devfn, offset);
        if ((mask & 1) == 0) {
            throw new AssertionError("BAR " + bar + " of devfn " + devfn + " is not an I/O BAR: 0x"
                    + Integer.toHexString(mask));
        }
        int size = Integer.lowestOneBit(mask & ~3);
        int base = (nextIoBar + size - 1) & -size;
        nextIoBar = base + size;
        pciWriteL(devfn, offset, base | 1);
        return base;
    }

    @Override
    public void close() throws IOException {
        peer.close();
    }

    public int exitStatus() {
        return peer.exitStatus();
    }
}
