package dev.ioemu.emulator.machine;

import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.block.BlkDebug;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.ide.ErrorPolicy;
import dev.ioemu.devices.ide.IdeDriveConfig;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;
import dev.ioemu.emulator.cli.DriveSpec;
import dev.ioemu.emulator.cli.IdeDeviceSpec;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pc machine's PCI and IDE wiring: the configuration-mechanism-#1 host bridge on
 * 0xCF8-0xCFF with the i440FX (00.0), the PIIX3 ISA bridge (01.0) and the PIIX3 IDE function
 * (01.1) on IOAPIC pins 14/15, and the drives of {@code -drive}/{@code -hdX}/{@code -cdrom}/
 * {@code -device ide-hd|ide-cd}, opened through the block layer.
 *
 * <p>Placement follows QEMU: {@code -drive if=ide} without {@code index=} takes the next free
 * position (0 = primary master … 3 = secondary slave), {@code -cdrom} is index 2, a
 * {@code -device} without {@code bus=}/{@code unit=} takes the first free unit. {@code -global}
 * model/serial/ver defaults apply to disks and CD-ROMs from {@code -drive} too.
 */
public final class PciIdeWiring implements MachineComponent {

    private static final int PCI_CONFIG_PORT = 0xcf8;
    private static final int DEVFN_HOST_BRIDGE = 0x00;
    private static final int DEVFN_ISA_BRIDGE = 0x08;
    private static final int DEVFN_IDE = 0x09;
    private static final int IRQ_PRIMARY = 14;
    private static final int IRQ_SECONDARY = 15;

    private record Attached(BlockInfo info, BlockDevice block) {
    }

    private final PiixIde ide;
    private final List<Attached> drives;
    /** {@code -drive firmware-writes=} by IDE index. */
    private final Int13Disk.FirmwareWrites[] firmwareWrites;

    private PciIdeWiring(PiixIde ide, List<Attached> drives, Int13Disk.FirmwareWrites[] firmwareWrites) {
        this.ide = ide;
        this.drives = drives;
        this.firmwareWrites = firmwareWrites;
    }

    @Override
    public String name() {
        return "pci-ide";
    }

    /** How INT 13h writes to the drive at IDE index {@code index} are completed (issue 11). */
    public Int13Disk.FirmwareWrites firmwareWrites(int index) {
        return firmwareWrites[index];
    }

    /** The PIIX3 IDE function, e.g. to find a drive by IDE index ({@link PiixIde#drive}). */
    public PiixIde controller() {
        return ide;
    }

    /**
     * Plugs PCI, IDE and the configured drives into {@code machine}.
     *
     * @throws UsageException naming the option of a drive that cannot be placed or opened (the
     *                        drives opened before it are closed again)
     */
    public static PciIdeWiring attach(PcMachine machine, VmConfig config) throws UsageException {
        PciHostBridge host = new PciHostBridge();
        machine.ioBus().map(PCI_CONFIG_PORT, 8, host);
        host.attach(DEVFN_HOST_BRIDGE, new I440fxHostBridge());
        host.attach(DEVFN_ISA_BRIDGE, new Piix3IsaBridge());
        PiixIde ide = new PiixIde(machine.ioBus(), machine.addressSpace(), machine.irq(IRQ_PRIMARY),
                machine.irq(IRQ_SECONDARY), machine.runState());
        host.attach(DEVFN_IDE, ide);
        List<Attached> opened = new ArrayList<>();
        Int13Disk.FirmwareWrites[] firmwareWrites = new Int13Disk.FirmwareWrites[PiixIde.MAX_DRIVES];
        java.util.Arrays.fill(firmwareWrites, Int13Disk.FirmwareWrites.SYNC);
        try {
            placeDrives(config, ide, opened, firmwareWrites);
        } catch (UsageException | RuntimeException e) {
            for (Attached a : opened) {
                a.block().close();
            }
            ide.close();
            throw e;
        }
        PciIdeWiring wiring = new PciIdeWiring(ide, opened, firmwareWrites);
        machine.addComponent(wiring);
        return wiring;
    }

