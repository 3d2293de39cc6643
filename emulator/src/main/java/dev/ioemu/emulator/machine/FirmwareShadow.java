package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.RamBlock;

/**
 * The firmware's shadow RAM at 0xc0000-0xfffff (the PAM-controlled segments, shared/spec/seabios.md
 * §4): guest RAM there, always writable, holding the last min(size, 256 KiB) of the {@code -bios}
 * image at power-on, zeros below it. That is the state SeaBIOS's unlock would produce, so its copy
 * from the 4 GiB ROM rewrites identical bytes.
 *
 * <p>On every machine reset (0xCF9, i8042 pulse, port 92h, triple fault) the area is reloaded from
 * the image, as §10 recommends: SeaBIOS then sees its pristine {@code HaveRunPost} = 0 and runs a
 * clean cold POST instead of its resume path.
 */
public final class FirmwareShadow implements MachineComponent {
    public static final long START = 0xc0000;
    public static final long SIZE = 0x40000;

    private final AddressSpace space;
    private final FirmwareImage image;

    private FirmwareShadow(AddressSpace space, FirmwareImage image) {
        this.space = space;
        this.image = image;
    }

    /** Maps the shadow as RAM (guest RAM's own bytes at those addresses) and loads it. */
    static FirmwareShadow map(AddressSpace space, RamBlock ram, FirmwareImage image) {
        space.mapRam("pc.shadow", START, ram, START, SIZE);
        FirmwareShadow s = new FirmwareShadow(space, image);
        s.reload();
        return s;
    }

    /** Rewrites the area from the image; decoded code there is dropped. */
    public void reload() {
        byte[] area = new byte[(int) SIZE];
        int copied = (int) Math.min(SIZE, image.size());
        System.arraycopy(image.bytes(), image.size() - copied, area, area.length - copied, copied);
        space.write(START, area, 0, area.length);
    }

    @Override
    public void reset() {
        reload();
    }

    @Override
    public String name() {
        return "pc.shadow";
    }
}
