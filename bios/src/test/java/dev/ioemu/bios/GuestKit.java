package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.time.Clock;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A guest without a CPU engine: guest RAM, a plain register file, the BIOS, and an
 * {@link InterruptRunner} for the steps a CPU takes around a BIOS call (INT n through the IVT,
 * the stub's STI, the trapping OUT reported alternately on and after the OUT as KVM's two paths
 * do, the IRET). Tests drive the BIOS through it exactly as guest code reaches it.
 */
final class GuestKit implements AutoCloseable {
    static final long RAM = 16L << 20;
    static final Instant RTC = Instant.parse("2026-12-07T13:45:30Z");
    /** Where the "caller" of each INT sits; the IRET must come back here. */
    static final int CALLER_CS = 0x0000;
    static final int CALLER_IP = 0x7E00;
    static final int STACK_TOP = 0x6000;

    final GuestMemory memory = new GuestMemory(RAM);
    final PlainRegisterFile regs = new PlainRegisterFile();
    final StringBuilder console = new StringBuilder();
    final ConsoleInput keyboard = new ConsoleInput();
    final FakeClock clock = new FakeClock();
    final A20Gate a20 = A20Gate.stored(true);
    final List<String> bootFailures = new ArrayList<>();
    final List<Integer> booted = new ArrayList<>();
    final Bios bios;
    private final List<BlockAio> queues = new ArrayList<>();
    private final List<BlockDevice> devices = new ArrayList<>();
    private final InterruptRunner runner;

    static final class FakeClock implements Clock {
        long nanos;

        @Override
        public long nanos() {
            return nanos;
        }

        @Override
        public Timer newTimer(String name, Runnable action) {
            return new Timer() {
                private boolean armed;

                @Override
                public void arm(long deadlineNanos) {
                    armed = true;
                }

                @Override
                public void cancel() {
                    armed = false;
                }

                @Override
                public boolean armed() {
                    return armed;
                }
            };
        }
    }

    /** A kit whose disks are {@code drives} (80h first). */
    GuestKit(List<BiosDrive> drives) {
        bios = new Bios(memory, new Bios.Config(RAM, drives, 0x80, List.of(0x3F8), ch -> console.append((char) ch),
                keyboard, a20, clock, InstantSource.fixed(RTC), new BootListener() {
                    @Override
                    public void booting(int drive) {
                        booted.add(drive);
                    }

                    @Override
                    public void bootFailed(String reason) {
                        bootFailures.add(reason);
                    }
                }));
        runner = new InterruptRunner(memory, bios.dispatcher());
        byte[] rom = bios.romImage();
        memory.write(BiosRom.BASE, rom, 0, rom.length);
    }

    /** Opens each image read-write (or read-only) through the block layer and its own queue. */
    static GuestKit withImages(DiskGeometry.Policy policy, Chs override, boolean readOnly, Path... images)
            throws Exception {
        List<BlockAio> qs = new ArrayList<>();
        List<BlockDevice> ds = new ArrayList<>();
        List<BiosDrive> drives = new ArrayList<>();
        for (int i = 0; i < images.length; i++) {
            BlockDevice dev = BlockDevices.open(DriveOptions.of(images[i].toString()).withReadOnly(readOnly));
            BlockAio aio = new BlockAio(dev, "test-aio-" + i);
            ds.add(dev);
            qs.add(aio);
            drives.add(Int13Disk.attach(aio, AtaLocation.piix3(i / 2, i % 2), override, policy));
        }
        GuestKit kit = new GuestKit(drives);
        kit.queues.addAll(qs);
        kit.devices.addAll(ds);
        return kit;
    }

    static GuestKit withImages(Path... images) throws Exception {
        return withImages(DiskGeometry.Policy.PARTITION_TABLE_FIRST, null, false, images);
    }

