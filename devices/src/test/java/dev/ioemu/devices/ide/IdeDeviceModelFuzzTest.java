package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.bus.RamBlock;
import dev.ioemu.devices.ide.guest.AtaDriver;
import dev.ioemu.devices.ide.guest.GuestTransport;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the IDE device model as a hostile guest sees it (issue 14, "Fuzzing"): random
 * port I/O on the command, control and bus-master ports of both channels, PCI configuration writes
 * to the PIIX IDE function, PRD tables (end of RAM, ROM, unassigned space, zero and odd byte
 * counts, no EOT, tables at the end of RAM) and guest memory contents, interleaved with complete
 * WRITE commands (PIO and DMA, LBA28 and LBA48) on a real raw image in a temporary directory.
 *
 * <p>Invariants, after every step: nothing escapes the controller (no exception, no recorded
 * internal error); the completion work drains within a bounded wait; no unit shows BSY and DRQ
 * together; the IRQ line rises only while the channel's nIEN is clear. Every 32 steps: RAM outside
 * the ranges described by PRD entries (and the string-I/O buffer) is unchanged and the ROM is
 * unchanged. At the end: each image sector holds what the last WRITE the model completed put there,
 * or (for a write that failed or was cut short) the old or the new sector — never anything else.
 *
 * <p>All data (image, RAM, ROM, write payloads) is made of bytes 0xC0..0xFF, so any table the
 * device might read outside the fuzzer's PRD area describes unassigned space at 0xC0000000 and up,
 * and a table read from unassigned space is zeros, which describe RAM 0..64 KiB; only those and the
 * fuzzer's own PRD entries point at RAM, which makes "PRD-described RAM" computable.
 * Replay or run long with {@code -Dioemu.fuzz.seed=N -Dioemu.fuzz.ops=N}.
 */
@Timeout(240)
class IdeDeviceModelFuzzTest {
    private static final long LOW_RAM_END = 0xA0000;
    private static final long ROM_BASE = 0xF0000;
    private static final int ROM_SIZE = 0x10000;
    private static final long HIGH_RAM_BASE = 0x100000;
    private static final long RAM_END = 0x120000;
    private static final int IMAGE_SECTORS = 256;
    private static final int SECTOR = 512;
    /** The fuzzer's PRD area: 64 entries it rewrites, then harmless entries up to the 4 KiB walk limit and beyond. */
    private static final long TABLE = 0x10000;
    private static final int TABLE_ENTRIES = 64;
    /** RAM the fuzzer's PRD entries aim at (besides the end of RAM). */
    private static final long DMA_ZONE = 0x20000;
    private static final int DMA_ZONE_SIZE = 0x20000;
    private static final long STRING_BUFFER = 0x60000;
    private static final int STRING_BUFFER_SIZE = 0x1000;
    private static final int BM_BASE = PciConfigAccess.IO_WINDOW_BASE;
    private static final int CHECK_MEMORY_EVERY = 32;
    /**
     * A table read from unassigned space, or with bus mastering off, is zeros (as in QEMU): entries
     * {0, 64 KiB, no EOT} that describe RAM 0..64 KiB, so DMA may legitimately write there.
     */
    private static final long ZERO_PRD_REACH = 0x10000;

    /** Opcodes that never change the medium (the image shadow only follows the fuzzer's own WRITEs). */
    private static final int[] NOISE_OPCODES = {
            0x00, 0x08, 0x10, 0x20, 0x21, 0x24, 0x25, 0x27, 0x29, 0x2F, 0x40, 0x41, 0x42, 0x47, 0x57, 0x70,
            0x90, 0x91, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0xA0, 0xA1, 0xB0, 0xC4, 0xC6, 0xC8, 0xC9, 0xD1,
            0xDA, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xEA, 0xEC, 0xEF, 0xF5, 0xF8, 0xFF};
    private static final int[][] WRITE_COMMANDS = {{0x30, 0, 0}, {0x31, 0, 0}, {0x34, 0, 1}, {0xCA, 1, 0},
            {0xCB, 1, 0}, {0x35, 1, 1}};

