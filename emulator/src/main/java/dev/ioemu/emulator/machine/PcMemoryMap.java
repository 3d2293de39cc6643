package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.RamBlock;

/**
 * The pc (i440FX) machine's guest-physical memory map at reset, as QEMU 7.2's {@code -machine pc}
 * shows it over qtest with {@code -S} (observed on the installed peer, 128 MiB and 4 GiB):
 * <ul>
 *   <li>RAM at [0, 0xc0000): the VGA window 0xa0000-0xbffff holds RAM when no VGA is present
 *       (writes there read back);
 *   <li>[0xc0000, 0xe0000): option-ROM space with the PAM registers closed — unassigned (reads 0,
 *       writes dropped) until an option ROM is mapped ({@link #mapOptionRom});
 *   <li>[0xe0000, 0x100000): the last 128 KiB of the BIOS ROM ("isa-bios"); writes dropped;
 *   <li>RAM from 1 MiB up to the RAM size, or to 3 GiB when the RAM is 3.5 GiB or more
 *       (QEMU's {@code gigabyte_align}: {@code -m 4G} gives 3 GiB low and 1 GiB at 4 GiB);
 *   <li>the whole BIOS ROM ending at 4 GiB (256 KiB by default: 0xfffc0000-0xffffffff), the
 *       same bytes as the isa-bios window;
 *   <li>RAM above 4 GiB for the rest; everything else unassigned.
 * </ul>
 * ioemu loads no firmware image by default: the BIOS ROM is zero-filled and its bytes come from
 * {@link #loadBios} (the HLE BIOS). The IOAPIC/LAPIC/HPET windows are not modelled yet; QEMU's
 * qtest view shows zeros there too.
 *
 * <p>With a firmware image ({@code -bios}, {@link #PcMemoryMap(long, FirmwareImage)}) the map
 * follows shared/spec/seabios.md §4.3: the whole image is read-only ROM ending at
 * 4 GiB, and 0xc0000-0xfffff is always-writable RAM preloaded with the image's last 256 KiB
 * ({@link FirmwareShadow}); the PAM registers are plain storage. SeaBIOS's unlock then copies
 * identical bytes and its lock has no effect, exactly what QEMU 7.2 delivers under KVM; the
 * 4 GiB copy stays pristine, which SeaBIOS's reboot path relies on.
 */
public final class PcMemoryMap implements AutoCloseable {
    /** Start of option-ROM space. */
    public static final long OPTION_ROM_START = 0xc0000;
    /** Start of the isa-bios window (the BIOS ROM's last 128 KiB). */
    public static final long ISA_BIOS_START = 0xe0000;
    public static final long ISA_BIOS_SIZE = 0x20000;
    /** Extended memory starts at 1 MiB. */
    public static final long EXTENDED_MEMORY_START = 0x100000;
    /** QEMU's default max-ram-below-4g; from it up, the low RAM is cut to 3 GiB. */
    public static final long MAX_RAM_BELOW_4G = 0xe0000000L;
    public static final long GIGABYTE_ALIGNED_BELOW_4G = 0xc0000000L;
    public static final long FOUR_GIB = 1L << 32;
    /** The BIOS ROM size QEMU's pc machine maps (bios-256k.bin). */
    public static final long DEFAULT_BIOS_SIZE = 256 * 1024;

    private final long ramSize;
    private final long belowFourGib;
    private final RamBlock ram;
    private final RamBlock bios;
    private final AddressSpace space = new AddressSpace();
    private final FirmwareShadow shadow;

    /**
     * Builds the map with {@code ramSize} bytes of RAM (a multiple of 4 KiB, at least 1 MiB) and a
     * zeroed BIOS ROM.
     *
     * @throws dev.ioemu.devices.bus.MemoryAllocationException if the host refuses the RAM
     */
    public PcMemoryMap(long ramSize) {
        this(ramSize, null);
    }

