package dev.ioemu.emulator.engine;

import dev.ioemu.bios.A20Gate;
import dev.ioemu.bios.AtaLocation;
import dev.ioemu.bios.Bios;
import dev.ioemu.bios.BiosDrive;
import dev.ioemu.bios.BiosRom;
import dev.ioemu.bios.BootListener;
import dev.ioemu.bios.ConsoleInput;
import dev.ioemu.bios.DiskGeometry;
import dev.ioemu.bios.Int13Disk;
import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuMemory;
import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.MemoryBus;
import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.isa.I8254Pit;
import dev.ioemu.devices.isa.I8259PicPair;
import dev.ioemu.devices.time.VirtualClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The software CPU boots a disk through the HLE BIOS: reset vector, POST trap, INT 19h loads the
 * boot sector, which prints through INT 10h, loads its second sector, writes it elsewhere through INT 13h and reads it back
 * through the EDD packet interface, then ends through an isa-debug-exit-style port.
 */
class SoftBootTest {
    @TempDir
    Path dir;

    private static final String BOOT = """
            org 0x7c00
            bits 16
                xor ax, ax
                mov ds, ax
                mov es, ax
                mov ss, ax
                mov sp, 0x7c00
                mov si, hello
                call print
                ; load the pattern (sector 1, CHS 0/0/2) behind the boot sector
                mov ax, 0x0201
                mov bx, pattern
                mov cx, 0x0002
                xor dh, dh
                mov dl, 0x80
                int 0x13
                jc fail
                ; write it to sector 5 (CHS 0/0/6)
                mov ax, 0x0301
                mov bx, pattern
                mov cx, 0x0006
                xor dh, dh
                mov dl, 0x80
                int 0x13
                jc fail
                ; read it back to 0x8000 through the EDD packet
                mov ah, 0x42
                mov dl, 0x80
                mov si, dap
                int 0x13
                jc fail
                mov si, 0x8000
                mov di, pattern
                mov cx, 256
                repe cmpsw
                jne fail
                mov si, ok
                call print
                mov al, 0x10
                out 0xf4, al
            fail:
                mov si, bad
                call print
                mov al, 0x11
                out 0xf4, al
                cli
                hlt
            print:
                lodsb
                or al, al
                jz .done
                mov ah, 0x0e
                mov bx, 7
                int 0x10
                jmp print
            .done:
                ret
            hello: db "hello from the boot sector", 13, 10, 0
            ok: db "INT 13h round trip ok", 13, 10, 0
            bad: db "INT 13h failed", 13, 10, 0
            dap: db 16, 0
                 dw 1
                 dw 0x8000, 0
                 dq 5
                times 510-($-$$) db 0
                dw 0xaa55
            pattern:
                %assign i 0
                %rep 512
                db (i * 7 + 3) & 0xff
                %assign i i+1
                %endrep
            """;

    @Test
    void bootsThroughTheHleBiosAndRoundTripsASector() throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] code = assemble(BOOT);
        byte[] disk = new byte[4 << 20];
        System.arraycopy(code, 0, disk, 0, code.length);
        Files.write(image, disk);

        GuestMemory ram = new GuestMemory(16 << 20);
        IoPortBus ports = new IoPortBus();
        VirtualClock clock = new VirtualClock();
        I8259PicPair pic = new I8259PicPair();
        ports.map(I8259PicPair.MASTER_BASE, 2, pic.master());
        ports.map(I8259PicPair.SLAVE_BASE, 2, pic.slave());
        I8254Pit pit = new I8254Pit(clock, pic.input(0));
        ports.map(0x40, 4, pit);

        CpuMemory memory = new CpuMemory(MemoryBus.UNASSIGNED);
        memory.mapRam(0, ram.span(0, (int) ram.size()).buffer());
        StringBuilder console = new StringBuilder();
        try (BlockDevice block = BlockDevices.open(DriveOptions.of(image.toString()));
             BlockAio queue = new BlockAio(block, "test-hd0")) {
            BiosDrive hd0 = Int13Disk.attach(queue, AtaLocation.piix3(0, 0), null, DiskGeometry.Policy.PARTITION_TABLE_FIRST);
            Bios bios = new Bios(memory, new Bios.Config(ram.size(), List.of(hd0), 0x80, List.of(),
                    ch -> console.append((char) ch), new ConsoleInput(), A20Gate.ALWAYS_ENABLED, clock,
                    InstantSource.fixed(Instant.parse("2026-12-07T00:00:00Z")), BootListener.NONE));
            ByteBuffer rom = ByteBuffer.allocateDirect(BiosRom.SIZE).put(bios.romImage()).flip();
            memory.mapRom(BiosRom.BASE, rom);
            memory.mapRom(BiosRom.HIGH_ALIAS, rom);
            Cpu cpu = new Cpu(CpuModel.I386, memory);
            SoftCpuEngine.Timebase timebase = new SoftCpuEngine.Timebase() {
                @Override public long nextDeadline() { return clock.nextDeadline(); }

                @Override public long advanceTo(long target) { return clock.advanceTo(target); }
            };
            SoftCpuEngine engine = new SoftCpuEngine(cpu, timebase, ports, bios.dispatcher(), pic, () -> { },
                    true, false, dev.ioemu.emulator.cli.PlatformOptions.DEFAULT_NANOS_PER_INSTRUCTION);
            ports.map(0xf4, 1, exitPort(engine));
            cpu.reset();
            SoftCpuEngine.Exit exit = engine.run();

            assertEquals(new SoftCpuEngine.Exit.Status(0x21), exit, console.toString());
            assertEquals("hello from the boot sector\r\nINT 13h round trip ok\r\n", console.toString());
            queue.drain();
        }
        byte[] after = Files.readAllBytes(image);
        byte[] sector5 = new byte[512];
        System.arraycopy(after, 5 * 512, sector5, 0, 512);
        assertArrayEquals(java.util.Arrays.copyOfRange(code, 512, 1024), sector5);
    }

    private static PortDevice exitPort(SoftCpuEngine engine) {
        return new PortDevice() {
            @Override public int read(int offset, int size) { return 0xff; }

            @Override public void write(int offset, int size, int value) {
                engine.requestExit(new SoftCpuEngine.Exit.Status(((value & 0xff) << 1) | 1));
            }

            @Override public String name() { return "debug-exit"; }
        };
    }

    private byte[] assemble(String source) throws IOException, InterruptedException {
        Path asm = dir.resolve("boot.asm");
        Path bin = dir.resolve("boot.bin");
        Files.writeString(asm, source);
        Process p;
        try {
            p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), asm.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "skipped: nasm not installed");
            throw e;
        }
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), "nasm: " + out);
        return Files.readAllBytes(bin);
    }
}