    @TempDir
    Path dir;

    @Test
    void randomGuestBehaviourKeepsEveryInvariant() throws Exception {
        long seed = Long.getLong("ioemu.fuzz.seed", 20261207L);
        int ops = Integer.getInteger("ioemu.fuzz.ops", 100_000);
        long t0 = System.nanoTime();
        Run run = new Run(seed, dir);
        try {
            run.go(ops);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("IdeDeviceModelFuzzTest failed: replay with -Dioemu.fuzz.seed=" + seed
                    + " -Dioemu.fuzz.ops=" + ops + ": " + e.getMessage(), e);
        }
        System.out.printf("IdeDeviceModelFuzzTest seed %d: %d operations (%d WRITEs, %d completed) in %.1f s"
                        + " (replay with -Dioemu.fuzz.seed=%d)%n",
                seed, ops, run.attempts.size(), run.completedWrites, (System.nanoTime() - t0) / 1e9, seed);
    }

    @Test
    void fixedSeedsKeepEveryInvariant() throws Exception {
        for (long seed : new long[]{1, 0xDEADBEEFL, 20261207}) {
            new Run(seed, dir.resolve("s" + seed)).go(5_000);
        }
    }

    /** One fuzzing session: the machine, the reference copies and the random source. */
    private static final class Run {
        final long seed;
        final Random r;
        final IoPortBus bus = new IoPortBus();
        final AddressSpace space = new AddressSpace();
        final RamBlock lowRam = RamBlock.allocate("low RAM", LOW_RAM_END);
        final RamBlock highRam = RamBlock.allocate("high RAM", RAM_END - HIGH_RAM_BASE);
        final RamBlock rom = RamBlock.allocate("ROM", ROM_SIZE);
        final CheckedIrq irq14 = new CheckedIrq();
        final CheckedIrq irq15 = new CheckedIrq();
        final PiixIde ide;
        final PciConfigAccess pci;
        final Path imageFile;
        final BlockDevice image;
        /** What RAM held at the last memory check, plus the fuzzer's own writes since. */
        final byte[] ramRef = new byte[(int) RAM_END];
        final byte[] romRef = new byte[ROM_SIZE];
        /** RAM that DMA or string I/O may have written since the last memory check. */
        final BitSet mayChange = new BitSet((int) RAM_END);
        {
            mayChange.set(0, (int) ZERO_PRD_REACH);
        }
        final byte[][] sectorNow = new byte[IMAGE_SECTORS][];
        final List<List<byte[]>> sectorMaybe = new ArrayList<>();
        int bmBase = BM_BASE;
        int step;
        int completedWrites;
        /** Every WRITE attempt, for the failure message: what was asked and what the guest saw. */
        final List<String> attempts = new ArrayList<>();
        final List<byte[]> attemptData = new ArrayList<>();

