package dev.ioemu.emulator.machine;

import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.block.BlkDebug;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.ide.IdeDriveConfig;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.pci.I440fxHostBridge;
import dev.ioemu.devices.pci.PciHostBridge;
import dev.ioemu.devices.pci.Piix3IsaBridge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pc machine's PCI and IDE wiring: the configuration-mechanism-#1 host bridge on
 * 0xCF8-0xCFF with the i440FX (00.0), the PIIX3 ISA bridge (01.0) and the PIIX3 IDE function
 * (01.1) on IOAPIC pins 14/15, and the configured drives ({@link IdeDriveSetup}, placed by the
 * front end), opened through the block layer.
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
     * Plugs PCI, IDE and {@code drives} into {@code machine}.
     *
     * @throws MachineSetupException naming the source of a drive that cannot be opened (the
     *                               drives opened before it are closed again)
     */
    public static PciIdeWiring attach(PcMachine machine, List<IdeDriveSetup> drives) throws MachineSetupException {
        PciHostBridge host = new PciHostBridge();
        machine.ioBus().map(PCI_CONFIG_PORT, 8, host);
        host.attach(DEVFN_HOST_BRIDGE, new I440fxHostBridge());
        host.attach(DEVFN_ISA_BRIDGE, new Piix3IsaBridge());
        PiixIde ide = new PiixIde(machine.ioBus(), machine.addressSpace(), machine.irq(IRQ_PRIMARY),
                machine.irq(IRQ_SECONDARY), machine.runState());
        host.attach(DEVFN_IDE, ide);
        List<Attached> opened = new ArrayList<>();
        Int13Disk.FirmwareWrites[] firmwareWrites = new Int13Disk.FirmwareWrites[PiixIde.MAX_DRIVES];
        Arrays.fill(firmwareWrites, Int13Disk.FirmwareWrites.SYNC);
        try {
            for (IdeDriveSetup d : drives) {
                firmwareWrites[d.index()] = d.firmwareWrites();
                attachOne(ide, opened, d);
            }
        } catch (MachineSetupException | RuntimeException e) {
            for (Attached a : opened) {
                a.block().close();
            }
            ide.close();
            throw e;
        }
        PciIdeWiring wiring = new PciIdeWiring(ide, opened, firmwareWrites);
        machine.addComponent(wiring);
        machine.runState().nameDrivesWith(wiring::deviceName);
        return wiring;
    }

    /** Opens {@code d}'s image (none for an empty CD-ROM) and attaches it at its position. */
    private static void attachOne(PiixIde ide, List<Attached> opened, IdeDriveSetup d) throws MachineSetupException {
        BlockDevice block = null;
        if (d.blockOptions() != null) {
            try {
                Map<String, String> options = new LinkedHashMap<>(d.blockOptions());
                if (d.kind() == IdeDriveKind.CDROM) {
                    options.putIfAbsent("readonly", "on");
                }
                block = BlockDevices.open(DriveOptions.fromMap(options));
            } catch (BlockOpenException e) {
                // QEMU 7.2 meets a lock conflict when it realizes the device: its message names the
                // -device option, and no option at all for a -drive if=ide (checked against the peer).
                boolean lockAtRealize = e.reason().startsWith("Failed to get")
                        && d.source().startsWith("-drive");
                throw new MachineSetupException((lockAtRealize ? "" : d.source() + ": ") + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new MachineSetupException(d.source() + ": " + e.getMessage(), e);
            }
        }
        try {
            ide.attach(d.bus(), d.unit(), new IdeDriveConfig(block, d.kind(), d.model(), d.serial(), d.version(),
                    d.rerror(), d.werror(), null));
        } catch (IllegalArgumentException e) {
            if (block != null) {
                block.close();
            }
            throw new MachineSetupException(d.source() + ": " + e.getMessage(), e);
        }
        if (block != null) {
            String format = d.blockOptions().getOrDefault("format", "raw");
            opened.add(new Attached(new BlockInfo(d.deviceName(), "/machine/unattached/ide" + d.bus() + "-" + d.unit(),
                    d.kind() == IdeDriveKind.CDROM, block.name(), block.isReadOnly(), format, block.cacheMode(),
                    block.size(), block.stats(), block, d.kind() == IdeDriveKind.DISK ? d.firmwareWrites() : null),
                    block));
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

    /** QEMU's drive id of {@code block} ({@code ide0-hd0}, or the id given), "" if not one of ours. */
    private String deviceName(BlockDevice block) {
        for (Attached a : drives) {
            if (a.block() == block) {
                return a.info().device();
            }
        }
        return "";
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
