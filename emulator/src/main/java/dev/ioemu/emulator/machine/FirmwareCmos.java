package dev.ioemu.emulator.machine;

import dev.ioemu.bios.DiskGeometry;
import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.ide.IdeDevice;
import dev.ioemu.devices.ide.IdeDriveKind;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.isa.PcCmosLayout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The CMOS bytes a firmware image reads about the IDE hard disks, written as QEMU 7.2's pc
 * machine writes them: the physical geometry of the first two disks (0x12, 0x19/0x1A, 0x1B…)
 * and the translation byte 0x39, two bits per drive, from QEMU's geometry guess (partition
 * table, else 16 heads / 63 sectors; shared/spec/seabios.md §8.6, int13.md §5.2–5.5). SeaBIOS
 * takes its logical geometry from 0x39, so a 64 MiB disk partitioned with 255 heads gets QEMU's
 * "translation=large". The HLE BIOS computes its geometry itself and does not need this.
 */
public final class FirmwareCmos {
    private static final int SECTOR_SIZE = 512;

    private FirmwareCmos() {
    }

    /** Rewrites the machine's CMOS with the IDE disks of {@code wiring} described. */
    public static void describeDisks(PcMachine machine, PciIdeWiring wiring) {
        PiixIde ide = wiring.controller();
        List<PcCmosLayout.HardDisk> disks = new ArrayList<>();
        for (int unit = 0; unit < PiixIde.MAX_DRIVES; unit++) {
            IdeDevice d = ide.drive(unit);
            if (d == null || d.kind() != IdeDriveKind.DISK || d.requestQueue() == null) {
                continue;
            }
            BlockAio queue = d.requestQueue();
            long total = queue.device().size() / SECTOR_SIZE;
            DiskGeometry g = DiskGeometry.of(total, firstSector(queue, total), null, DiskGeometry.Policy.SEABIOS);
            disks.add(new PcCmosLayout.HardDisk(unit, g.physical().cylinders(), g.physical().heads(),
                    g.physical().sectors(), cmosTranslation(g)));
        }
        PcMemoryMap map = machine.memoryMap();
        PcCmosLayout.apply(machine.platform().rtc(), PcCmosLayout.contents(map.ramBelowFourGib(),
                map.ramSize() - map.ramBelowFourGib(), PcPlatformWiring.DEFAULT_BOOT_ORDER, disks));
    }

    /** CMOS 0x39's two bits: 0 none, 1 LBA, 2 large, 3 r-echs. */
    private static int cmosTranslation(DiskGeometry g) {
        return switch (g.translation()) {
            case LBA -> 1;
            case LARGE -> 2;
            case RECHS -> 3;
            default -> 0;
        };
    }

    /** The image's first sector for QEMU's partition-table guess, or null if it cannot be read. */
    private static byte[] firstSector(BlockAio queue, long total) {
        if (total == 0) {
            return null;
        }
        byte[] sector0 = new byte[SECTOR_SIZE];
        CompletableFuture<Integer> done = new CompletableFuture<>();
        queue.read(0, ByteBuffer.wrap(sector0), done::complete);
        try {
            return done.get() == SECTOR_SIZE ? sector0 : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException e) {
            return null;
        }
    }
}