    /** A sparse raw image of {@code bytes}. */
    static Path sparseImage(Path dir, String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    /** Writes {@code data} at sector {@code lba} of an image file (before the kit opens it). */
    static void writeSectors(Path image, long lba, byte[] data) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(lba * 512);
            f.write(data);
        }
    }

    /** A sector whose bytes are a function of its LBA, so misplaced reads show. */
    static byte[] patternSector(long lba) {
        byte[] s = new byte[512];
        for (int i = 0; i < 512; i++) {
            s[i] = (byte) (lba * 7 + i * 13 + (lba >>> 8));
        }
        return s;
    }

    /** Boots the machine the way the CPU does from reset: F000:FFF0 (base FFFF0000), then the POST stub. */
    BiosTrapDispatcher.Outcome powerOn() {
        regs.loadSegment(Segment.CS, 0xF000, 0xFFFF_0000L);
        regs.setEip(0xFFF0);
        long at = 0xFFFF_0000L + 0xFFF0 - BiosRom.HIGH_ALIAS + BiosRom.BASE;
        assertEquals(0xEA, memory.readByte(at), "reset vector is a far JMP");
        regs.loadRealModeSegment(Segment.CS, memory.readWord(at + 3));
        regs.setEip(memory.readWord(at + 1));
        assertEquals(InterruptRunner.Result.REDIRECTED, runner.runStub(regs), "POST continues in the ROM");
        return runner.lastOutcome();
    }

    /** Executes INT {@code vector} from the caller at CALLER_CS:CALLER_IP with the current registers. */
    BiosTrapDispatcher.Outcome interrupt(int vector) {
        if (regs.selector(Segment.SS) == 0 && regs.sp() == 0) {
            regs.setSp(STACK_TOP);
        }
        regs.loadRealModeSegment(Segment.CS, CALLER_CS);
        regs.setEip(CALLER_IP);
        InterruptRunner.Result r = runner.interrupt(regs, vector);
        assertTrue(r != InterruptRunner.Result.NOT_A_BIOS_STUB, "INT " + Integer.toHexString(vector) + " reached a stub");
        return runner.lastOutcome();
    }

    /** Runs the ROM stub at CS:IP (e.g. after a wait loop's HLT woke). */
    InterruptRunner.Result runStub() {
        return runner.runStub(regs);
    }

    long linearIp() {
        return regs.segmentBase(Segment.CS) + regs.ip();
    }

    void push(int word) {
        regs.setSp(regs.sp() - 2);
        memory.writeWord(regs.linear(Segment.SS, regs.sp()), word);
    }

    int pop() {
        int v = memory.readWord(regs.linear(Segment.SS, regs.sp()));
        regs.setSp(regs.sp() + 2);
        return v;
    }

    void iret() {
        int ip = pop();
        int cs = pop();
        int flags = pop();
        regs.loadRealModeSegment(Segment.CS, cs);
        regs.setEip(ip);
        regs.setEflags((regs.eflags() & 0xFFFF_0000) | flags);
    }

    boolean carry() {
        return (regs.eflags() & BiosCall.FLAG_CF) != 0;
    }

    boolean zero() {
        return (regs.eflags() & BiosCall.FLAG_ZF) != 0;
    }

    boolean interruptsEnabled() {
        return (regs.eflags() & BiosCall.FLAG_IF) != 0;
    }

    boolean returnedToCaller() {
        return regs.selector(Segment.CS) == CALLER_CS && regs.ip() == CALLER_IP;
    }

    /** Sets the full 32-bit registers the way a caller would before INT 13h. */
    void set(Gpr r, int value) {
        regs.setGpr(r, value);
    }

    int bda(int offset) {
        return memory.readByte(Bda.BASE + offset);
    }

    BlockDevice device(int index) {
        return devices.get(index);
    }

    BlockAio queue(int index) {
        return queues.get(index);
    }

    @Override
    public void close() {
        for (BlockAio q : queues) {
            q.close();
        }
        for (BlockDevice d : devices) {
            d.close();
        }
    }
}
