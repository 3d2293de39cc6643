package dev.ioemu.emulator.cli;

import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.ide.ErrorPolicy;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.emulator.machine.IdeDriveSetup;
import dev.ioemu.emulator.machine.MachineSetupException;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PciIdeWiring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the command line's drives ({@code -drive}/{@code -hdX}/{@code -cdrom}/{@code -device
 * ide-hd|ide-cd}) into the machine's {@link IdeDriveSetup}s, placed as QEMU places them:
 * {@code -drive if=ide} without {@code index=} takes the next free position (0 = primary master
 * … 3 = secondary slave), {@code -cdrom} is index 2, a {@code -device} without
 * {@code bus=}/{@code unit=} takes the first free unit. {@code -global} model/serial/ver defaults
 * apply to disks and CD-ROMs from {@code -drive} too.
 */
public final class IdeDrivePlacement {
    private IdeDrivePlacement() {
    }

    /** Places the drives of {@code config} and wires PCI and IDE into {@code machine}. */
    public static PciIdeWiring attach(PcMachine machine, VmConfig config) throws UsageException {
        List<IdeDriveSetup> drives = place(config);
        try {
            return PciIdeWiring.attach(machine, drives);
        } catch (MachineSetupException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * The IDE positions {@code config} asks for, in the order the drives are opened.
     *
     * @throws UsageException naming the option of a drive that cannot be placed or has a bad
     *                        front-end value (rerror, werror, firmware-writes)
     */
    public static List<IdeDriveSetup> place(VmConfig config) throws UsageException {
        String[] taken = new String[4];
        Map<String, DriveSpec> byId = new HashMap<>();
        List<DriveSpec> legacy = new ArrayList<>();
        for (DriveSpec d : config.drives()) {
            if (d.iface() == DriveSpec.Interface.NONE) {
                byId.put(d.id(), d);
            } else {
                // Placed below in command-line order, as QEMU places them (an explicit index a
                // drive before it already took is an error there, not a silent shuffle).
                legacy.add(d);
            }
        }
        for (IdeDeviceSpec dev : config.ideDevices()) {
            if (dev.bus() >= 0 && dev.unit() >= 0) {
                taken[dev.bus() * 2 + dev.unit()] = dev.source();
            }
        }
        List<IdeDriveSetup> out = new ArrayList<>();
        boolean[] takenByDrive = new boolean[4];
        for (DriveSpec d : legacy) {
            int index = d.index() >= 0 ? d.index() : firstFree(taken, 0, 4, d.source());
            if (takenByDrive[index]) {
                throw new UsageException(d.source() + ": drive with bus=" + index / 2 + ", unit=" + index % 2
                        + " (index=" + index + ") exists");
            }
            takenByDrive[index] = true;
            taken[index] = d.source();
            IdeDriveKind kind = d.media() == DriveSpec.Media.CDROM ? IdeDriveKind.CDROM : IdeDriveKind.DISK;
            Map<String, String> g = config.ideGlobals().getOrDefault(
                    kind == IdeDriveKind.CDROM ? "ide-cd" : "ide-hd", Map.of());
            String device = "ide" + index / 2 + (kind == IdeDriveKind.CDROM ? "-cd" : "-hd") + index % 2;
            out.add(setup(d, index, kind, g.get("model"), g.get("serial"), g.get("ver"),
                    d.id() != null ? d.id() : device, d.source()));
        }
        for (IdeDeviceSpec dev : config.ideDevices()) {
            int index;
            if (dev.bus() >= 0 && dev.unit() >= 0) {
                index = dev.bus() * 2 + dev.unit();
            } else if (dev.bus() >= 0) {
                index = firstFree(taken, dev.bus() * 2, dev.bus() * 2 + 2, dev.source());
            } else {
                index = firstFree(taken, 0, 4, dev.source());
            }
            taken[index] = dev.source();
            DriveSpec d = dev.drive() == null ? null : byId.get(dev.drive());
            IdeDriveKind kind = dev.kind() == IdeDeviceSpec.Kind.CD ? IdeDriveKind.CDROM : IdeDriveKind.DISK;
            out.add(setup(d, index, kind, dev.model(), dev.serial(), dev.version(),
                    dev.drive() != null ? dev.drive() : "ide" + index / 2 + "-cd" + index % 2,
                    d != null ? d.source() : "ide" + index / 2 + " unit " + index % 2));
        }
        return out;
    }

    private static int firstFree(String[] taken, int from, int to, String source) throws UsageException {
        for (int i = from; i < to; i++) {
            if (taken[i] == null) {
                return i;
            }
        }
        throw new UsageException(source + ": no free IDE unit (expected: at most 4 drives, 2 per bus)");
    }

    /** {@code d} (null: an empty CD-ROM) at {@code index}, its front-end values parsed. */
    private static IdeDriveSetup setup(DriveSpec d, int index, IdeDriveKind kind, String model, String serial,
                                       String version, String deviceName, String source) throws UsageException {
        try {
            Int13Disk.FirmwareWrites firmwareWrites =
                    Int13Disk.FirmwareWrites.parse(d == null ? null : d.options().get("firmware-writes"));
            ErrorPolicy rerror = ErrorPolicy.parse(d != null ? d.rerror() : "report");
            ErrorPolicy werror = ErrorPolicy.parse(d != null ? d.werror() : "enospc");
            return new IdeDriveSetup(index, kind, d != null && d.file() != null ? d.options() : null, model, serial,
                    version, rerror, werror, firmwareWrites, deviceName, source);
        } catch (IllegalArgumentException e) {
            throw new UsageException(source + ": " + e.getMessage(), e);
        }
    }
}
