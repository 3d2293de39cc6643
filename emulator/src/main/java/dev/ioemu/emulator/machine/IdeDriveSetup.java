package dev.ioemu.emulator.machine;

import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.ide.ErrorPolicy;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.devices.ide.PiixIde;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One IDE position the pc machine fills, as the machine needs it: where, what kind of drive, the
 * block options of its image and the IDENTIFY strings, already placed and parsed by the front
 * end, so machine wiring never reads command-line types.
 *
 * @param index          IDE index 0..3 (0 = primary master … 3 = secondary slave)
 * @param kind           disk or CD-ROM
 * @param blockOptions   the drive's block keys for {@link dev.ioemu.devices.block.DriveOptions#fromMap}
 *                       (a CD-ROM is opened read-only unless they say otherwise), or null for an
 *                       empty CD-ROM tray
 * @param model          IDENTIFY model string, or null for the default
 * @param serial         IDENTIFY serial number, or null for the default
 * @param version        IDENTIFY firmware revision, or null for the default
 * @param rerror         what a failed read does (shared/spec/ide.md §6.5)
 * @param werror         what a failed write or flush does
 * @param firmwareWrites how INT 13h writes to this drive complete (issue 11)
 * @param deviceName     the QMP device name ("ide0-hd0" or the drive's id)
 * @param source         how the user asked for the drive, for messages ("-drive file=a.img,if=ide")
 */
public record IdeDriveSetup(int index, IdeDriveKind kind, Map<String, String> blockOptions, String model,
                            String serial, String version, ErrorPolicy rerror, ErrorPolicy werror,
                            Int13Disk.FirmwareWrites firmwareWrites, String deviceName, String source) {
    public IdeDriveSetup {
        if (index < 0 || index >= PiixIde.MAX_DRIVES) {
            throw new IllegalArgumentException("IDE index: " + index + " (expected: 0-3)");
        }
        // Command-line order is kept: the block layer reads keys such as inject-error.N.* in order.
        blockOptions = blockOptions == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(blockOptions));
    }

    /** 0 = primary, 1 = secondary. */
    public int bus() {
        return index / 2;
    }

    /** 0 = master, 1 = slave. */
    public int unit() {
        return index % 2;
    }
}
