package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * INT 19h bootstrap and INT 18h boot failure (shared/spec/int13.md §7): sector 0 of the boot disk
 * to 0000:7C00, the 55AAh check, and the registers SeaBIOS leaves (CS:IP 0000:7C00, DL = boot
 * drive, AX = AA55h, the rest zero, IF=1). With nothing bootable it prints the message, tells the
 * {@link BootListener} (the emulator exits non-zero) and parks the guest in the ROM's halt loop.
 */
public final class BootService {
    static final long BOOT_SECTOR_ADDRESS = 0x7C00;
    static final int BOOT_SIGNATURE = 0xAA55;
    static final int SIGNATURE_OFFSET = 510;
    /** The boot stack: just below the boot sector (int13.md §7.2). */
    static final int BOOT_STACK_POINTER = 0x7C00;
    static final int BOOT_FLAGS = 0x0202;

    private final PhysicalMemory memory;
    private final Int13DiskServices disks;
    private final VideoServices video;
    private final BootListener listener;
    private final int bootDrive;

    /** {@code bootDrive}: the INT 13h number to boot ({@code -boot c}: 80h). */
    public BootService(PhysicalMemory memory, Int13DiskServices disks, VideoServices video, BootListener listener,
                       int bootDrive) {
        this.memory = memory;
        this.disks = disks;
        this.video = video;
        this.listener = listener;
        this.bootDrive = bootDrive;
    }

    /** INT 19h. */
    public void bootstrap(BiosCall call) {
        call.abandonFrame();
        BiosDrive drive = disks.drive(bootDrive);
        if (drive == null) {
            noBootableDevice(call, "no disk " + Integer.toHexString(bootDrive) + "h");
            return;
        }
        byte[] sector = new byte[BiosDrive.SECTOR_SIZE];
        int r = drive.read(0, ByteBuffer.wrap(sector));
        if (r != sector.length) {
            print("Boot failed: could not read the boot disk\r\n");
            noBootableDevice(call, "could not read the boot disk (" + r + ")");
            return;
        }
        memory.write(BOOT_SECTOR_ADDRESS, sector, 0, sector.length);
        int signature = (sector[SIGNATURE_OFFSET] & 0xFF) | (sector[SIGNATURE_OFFSET + 1] & 0xFF) << 8;
        if (signature != BOOT_SIGNATURE) {
            print("Boot failed: not a bootable disk\r\n");
            noBootableDevice(call, "not a bootable disk");
            return;
        }
        RegisterFile regs = call.regs();
        for (Gpr g : Gpr.values()) {
            regs.setGpr(g, 0);
        }
        regs.setGpr(Gpr.EAX, BOOT_SIGNATURE);
        regs.setGpr(Gpr.EDX, bootDrive);
        regs.setGpr(Gpr.ESP, BOOT_STACK_POINTER);
        for (Segment s : Segment.values()) {
            regs.loadRealModeSegment(s, 0);
        }
        regs.setEip((int) BOOT_SECTOR_ADDRESS);
        regs.setEflags(BOOT_FLAGS);
        if (TraceEvent.BIOS_BOOT.enabled) {
            Trace.emit(TraceEvent.BIOS_BOOT, bootDrive, "boot sector loaded");
        }
        listener.booting(bootDrive);
    }

    /** INT 18h: no other device to try. */
    public void bootFailure(BiosCall call) {
        call.abandonFrame();
        noBootableDevice(call, "INT 18h");
    }

    private void noBootableDevice(BiosCall call, String reason) {
        print("No bootable device.\r\n");
        if (TraceEvent.BIOS_BOOT.enabled) {
            Trace.emit(TraceEvent.BIOS_BOOT, bootDrive, "failed: " + reason);
        }
        listener.bootFailed(reason);
        call.resumeAt(BiosRom.Entry.HALT.offset);
    }

    private void print(String message) {
        for (byte b : message.getBytes(StandardCharsets.US_ASCII)) {
            video.teletype(video.activePage(), b & 0xFF, -1);
        }
    }
}
