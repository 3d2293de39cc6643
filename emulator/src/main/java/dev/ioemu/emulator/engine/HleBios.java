package dev.ioemu.emulator.engine;

import dev.ioemu.bios.A20Gate;
import dev.ioemu.bios.AtaLocation;
import dev.ioemu.bios.Bios;
import dev.ioemu.bios.BiosDrive;
import dev.ioemu.bios.BootListener;
import dev.ioemu.bios.ConsoleInput;
import dev.ioemu.bios.ConsoleOutput;
import dev.ioemu.bios.DiskGeometry;
import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.ide.IdeDevice;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.isa.I8042;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PcPlatformWiring;
import dev.ioemu.emulator.machine.PciIdeWiring;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The high-level BIOS wired to a PC machine, the same for every CPU engine: the hard disks INT 13h
 * serves (IDE index order, each on its drive's own request queue), COM1 when there is one, the
 * A20 gate, the RTC on the machine's virtual clock and the boot drive 80h. Engines differ only in
 * the memory the BIOS writes through (the software CPU's own view, so its decoded code is dropped
 * where the BIOS writes) and in how they end the VM when nothing boots ({@code boot}).
 */
public final class HleBios {
    private static final int FIRST_HARD_DISK = 0x80;

    private HleBios() {
    }

    /**
     * @param rtcBaseSeconds the RTC's time at virtual time 0 ({@code -rtc base=}), seconds since the epoch
     */
    public static Bios create(PhysicalMemory memory, PcMachine machine, PcPlatformWiring platform, PciIdeWiring ide,
                              boolean hasCom1, ConsoleOutput console, ConsoleInput keyboard, long rtcBaseSeconds,
                              BootListener boot) {
        return new Bios(memory, new Bios.Config(machine.memoryMap().ramSize(), disks(ide), FIRST_HARD_DISK,
                hasCom1 ? List.of(PcPlatformWiring.COM1_BASE) : List.of(), console, keyboard, a20(platform),
                platform.clock(), () -> Instant.ofEpochSecond(rtcBaseSeconds).plusNanos(platform.clock().nanos()),
                boot));
    }

    /**
     * INT 15h AX=2400h/2401h. The gate ORs the keyboard controller's output port (A20 set at
     * power-on) with port 92h, so closing it through port 92h alone left A20 open: the BIOS drives
     * both, the controller with its own DDh/DFh command so its output port (read back with D0h)
     * stays in step. Under KVM, which cannot mask A20 (kvm.md §6.3), the answer is the same, as
     * QEMU + SeaBIOS give it there, so a guest's view stays engine-independent.
     */
    private static A20Gate a20(PcPlatformWiring platform) {
        return new A20Gate() {
            @Override public boolean isEnabled() {
                return platform.a20Gate().enabled();
            }

            @Override public void setEnabled(boolean on) {
                platform.keyboardController().commandPort().write(0, 1,
                        on ? I8042.KBD_CCMD_ENABLE_A20 : I8042.KBD_CCMD_DISABLE_A20);
                platform.a20Gate().setPort92(on);
            }
        };
    }

    /** Hard disks in IDE index order (80h, 81h, …), each on its drive's own request queue. */
    private static List<BiosDrive> disks(PciIdeWiring wiring) {
        PiixIde ide = wiring.controller();
        List<BiosDrive> disks = new ArrayList<>();
        for (int i = 0; i < PiixIde.MAX_DRIVES; i++) {
            IdeDevice d = ide.drive(i);
            if (d != null && d.kind() == IdeDriveKind.DISK && d.requestQueue() != null) {
                disks.add(Int13Disk.attach(d.requestQueue(), AtaLocation.piix3(i / 2, i % 2), null,
                        DiskGeometry.Policy.PARTITION_TABLE_FIRST, wiring.firmwareWrites(i)));
            }
        }
        return disks;
    }
}
