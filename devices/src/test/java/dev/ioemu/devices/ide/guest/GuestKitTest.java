package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.PiixIde;
import dev.ioemu.devices.pci.PciHostBridge;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kit's own pieces that the device tests do not reach: PRD encoding, BAR allocation, set-up checks. */
class GuestKitTest {
    @Test
    void prdTableCoveringABufferUses64KiBEntriesWithEotOnTheLast() {
        List<PrdDescriptor> table = PrdDescriptor.covering(0x100000, 0x20000 + 512);
        assertEquals(List.of(new PrdDescriptor(0x100000, 0x10000, false), new PrdDescriptor(0x110000, 0x10000, false),
                new PrdDescriptor(0x120000, 512, true)), table);
        ByteBuffer b = ByteBuffer.wrap(PrdDescriptor.encode(table)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x100000, b.getInt(0));
        assertEquals(0, b.getInt(4), "64 KiB is a count field of 0, no EOT");
        assertEquals(Ata.PRD_EOT | 512, b.getInt(20));
    }

    @Test
    void prdByteCountOutsideTheFieldIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PrdDescriptor(0, 0x10001, true));
        assertThrows(IllegalArgumentException.class, () -> new PrdDescriptor(0, -1, true));
    }

    @Test
    void dmaCompletionSucceedsOnlyWithInterruptAndAQuietDrdyStatus() {
        assertTrue(new DmaCompletion(Ata.BM_STATUS_INTERRUPT, 0x50, true, false).succeeded());
        assertFalse(new DmaCompletion(Ata.BM_STATUS_INTERRUPT | Ata.BM_STATUS_ACTIVE, 0x50, true, false).succeeded());
        assertFalse(new DmaCompletion(Ata.BM_STATUS_INTERRUPT, 0x51, true, false).succeeded());
        assertFalse(new DmaCompletion(Ata.BM_STATUS_INTERRUPT, 0x10, true, false).succeeded());
    }

    @Test
    void iomapAssignsSuccessiveRangesOfTheIoWindowAndSetUpChecksTheFunction() {
        IoPortBus bus = new IoPortBus();
        GuestMemory memory = new GuestMemory(1 << 20);
        PciHostBridge host = new PciHostBridge();
        bus.map(PciConfigAccess.CONFIG_ADDRESS, 8, host);
        InProcessTransport transport = new InProcessTransport(bus, memory, irq -> false, () -> { });
        PciConfigAccess pci = new PciConfigAccess(transport);
        assertThrows(GuestDriverException.class, () -> AtaDriver.setUpController(pci, 0xC000),
                "no IDE function at 00:01.1");
        try (PiixIde ide = new PiixIde(bus, memory, level -> { }, level -> { }, VmStateControl.NONE)) {
            host.attach(PiixIde.DEVFN, ide);
            assertEquals(0xC000, pci.iomap(AtaDriver.PIIX_IDE_DEVFN, AtaDriver.BUS_MASTER_BAR));
            assertEquals(0xC010, pci.iomap(AtaDriver.PIIX_IDE_DEVFN, AtaDriver.BUS_MASTER_BAR));
            assertEquals(16, AtaDriver.setUpController(pci, 0xC040));
            assertEquals(0xC041, pci.read(AtaDriver.PIIX_IDE_DEVFN, 0x20, 4));
            assertThrows(GuestDriverException.class, () -> pci.iomap(AtaDriver.PIIX_IDE_DEVFN, 0),
                    "BAR0 of the PIIX3 IDE function is not implemented (reads 0)");
        }
    }
}
