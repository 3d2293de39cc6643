package dev.ioemu.tests.peer;

import java.util.Base64;
import java.util.SplittableRandom;

/**
 * Seeded random qtest traffic for the parts of the pc machine that exist without IDE: guest
 * memory through every memory command (RAM, the RAM/ROM-hole edges, the end of RAM, unassigned
 * space above it), the ISA DMA controllers and page registers, fw_cfg, unmapped ports, and IRQ
 * pins forced with {@code set_irq_in} under interception. Regions ioemu does not model (BIOS ROM,
 * IOAPIC/LAPIC MMIO, PIC/PIT/RTC/i8042 ports) are avoided; see {@link AllowedDifferences}.
 */
public final class PlatformSequenceGenerator {
    private static final long RAM_SIZE = 128L << 20;
    private static final int[] UNMAPPED_PORTS = {0x80, 0x84, 0x88, 0x8c, 0x1234, 0x2f8, 0x3f8, 0x378, 0x402, 0x9000};
    private static final int[] FW_CFG_KEYS = {0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x000f, 0x0019,
            0x0020, 0x1234, 0x4000, 0x4003, 0x8002, 0x8003, 0x8004};

    private final SplittableRandom rnd;
    private final Script script;
    /** Tag of the fw_cfg item selected now: reads of items ioemu leaves out are allowed to differ. */
    private String fwCfgTag = "";

    private PlatformSequenceGenerator(long seed) {
        this.rnd = new SplittableRandom(seed);
        this.script = new Script("PlatformSequenceGenerator seed " + seed);
    }

    /** A script of at least {@code operations} requests. */
    public static Script generate(long seed, int operations) {
        PlatformSequenceGenerator g = new PlatformSequenceGenerator(seed);
        g.script.add(Step.send("endianness"));
        g.script.add(Step.send("irq_intercept_in ioapic"));
        while (g.script.size() < operations) {
            g.operation();
        }
        return g.script;
    }

    private void send(String line) {
        script.add(Step.send(line));
    }

    private void send(String line, String tag) {
        script.add(Step.send(line, tag));
    }

    private static String fwCfgTag(int key) {
        return switch (key) {
            case 0x0001 -> "fw_cfg:id";
            case 0x0019, 0x0020 -> "fw_cfg:file-dir";
            case 0x8004 -> "fw_cfg:arch";
            default -> "";
        };
    }

    private void operation() {
        int pick = rnd.nextInt(100);
        if (pick < 45) {
            memory();
        } else if (pick < 70) {
            dma();
        } else if (pick < 85) {
            fwCfg();
        } else if (pick < 88) {
            unmapped();
        } else if (pick < 93) {
            boundary();
        } else {
            irq();
        }
    }