    /**
     * Builds the map with {@code ramSize} bytes of RAM and, if {@code firmware} is not null, that
     * image as ROM ending at 4 GiB plus its shadow RAM at 0xc0000-0xfffff (class comment).
     *
     * @throws dev.ioemu.devices.bus.MemoryAllocationException if the host refuses the RAM
     */
    public PcMemoryMap(long ramSize, FirmwareImage firmware) {
        if (ramSize < EXTENDED_MEMORY_START || ramSize % RamBlock.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("RAM size: " + ramSize + " (expected: a multiple of 4 KiB, at least 1 MiB)");
        }
        this.ramSize = ramSize;
        this.belowFourGib = ramSize >= MAX_RAM_BELOW_4G ? GIGABYTE_ALIGNED_BELOW_4G : ramSize;
        this.ram = RamBlock.allocate("pc.ram", ramSize);
        try {
            this.bios = RamBlock.allocate("pc.bios", firmware == null ? DEFAULT_BIOS_SIZE : firmware.size());
        } catch (RuntimeException e) {
            ram.close();
            throw e;
        }
        space.mapRam("ram-below-4g", 0, ram, 0, OPTION_ROM_START);
        if (firmware == null) {
            space.mapRom("isa-bios", ISA_BIOS_START, bios, bios.size() - ISA_BIOS_SIZE, ISA_BIOS_SIZE);
            shadow = null;
        } else {
            bios.chunks().get(0).buffer().put(0, firmware.bytes());
            shadow = FirmwareShadow.map(space, ram, firmware);
        }
        if (belowFourGib > EXTENDED_MEMORY_START) {
            space.mapRam("ram-below-4g", EXTENDED_MEMORY_START, ram, EXTENDED_MEMORY_START,
                    belowFourGib - EXTENDED_MEMORY_START);
        }
        space.mapRom("pc.bios", FOUR_GIB - bios.size(), bios, 0, bios.size());
        if (ramSize > belowFourGib) {
            space.mapRam("ram-above-4g", FOUR_GIB, ram, belowFourGib, ramSize - belowFourGib);
        }
    }

    public AddressSpace addressSpace() {
        return space;
    }

    public long ramSize() {
        return ramSize;
    }

    /** Bytes of RAM below 4 GiB (QEMU's below_4g_mem_size); the rest is at 4 GiB. */
    public long ramBelowFourGib() {
        return belowFourGib;
    }

    /** The firmware's shadow RAM at 0xc0000-0xfffff, or null when the HLE BIOS runs (no {@code -bios}). */
    public FirmwareShadow firmwareShadow() {
        return shadow;
    }

    /** The host memory behind all of guest RAM (for KVM slots use {@link AddressSpace#memorySlots()}). */
    public RamBlock ram() {
        return ram;
    }

    /**
     * Copies a BIOS image into the BIOS ROM so that it ends at 4 GiB and at 1 MiB (its last
     * 128 KiB at 0xe0000). The image must be at most the ROM's 256 KiB; a shorter one is placed
     * at the top, the bytes below it stay zero.
     */
    public void loadBios(byte[] image) {
        if (image.length == 0 || image.length > bios.size()) {
            throw new IllegalArgumentException("BIOS image: " + image.length + " bytes (expected: 1 to " + bios.size() + ")");
        }
        bios.chunks().get(0).buffer().put((int) (bios.size() - image.length), image);
    }

    /**
     * Maps an option ROM (a multiple of 512 bytes, e.g. a VGA BIOS) at {@code address} inside
     * 0xc0000-0xdffff; writes to it are dropped.
     */
    public void mapOptionRom(String name, long address, byte[] image) {
        long size = (image.length + RamBlock.PAGE_SIZE - 1) / RamBlock.PAGE_SIZE * RamBlock.PAGE_SIZE;
        if (image.length == 0 || address < OPTION_ROM_START || address + size > ISA_BIOS_START) {
            throw new IllegalArgumentException(String.format("option ROM %s: %d bytes at 0x%x (expected: inside 0xc0000-0xdffff)",
                    name, image.length, address));
        }
        RamBlock block = RamBlock.allocate(name, size);
        block.chunks().get(0).buffer().put(0, image);
        space.mapRom(name, address, block, 0, size);
    }

    @Override
    public void close() {
        // Nothing may touch guest memory after this: engines and DMA are stopped at shutdown.
        ram.close();
        bios.close();
    }
}