    private static void placeDrives(VmConfig config, PiixIde ide, List<Attached> opened,
                                    Int13Disk.FirmwareWrites[] firmwareWrites) throws UsageException {
        String[] taken = new String[4];
        Map<String, DriveSpec> byId = new HashMap<>();
        List<DriveSpec> legacy = new ArrayList<>();
        for (DriveSpec d : config.drives()) {
            if (d.iface() == DriveSpec.Interface.NONE) {
                byId.put(d.id(), d);
            } else {
                legacy.add(d);
                if (d.index() >= 0) {
                    taken[d.index()] = d.source();
                }
            }
        }
        for (IdeDeviceSpec dev : config.ideDevices()) {
            if (dev.bus() >= 0 && dev.unit() >= 0) {
                taken[dev.bus() * 2 + dev.unit()] = dev.source();
            }
        }
        for (DriveSpec d : legacy) {
            int index = d.index() >= 0 ? d.index() : firstFree(taken, 0, 4, d.source());
            taken[index] = d.source();
            IdeDriveKind kind = d.media() == DriveSpec.Media.CDROM ? IdeDriveKind.CDROM : IdeDriveKind.DISK;
            Map<String, String> g = config.ideGlobals().getOrDefault(
                    kind == IdeDriveKind.CDROM ? "ide-cd" : "ide-hd", Map.of());
            String device = "ide" + index / 2 + (kind == IdeDriveKind.CDROM ? "-cd" : "-hd") + index % 2;
            firmwareWrites[index] = firmwareWrites(d);
            attachOne(ide, opened, d, kind, index / 2, index % 2, g.get("model"), g.get("serial"), g.get("ver"),
                    d.id() != null ? d.id() : device);
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
            firmwareWrites[index] = firmwareWrites(d);
            attachOne(ide, opened, d, kind, index / 2, index % 2, dev.model(), dev.serial(), dev.version(),
                    dev.drive() != null ? dev.drive() : "ide" + index / 2 + "-cd" + index % 2);
        }
    }

    private static int firstFree(String[] taken, int from, int to, String source) throws UsageException {
        for (int i = from; i < to; i++) {
            if (taken[i] == null) {
                return i;
            }
        }
        throw new UsageException(source + ": no free IDE unit (expected: at most 4 drives, 2 per bus)");
    }

    /** {@code firmware-writes=} of a drive (sync when absent or for an empty drive). */
    private static Int13Disk.FirmwareWrites firmwareWrites(DriveSpec d) throws UsageException {
        try {
            return Int13Disk.FirmwareWrites.parse(d == null ? null : d.options().get("firmware-writes"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(d.source() + ": " + e.getMessage(), e);
        }
    }

    /** Opens {@code d}'s image (none for an empty CD-ROM) and attaches it at (bus, unit). */
    private static void attachOne(PiixIde ide, List<Attached> opened, DriveSpec d, IdeDriveKind kind, int bus,
                                  int unit, String model, String serial, String version, String device)
            throws UsageException {
        BlockDevice block = null;
        String source = d != null ? d.source() : "ide" + bus + " unit " + unit;
        if (d != null && d.file() != null) {
            try {
                Map<String, String> options = new LinkedHashMap<>(d.options());
                if (kind == IdeDriveKind.CDROM) {
                    options.putIfAbsent("readonly", "on");
                }
                block = BlockDevices.open(DriveOptions.fromMap(options));
            } catch (IllegalArgumentException | BlockOpenException e) {
                throw new UsageException(source + ": " + e.getMessage(), e);
            }
        }
        ErrorPolicy rerror = ErrorPolicy.parse(d != null ? d.rerror() : "report");
        ErrorPolicy werror = ErrorPolicy.parse(d != null ? d.werror() : "enospc");
        ide.attach(bus, unit, new IdeDriveConfig(block, kind, model, serial, version, rerror, werror, null));
        if (block != null) {
            String format = d.options().getOrDefault("format", "raw");
            opened.add(new Attached(new BlockInfo(device, "/machine/unattached/ide" + bus + "-" + unit,
                    kind == IdeDriveKind.CDROM, block.name(), block.isReadOnly(), format, block.cacheMode(),
                    block.size(), block.stats(), block), block));
        }
    }

    @Override
    public void reset() {
        ide.reset();
    }

    @Override
    public void resume() {
        ide.resume();
    }

    @Override
    public void drain() {
        // Only wait: a flush here would make unflushed guest writes durable behind its back.
        ide.drain();
    }

    @Override
    public void shutdown() {
        // A request held at a blkdebug breakpoint would keep the drain waiting for ever.
        for (Attached a : drives) {
            BlkDebug debug = BlkDebug.find(a.block());
            if (debug != null) {
                debug.releaseBreakpoints();
            }
        }
        ide.drainAndFlush();
        ide.close();
        for (Attached a : drives) {
            a.block().close();
        }
    }

    @Override
    public List<BlockInfo> blocks() {
        List<BlockInfo> out = new ArrayList<>();
        for (Attached a : drives) {
            out.add(a.info());
        }
        return out;
    }
}