    /** An address in a region both peers model identically. */
    private long address(int length) {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextLong(0, 0xc0000 - length);                       // low RAM
            case 1 -> 0xc0000 - rnd.nextInt(1, 16);                            // RAM -> ROM hole edge
            case 2 -> rnd.nextLong(0xc0000, 0xe0000 - length);                 // expansion ROM space (no ROMs)
            case 3 -> rnd.nextLong(0x100000, RAM_SIZE - length);               // extended RAM
            case 4 -> RAM_SIZE - rnd.nextInt(1, 32);                           // the end of RAM
            default -> rnd.nextLong(RAM_SIZE, 0xfec00000L - length);           // unassigned, below the IOAPIC
        };
    }

    private String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private void memory() {
        String[] widths = {"b", "w", "l", "q"};
        int w = rnd.nextInt(4);
        int size = 1 << w;
        long addr = address(64);
        switch (rnd.nextInt(9)) {
            case 0 -> send("write" + widths[w] + " " + hex(addr) + " " + hex(rnd.nextLong() >>> (64 - 8 * size)));
            case 1 -> send("read" + widths[w] + " " + hex(addr));
            case 2 -> {
                int n = rnd.nextInt(1, 48);
                StringBuilder data = new StringBuilder("0x");
                int digits = rnd.nextInt(4) == 0 ? rnd.nextInt(1, 2 * n) : 2 * n;   // sometimes short data
                for (int i = 0; i < digits; i++) {
                    data.append(Character.forDigit(rnd.nextInt(16), 16));
                }
                send("write " + hex(addr) + " " + hex(n) + " " + data);
            }
            case 3 -> send("read " + hex(addr) + " " + rnd.nextInt(1, 48));
            case 4 -> {
                byte[] b = new byte[rnd.nextInt(1, 48)];
                rnd.nextBytes(b);
                send("b64write " + hex(addr) + " " + hex(b.length) + " " + Base64.getEncoder().encodeToString(b));
            }
            case 5 -> send("b64read " + hex(addr) + " " + rnd.nextInt(0, 48));
            case 6 -> send("memset " + hex(addr) + " " + rnd.nextInt(0, 48) + " " + hex(rnd.nextInt(0x200)));
            case 7 -> send("read" + widths[w] + " " + (addr & ~0xfL));   // decimal address
            default -> send("read " + hex(addr) + " 0" + Integer.toOctalString(rnd.nextInt(1, 32)));   // octal size
        }
    }

    private void dma() {
        int port;
        int r = rnd.nextInt(10);
        if (r < 5) {
            port = rnd.nextInt(0x00, 0x10);
        } else if (r < 8) {
            port = rnd.nextInt(0xc0, 0xe0);
        } else {
            int[] pages = {0x81, 0x82, 0x83, 0x87, 0x89, 0x8a, 0x8b, 0x8f};
            port = pages[rnd.nextInt(pages.length)];
        }
        String[] in = {"inb", "inw", "inl"};
        String[] out = {"outb", "outw", "outl"};
        int width = rnd.nextInt(10) < 8 ? 0 : rnd.nextInt(1, 3);
        if (rnd.nextBoolean()) {
            send(in[width] + " " + hex(port));
            return;
        }
        long value = rnd.nextLong() >>> (64 - 8 * (1 << width));
        boolean requestRegister = port == 0x09 || port == 0xd2 || port == 0xd3
                || (width > 0 && (port <= 0x09 && port + (1 << width) > 0x09 || port <= 0xd3 && port + (1 << width) > 0xd2));
        if (requestRegister) {
            // Only clear requests: a software request on an unmasked channel would make QEMU run a
            // transfer through a channel handler ioemu does not have.
            value = 0;
        }
        send(out[width] + " " + hex(port) + " " + hex(value));
    }

    private void fwCfg() {
        if (rnd.nextInt(3) == 0) {
            int key = FW_CFG_KEYS[rnd.nextInt(FW_CFG_KEYS.length)];
            send("outw 0x510 " + hex(key));
            fwCfgTag = fwCfgTag(key);
        }
        int reads = rnd.nextInt(1, 9);
        for (int i = 0; i < reads; i++) {
            send(rnd.nextInt(8) == 0 ? "inb 0x510" : "inb 0x511", fwCfgTag);
        }
        if (rnd.nextInt(10) == 0) {
            send("inw 0x510");
        }
        if (rnd.nextInt(10) == 0) {
            send("outb 0x511 " + hex(rnd.nextInt(256)));   // data writes are ignored
        }
    }

    /**
     * 16/32-bit reads that start just before, at or just after the edge of a device's ports, where
     * QEMU hands the whole access to whoever decodes the first byte (shared/spec/qtest.md §3.1).
     */
    private void boundary() {
        int[] edges = {0x10, 0x80, 0x84, 0x87, 0x88, 0x8c, 0x8f, 0x90, 0xc0, 0xe0, 0x510, 0x512};
        int edge = edges[rnd.nextInt(edges.length)];
        int port = edge + rnd.nextInt(-3, 2);
        boolean wide = rnd.nextBoolean();
        int end = port + (wide ? 4 : 2);
        if (end > 0x514 && port <= 0x513) {
            port = 0x50f;   // fw_cfg's DMA registers at 0x514 are not modelled (AllowedDifferences)
        }
        if (end > 0x92 && port < 0x92) {
            port = 0x8e;    // port 0x92 (system control port A) is not modelled
        }
        end = port + (wide ? 4 : 2);
        // A read that reaches fw_cfg's data port consumes a byte of the selected item.
        String tag = port <= 0x511 && end > 0x510 ? fwCfgTag : "";
        send((wide ? "inl " : "inw ") + hex(port), tag);
        if (rnd.nextInt(4) == 0 && port >= 0x80 && port <= 0x8f) {
            // Writes are safe only on the page registers (0x92 would reset QEMU's machine).
            send((rnd.nextBoolean() ? "outw " : "outl ") + hex(port) + " " + hex(rnd.nextLong(1L << 32)));
        }
    }

    private void unmapped() {
        int port = UNMAPPED_PORTS[rnd.nextInt(UNMAPPED_PORTS.length)];
        switch (rnd.nextInt(4)) {
            case 0 -> send("inb " + hex(port));
            case 1 -> send("inw " + hex(port));
            case 2 -> send("inl " + hex(port));
            default -> send("outb " + hex(port) + " " + hex(rnd.nextInt(256)));
        }
    }

    private void irq() {
        // Pins with no device behind them on an idle pc: forcing them is only seen by the intercept.
        int[] pins = {3, 5, 7, 10, 11, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
        int pin = pins[rnd.nextInt(pins.length)];
        send("set_irq_in ioapic unnamed-gpio-in " + pin + " " + (rnd.nextBoolean() ? rnd.nextInt(-2, 3) : 0));
    }
}
