package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.time.Clock;

import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The high-level emulated BIOS of one machine (issue 9; shared/spec/int13.md §10.2): the
 * generated ROM image, the Java services behind its stubs, and the trap dispatcher engines call.
 *
 * <p>Machine wiring: map {@link #romImage()} read-only at {@link BiosRom#BASE} and at
 * {@link BiosRom#HIGH_ALIAS}; route guest writes to port {@link BiosRom#TRAP_PORT} to
 * {@link #dispatcher()}{@code .trap(regs)}; reset the CPU to F000:FFF0. The ROM's reset vector
 * jumps to the POST stub, which traps to {@link Post}, programs the PICs and the PIT, and runs
 * INT 19h. Engines that start without executing the reset vector can call {@link #post} and then
 * enter INT 19h themselves.
 */
public final class Bios {
    /**
     * Everything the BIOS needs from the machine.
     *
     * @param ramBytes  guest RAM size (E820, INT 12h/15h)
     * @param disks     hard disks in IDE index order (80h, 81h, …)
     * @param bootDrive INT 13h number INT 19h boots ({@code -boot c}: 80h)
     * @param comPorts  I/O bases of the modelled UARTs, for 40:00 and the equipment word
     * @param rtc       wall time for INT 1Ah and the initial tick count
     */
    public record Config(long ramBytes, List<BiosDrive> disks, int bootDrive, List<Integer> comPorts,
                         ConsoleOutput console, ConsoleInput keyboard, A20Gate a20, Clock clock,
                         InstantSource rtc, BootListener bootListener) {
        public Config {
            disks = List.copyOf(disks);
            comPorts = List.copyOf(comPorts);
            Objects.requireNonNull(console, "BIOS console output");
            Objects.requireNonNull(keyboard, "BIOS console input");
            Objects.requireNonNull(a20, "A20 gate");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(rtc, "RTC time source");
            Objects.requireNonNull(bootListener, "boot listener");
            if (bootDrive < 0x80 || bootDrive > 0xFF) {
                throw new IllegalArgumentException("boot drive: 0x" + Integer.toHexString(bootDrive)
                        + " (expected: a hard disk number 0x80-0xff)");
            }
        }
    }

    private final BiosRom rom;
    private final BiosTrapDispatcher dispatcher;
    private final Int13DiskServices disks;
    private final Post post;
    private final E820Map e820;

    public Bios(PhysicalMemory memory, Config config) {
        this.rom = new BiosRom(LocalDate.ofInstant(config.rtc().instant(), ZoneOffset.UTC));
        this.e820 = E820Map.forRam(config.ramBytes());
        this.disks = new Int13DiskServices(memory, config.disks());
        VideoServices video = new VideoServices(memory, config.console());
        TimeServices time = new TimeServices(memory, config.rtc());
        Bda bda = new Bda(memory);
        BootService boot = new BootService(memory, disks, video, config.bootListener(), config.bootDrive());
        this.post = new Post(memory, disks.drives(), config.comPorts(), video, time, e820);

        Map<BiosRom.Entry, BiosService> services = new EnumMap<>(BiosRom.Entry.class);
        services.put(BiosRom.Entry.POST, call -> post.run(call.regs()));
        services.put(BiosRom.Entry.INT13_DISK, disks);
        // INT 40h is the diskette half of INT 13h; with no diskette drives it answers status 01h.
        services.put(BiosRom.Entry.INT40_DISKETTE, disks);
        // No serial or printer BIOS: CF=1, AH=86h and a trace line, never a silent no-op.
        services.put(BiosRom.Entry.INT14_SERIAL, BiosCall::unsupported);
        services.put(BiosRom.Entry.INT17_PRINTER, BiosCall::unsupported);
        services.put(BiosRom.Entry.INT19_BOOT, boot::bootstrap);
        services.put(BiosRom.Entry.INT18_BOOT_FAILURE, boot::bootFailure);
        services.put(BiosRom.Entry.INT16_KEYBOARD, new KeyboardServices(memory, config.keyboard()));
        services.put(BiosRom.Entry.INT10_VIDEO, video);
        services.put(BiosRom.Entry.INT11_EQUIPMENT, call -> call.regs().setAx(bda.readWord(Bda.EQUIPMENT)));
        services.put(BiosRom.Entry.INT12_MEMORY_SIZE, call -> call.regs().setAx(bda.readWord(Bda.MEMORY_SIZE_KB)));
        services.put(BiosRom.Entry.INT15_SYSTEM, new SystemServices(memory, e820, config.a20(), config.clock()));
        services.put(BiosRom.Entry.INT1A_TIME, time);
        this.dispatcher = new BiosTrapDispatcher(memory, rom, services);
    }

    /** The 64 KiB ROM for F0000–FFFFF (and its alias below 4 GiB). */
    public byte[] romImage() {
        return rom.image();
    }

    public BiosRom rom() {
        return rom;
    }

    public BiosTrapDispatcher dispatcher() {
        return dispatcher;
    }

    /** Runs POST directly (IVT, BDA, EBDA, video, ticks, stack), as the POST trap does. */
    public void post(RegisterFile regs) {
        post.run(regs);
    }

    public E820Map e820() {
        return e820;
    }

    /** The INT 13h services, e.g. for a probe that inspects the drives' geometry. */
    public Int13DiskServices disks() {
        return disks;
    }
}