        Run(long seed, Path dir) throws Exception {
            this.seed = seed;
            this.r = new Random(seed);
            Files.createDirectories(dir);
            space.mapRam("low RAM", 0, lowRam, 0, LOW_RAM_END);
            space.mapRom("ROM", ROM_BASE, rom, 0, ROM_SIZE);
            space.mapRam("high RAM", HIGH_RAM_BASE, highRam, 0, RAM_END - HIGH_RAM_BASE);
            byte[] ram = pattern((int) RAM_END);
            // The fuzzer's PRD area starts harmless: every entry names unassigned space.
            for (long a = TABLE; a < DMA_ZONE; a += 8) {
                putPrd(ram, (int) (a - 0), 0xE000_0000L + (a - TABLE) * 64, SECTOR, false);
            }
            space.write(0, ram, 0, (int) RAM_END);
            space.read(0, ramRef, 0, (int) RAM_END);
            byte[] romData = pattern(ROM_SIZE);
            rom.chunkAt(0).buffer().put(0, romData);
            space.read(ROM_BASE, romRef, 0, ROM_SIZE);

            imageFile = dir.resolve("fuzz.img");
            byte[] initial = pattern(IMAGE_SECTORS * SECTOR);
            Files.write(imageFile, initial);
            for (int s = 0; s < IMAGE_SECTORS; s++) {
                sectorNow[s] = Arrays.copyOfRange(initial, s * SECTOR, (s + 1) * SECTOR);
                sectorMaybe.add(new ArrayList<>());
            }
            image = BlockDevices.open(DriveOptions.of(imageFile.toString()));
            ide = new PiixIde(bus, space, irq14, irq15, reason -> { });
            irq14.channel = 0;
            irq15.channel = 1;
            irq14.ide = ide;
            irq15.ide = ide;
            PciHostBridge host = new PciHostBridge();
            bus.map(PciConfigAccess.CONFIG_ADDRESS, 8, host);
            host.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
            host.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
            host.attach(PiixIde.DEVFN, ide);
            ide.attach(0, 0, IdeDriveConfig.disk(image));
            ide.attach(1, 0, IdeDriveConfig.disk(new MemoryBlockDevice(64 << 10)));
            pci = new PciConfigAccess(new PortsOnly());
            AtaDriver.setUpController(pci, BM_BASE);
        }

        /** Bytes 0xC0..0xFF: read as a PRD entry anywhere, they name unassigned space. */
        byte[] pattern(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) (0xC0 | r.nextInt(0x40));
            }
            return b;
        }

        static void putPrd(byte[] mem, int at, long address, int count, boolean eot) {
            for (int i = 0; i < 4; i++) {
                mem[at + i] = (byte) (address >>> (8 * i));
            }
            mem[at + 4] = (byte) count;
            mem[at + 5] = (byte) (count >>> 8);
            mem[at + 6] = 0;
            mem[at + 7] = (byte) (eot ? 0x80 : 0);
        }

        void go(int ops) throws Exception {
            try {
                for (step = 0; step < ops; step++) {
                    if (r.nextInt(40) == 0) {
                        structuredWrite();
                    } else {
                        noise();
                    }
                    checkStep();
                    if (step % CHECK_MEMORY_EVERY == CHECK_MEMORY_EVERY - 1) {
                        checkMemory();
                    }
                }
                checkMemory();
                ide.drainAndFlush();
                checkImage();
                assertTrue(completedWrites > 0 || ops < 1000, where() + ": no WRITE completed, the fuzzer tests nothing");
            } finally {
                ide.close();
                image.close();
                lowRam.close();
                highRam.close();
                rom.close();
            }
        }

        String where() {
            return "seed " + seed + " step " + step;
        }

        // ---- hostile values ----

        /** A PRD address: the DMA zone, across the end of RAM, ROM, the VGA hole, unassigned, wrapping. */
        long prdAddress() {
            return switch (r.nextInt(10)) {
                case 0 -> RAM_END - 2L * r.nextInt(0x800);
                case 1 -> ROM_BASE + 2L * r.nextInt(ROM_SIZE / 2);
                case 2 -> LOW_RAM_END + 2L * r.nextInt(0x28000);
                case 3 -> 0xC000_0000L | (r.nextInt() & 0x3FFF_FFFEL);
                case 4 -> 0xFFFF_FFFEL - 2L * r.nextInt(0x100);
                case 5 -> DMA_ZONE + r.nextInt(DMA_ZONE_SIZE);
                default -> DMA_ZONE + 2L * r.nextInt(DMA_ZONE_SIZE / 2 - 0x1000);
            };
        }

        int prdCount() {
            return switch (r.nextInt(8)) {
                case 0 -> 0;                          // 64 KiB
                case 1 -> r.nextInt(0x10000);         // odd and huge counts
                case 2 -> 1 + r.nextInt(16);
                default -> SECTOR * (1 + r.nextInt(8));
            };
        }

        /** Writes PRD entry {@code k} of the fuzzer's area and records the RAM it describes. */
        void writePrd(int k, long address, int count, boolean eot) {
            byte[] e = new byte[8];
            putPrd(e, 0, address, count, eot);
            fuzzerWrite(TABLE + 8L * k, e);
            markDescribed(address, count);
        }

        /** The RAM a PRD entry may reach, generously (odd address and count bits either way). */
        void markDescribed(long address, int count) {
            long from = address & ~1L;
            long to = from + (count == 0 ? 0x10000 : (count & 0xFFFF) + 2);
            if (from < RAM_END) {
                mayChange.set((int) from, (int) Math.min(to, RAM_END));
            }
        }

        /** A guest-memory store by the fuzzer itself (mirrored in the reference copy). */
        void fuzzerWrite(long address, byte[] data) {
            space.write(address, data, 0, data.length);
            for (int i = 0; i < data.length; i++) {
                long a = address + i;
                if (a < RAM_END && !(a >= LOW_RAM_END && a < HIGH_RAM_BASE)) {
                    ramRef[(int) a] = data[i];
                }
            }
        }

        int base(int ch) { return ch == 0 ? PiixIde.PRIMARY_COMMAND_BASE : PiixIde.SECONDARY_COMMAND_BASE; }

        int ctrl(int ch) { return ch == 0 ? PiixIde.PRIMARY_CONTROL : PiixIde.SECONDARY_CONTROL; }

        void out(int port, int size, int value) { bus.write(port, size, value); }

        int in(int port, int size) { return bus.read(port, size); }

        // ---- random guest behaviour ----

        void noise() {
            int ch = r.nextInt(4) == 0 ? 1 : 0;
            int base = base(ch);
            int bm = bmBase + 8 * ch;
            int action = r.nextInt(100);
            if (action < 20) {
                int reg = 1 + r.nextInt(6);
                int value = switch (r.nextInt(3)) {
                    case 0 -> r.nextInt(8);
                    case 1 -> reg == 6 ? 0xA0 | (r.nextBoolean() ? 0x40 : 0) | (r.nextBoolean() ? 0x10 : 0) : r.nextInt(256);
                    default -> r.nextInt(256);
                };
                out(base + reg, 1, value);
            } else if (action < 30) {
                out(base + 7, 1, NOISE_OPCODES[r.nextInt(NOISE_OPCODES.length)]);
            } else if (action < 42) {
                in(base + r.nextInt(8), 1 << r.nextInt(3));
            } else if (action < 48) {
                int size = r.nextBoolean() ? 2 : 4;
                if (r.nextInt(4) == 0) {
                    out(base, size, r.nextInt() | 0xC0C0C0C0);
                } else {
                    in(base, size);
                }
            } else if (action < 51) {
                int size = r.nextBoolean() ? 2 : 4;
                int count = 1 + r.nextInt(STRING_BUFFER_SIZE / size);
                MemorySpan span = space.ramSpan(STRING_BUFFER, count * size);
                mayChange.set((int) STRING_BUFFER, (int) STRING_BUFFER + count * size);
                if (r.nextBoolean()) {
                    bus.readString(base, size, count, span);
                } else {
                    bus.writeString(base, size, count, span);
                }
            } else if (action < 57) {
                int value = switch (r.nextInt(6)) {
                    case 0 -> Ata.CONTROL_NIEN;
                    case 1 -> 0x04;                       // SRST
                    case 2 -> r.nextInt(256);
                    default -> 0;
                };
                out(ctrl(ch), 1, value);
            } else if (action < 60) {
                in(ctrl(ch), 1);
            } else if (action < 68) {
                int value = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(256);
                    case 1 -> 0x00;
                    case 2 -> 0x09;                       // start, device to memory
                    default -> 0x01;                      // start, memory to device
                };
                out(bm, 1, value);
            } else if (action < 71) {
                out(bm + 2, 1, r.nextInt(256));
            } else if (action < 76) {
                long table = switch (r.nextInt(8)) {
                    case 0 -> RAM_END - 8L * (1 + r.nextInt(4));      // a table at the end of RAM
                    case 1 -> ROM_BASE + 4L * r.nextInt(ROM_SIZE / 4);
                    case 2 -> r.nextInt() | 0xC000_0000L;
                    case 3 -> 0xFFFF_FFFCL;
                    default -> TABLE + 8L * r.nextInt(TABLE_ENTRIES);
                };
                out(bm + 4, 4, (int) table);
            } else if (action < 84) {
                writePrd(r.nextInt(TABLE_ENTRIES), prdAddress(), prdCount(), r.nextInt(3) != 0);
            } else if (action < 88) {
                long at = r.nextBoolean() ? DMA_ZONE + r.nextInt(DMA_ZONE_SIZE - 64) : RAM_END - 64;
                fuzzerWrite(at, pattern(1 + r.nextInt(64)));
            } else if (action < 93) {
                in(bm + r.nextInt(8), 1 << r.nextInt(3));
            } else if (action < 98) {
                pciNoise();
            } else {
                out(base + 6, 1, 0xA0 | (r.nextBoolean() ? 0x10 : 0) | (r.nextBoolean() ? 0x40 : 0));
            }
        }

        void pciNoise() {
            switch (r.nextInt(5)) {
                case 0 -> pci.write(PiixIde.DEVFN, 0x04, 2, r.nextInt(4) == 0 ? r.nextInt(0x10000) : r.nextBoolean() ? 0x05 : 0x04);
                case 1 -> pci.write(PiixIde.DEVFN, 0x20, 4, switch (r.nextInt(4)) {
                    case 0 -> 0;
                    case 1 -> 0x1F0 | 1;                  // collides with the primary command block
                    case 2 -> r.nextInt();
                    default -> BM_BASE | 1;
                });
                case 2 -> pci.write(PiixIde.DEVFN, 0x40 + 2 * r.nextInt(2), 2, r.nextInt(0x10000));
                default -> {
                    int size = 1 << r.nextInt(3);
                    int offset = r.nextInt(256) & ~(size - 1);
                    pci.write(PiixIde.DEVFN, offset, size, r.nextInt());
                }
            }
            pci.read(PiixIde.DEVFN, r.nextInt(64) * 4, 4);
            int bar = pci.read(PiixIde.DEVFN, 0x20, 4);
            bmBase = bar & 0xFFF0;
        }

        // ---- complete WRITE commands with a shadow of the image ----

        /**
         * A whole WRITE on the raw image (primary master): PIO or DMA, LBA28 or LBA48, sometimes past
         * the end, DMA with hostile PRD tables. Completed writes update the shadow exactly; a failed
         * or cut-short write leaves each sector old or new. Afterwards the channel is reset so the
         * noise never feeds a half-done WRITE.
         */
        void structuredWrite() {
            pci.write(PiixIde.DEVFN, 0x04, 2, 0x05);
            pci.write(PiixIde.DEVFN, 0x20, 4, BM_BASE | 1);
            pci.write(PiixIde.DEVFN, 0x40, 2, 0x8000);
            bmBase = BM_BASE;
            int base = base(0);
            int bm = bmBase;
            int[] command = WRITE_COMMANDS[r.nextInt(WRITE_COMMANDS.length)];
            boolean dma = command[1] == 1;
            boolean lba48 = command[2] == 1;
            // With nIEN set a DMA completion cannot be told from a starved table (no BM Interrupt either).
            int control = !dma && r.nextInt(4) == 0 ? Ata.CONTROL_NIEN : 0;
            out(ctrl(0), 1, 0x04 | control);
            out(ctrl(0), 1, control);
            awaitBounded();
            out(bm, 1, 0);
            out(bm + 2, 1, 0x06);
            long lba = r.nextInt(8) == 0 ? IMAGE_SECTORS - 2 + r.nextInt(8) : r.nextInt(IMAGE_SECTORS);
            int count = 1 + r.nextInt(r.nextInt(8) == 0 ? 40 : 4);
            out(base + 6, 1, 0xE0);
            if (lba48) {
                out(base + 2, 1, count >> 8);
                out(base + 3, 1, (int) (lba >> 24));
                out(base + 4, 1, 0);
                out(base + 5, 1, 0);
            }
            out(base + 2, 1, count & 0xFF);
            out(base + 3, 1, (int) lba);
            out(base + 4, 1, (int) (lba >> 8));
            out(base + 5, 1, (int) (lba >> 16));
            if (!lba48) {
                out(base + 6, 1, 0xE0 | (int) ((lba >> 24) & 0x0F));
            }
            byte[] data;
            boolean complete;
            if (dma) {
                int entries = 1 + r.nextInt(4);
                for (int k = 0; k < entries; k++) {
                    boolean good = r.nextInt(3) != 0;
                    long address = good ? DMA_ZONE + SECTOR * (long) r.nextInt(DMA_ZONE_SIZE / SECTOR - 64) : prdAddress();
                    int bytes = good ? SECTOR * (1 + r.nextInt(count + 1)) : prdCount();
                    writePrd(k, address, bytes, k == entries - 1 && r.nextInt(6) != 0);
                }
                if (r.nextBoolean()) {
                    fuzzerWrite(DMA_ZONE + SECTOR * (long) r.nextInt(DMA_ZONE_SIZE / SECTOR - 64), pattern(SECTOR * count));
                }
                data = dmaSourceStream(TABLE, count * SECTOR);
                out(bm + 4, 4, (int) TABLE);
                out(base + 7, 1, command[0]);
                out(bm, 1, 0x01);
                awaitBounded();
                int status = in(ctrl(0), 1);
                // A PRD table too short for the transfer ends it with DRDY and no Interrupt (QEMU's
                // "PRDs were too short"): only BM Interrupt tells the guest the write completed.
                complete = (status & (Ata.STATUS_BSY | Ata.STATUS_DRQ | Ata.STATUS_ERR)) == 0
                        && (status & Ata.STATUS_DRDY) != 0 && (in(bm + 2, 1) & Ata.BM_STATUS_INTERRUPT) != 0;
                out(bm, 1, 0);
            } else {
                data = pattern(count * SECTOR);
                out(base + 7, 1, command[0]);
                int sent = 0;
                for (int s = 0; s < count; s++) {
                    awaitBounded();
                    int status = in(ctrl(0), 1);
                    if ((status & (Ata.STATUS_BSY | Ata.STATUS_DRQ)) != Ata.STATUS_DRQ) {
                        break;
                    }
                    for (int w = 0; w < SECTOR / 2; w++) {
                        int at = s * SECTOR + 2 * w;
                        out(base, 2, (data[at] & 0xFF) | (data[at + 1] & 0xFF) << 8);
                    }
                    sent++;
                }
                awaitBounded();
                int status = in(ctrl(0), 1);
                complete = sent == count && (status & (Ata.STATUS_BSY | Ata.STATUS_DRQ | Ata.STATUS_ERR)) == 0
                        && (status & Ata.STATUS_DRDY) != 0;
            }
            int finalStatus = in(ctrl(0), 1);
            int bmStatus = in(bm + 2, 1);
            in(base + 7, 1);
            attempts.add(String.format("step %d: WRITE 0x%02x LBA %d count %d -> status 0x%02x BM 0x%02x %s",
                    step, command[0], lba, count, finalStatus, bmStatus, complete ? "completed" : "failed"));
            attemptData.add(data);
            boolean inRange = lba + count <= IMAGE_SECTORS;
            if (complete && !inRange) {
                fail(where() + String.format(": WRITE of %d sectors at LBA %d past the end of a %d-sector image completed: %s",
                        count, lba, IMAGE_SECTORS, attempts.get(attempts.size() - 1)));
            }
            for (int s = 0; s < count && lba + s < IMAGE_SECTORS; s++) {
                int sector = (int) lba + s;
                byte[] now = data.length >= (s + 1) * SECTOR ? Arrays.copyOfRange(data, s * SECTOR, (s + 1) * SECTOR) : null;
                if (complete) {
                    sectorNow[sector] = now;
                    sectorMaybe.get(sector).clear();
                } else if (now != null) {
                    sectorMaybe.get(sector).add(now);
                }
            }
            if (complete) {
                completedWrites++;
            } else {
                out(ctrl(0), 1, 0x04);
                out(ctrl(0), 1, 0);
                out(bm, 1, 0);
                awaitBounded();
            }
        }

        /**
         * The bytes a memory-to-device transfer of {@code want} bytes takes from the PRD table at
         * {@code table} (ide.md §8.3: bit 0 of the count ignored, of the address kept as QEMU does, count 0 = 64 KiB, EOT
         * ends the table, at most 4 KiB of table), read as the guest's address space answers.
         */
        byte[] dmaSourceStream(long table, int want) {
            byte[] out = new byte[want];
            int have = 0;
            for (long at = table; at < table + 4096 && have < want; at += 8) {
                long address = space.readDword(at) & 0xFFFF_FFFFL;
                int count = space.readWord(at + 4) & 0xFFFE;
                boolean eot = (space.readByte(at + 7) & 0x80) != 0;
                int bytes = count == 0 ? 0x10000 : count;
                int n = Math.min(bytes, want - have);
                space.read(address, out, have, n);
                have += n;
                if (eot) {
                    break;
                }
            }
            return Arrays.copyOf(out, have);
        }

        // ---- invariants ----

        void awaitBounded() {
            try {
                assertTrue(ide.awaitIdle(Duration.ofSeconds(10)), where() + ": the controller's I/O did not drain within 10 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(where() + ": interrupted", e);
            }
        }

        void checkStep() {
            awaitBounded();
            List<Throwable> errors = ide.internalErrors();
            if (!errors.isEmpty()) {
                throw new AssertionError(where() + ": the device model failed internally: " + errors.get(0), errors.get(0));
            }
            for (CheckedIrq irq : new CheckedIrq[]{irq14, irq15}) {
                if (irq.violation != null) {
                    fail(where() + ": " + irq.violation);
                }
            }
            for (int ch = 0; ch < 2; ch++) {
                for (int u = 0; u < 2; u++) {
                    int status = ide.device(ch, u).regs.status;
                    if ((status & Ata.STATUS_BSY) != 0 && (status & Ata.STATUS_DRQ) != 0) {
                        fail(String.format("%s: unit %d.%d shows BSY and DRQ together (status 0x%02x)", where(), ch, u, status));
                    }
                }
            }
        }

        void checkMemory() {
            byte[] now = new byte[(int) RAM_END];
            space.read(0, now, 0, (int) LOW_RAM_END);
            space.read(HIGH_RAM_BASE, now, (int) HIGH_RAM_BASE, (int) (RAM_END - HIGH_RAM_BASE));
            int from = 0;
            while (true) {
                int m = Arrays.mismatch(now, from, now.length, ramRef, from, ramRef.length);
                if (m < 0) {
                    break;
                }
                int at = from + m;
                if (!(at >= LOW_RAM_END && at < HIGH_RAM_BASE) && !mayChange.get(at)) {
                    fail(String.format("%s: guest RAM at 0x%x changed (0x%02x -> 0x%02x) outside every PRD-described range",
                            where(), at, ramRef[at] & 0xFF, now[at] & 0xFF));
                }
                from = at + 1;
            }
            System.arraycopy(now, 0, ramRef, 0, now.length);
            byte[] romNow = new byte[ROM_SIZE];
            space.read(ROM_BASE, romNow, 0, ROM_SIZE);
            int m = Arrays.mismatch(romNow, romRef);
            if (m >= 0) {
                fail(String.format("%s: ROM at 0x%x changed", where(), ROM_BASE + m));
            }
            // What the current PRD area describes stays reachable; older entries are gone.
            mayChange.clear();
            mayChange.set((int) STRING_BUFFER, (int) (STRING_BUFFER + STRING_BUFFER_SIZE));
            mayChange.set(0, (int) ZERO_PRD_REACH);
            for (int k = 0; k < TABLE_ENTRIES; k++) {
                long at = TABLE + 8L * k;
                markDescribed(space.readDword(at) & 0xFFFF_FFFFL, space.readWord(at + 4));
            }
        }

        void checkImage() throws Exception {
            byte[] file = Files.readAllBytes(imageFile);
            if (file.length != IMAGE_SECTORS * SECTOR) {
                fail(where() + ": the image is " + file.length + " bytes (expected " + IMAGE_SECTORS * SECTOR + ")");
            }
            for (int s = 0; s < IMAGE_SECTORS; s++) {
                byte[] actual = Arrays.copyOfRange(file, s * SECTOR, (s + 1) * SECTOR);
                if (Arrays.equals(actual, sectorNow[s])) {
                    continue;
                }
                boolean allowed = sectorMaybe.get(s).stream().anyMatch(b -> Arrays.equals(b, actual));
                if (!allowed) {
                    StringBuilder origin = new StringBuilder();
                    for (int i = 0; i < attempts.size(); i++) {
                        byte[] d = attemptData.get(i);
                        for (int off = 0; off + SECTOR <= d.length; off += 2) {
                            if (Arrays.equals(d, off, off + SECTOR, actual, 0, SECTOR)) {
                                origin.append("; found at byte ").append(off).append(" of ").append(attempts.get(i));
                            }
                        }
                    }
                    for (int off = 0; off + SECTOR <= ramRef.length; off += 2) {
                        if (Arrays.equals(ramRef, off, off + SECTOR, actual, 0, SECTOR)) {
                            origin.append("; RAM at 0x").append(Integer.toHexString(off));
                        }
                    }
                    origin.append("; starts ").append(java.util.HexFormat.of().formatHex(actual, 0, 32));
                    fail("seed " + seed + ": image sector " + s
                            + " holds data no completed (or attempted) WRITE put there" + origin);
                }
            }
        }

        /** A guest transport of ports only (the PCI configuration mechanism #1 needs no memory). */
        private final class PortsOnly implements GuestTransport {
            @Override public int in(int port, int size) { return bus.read(port, size); }
            @Override public void out(int port, int size, int value) { bus.write(port, size, value); }
            @Override public void writeMemory(long address, byte[] data) { fuzzerWrite(address, data); }
            @Override public byte[] readMemory(long address, int length) {
                byte[] b = new byte[length];
                space.read(address, b, 0, length);
                return b;
            }
            @Override public boolean irqLevel(int irq) { return (irq == 15 ? irq15 : irq14).level; }
            @Override public void awaitProgress() { ide.drain(); }
        }
    }

    /** An IRQ line that records a rise while its channel's Device Control has nIEN set. */
    private static final class CheckedIrq implements IrqLine {
        volatile PiixIde ide;
        int channel;
        volatile boolean level;
        volatile String violation;

        @Override
        public void set(boolean newLevel) {
            // Called under the controller's lock, so Device Control cannot change meanwhile.
            if (newLevel && !level && ide != null) {
                int control = ide.device(channel, 0).bus.control();
                if ((control & Ata.CONTROL_NIEN) != 0 && violation == null) {
                    violation = String.format("IRQ %d raised with nIEN set (Device Control 0x%02x)", 14 + channel, control);
                }
            }
            level = newLevel;
        }
    }
}
