package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.AddressSpace;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pc map as QEMU 7.2 shows it (observed over qtest on the peer, 128 MiB and 4 GiB). */
class PcMemoryMapTest {
    @Test
    void fourGibSplitsIntoThreeGibLowAndOneGibAboveFourGib() {
        try (PcMemoryMap map = new PcMemoryMap(4L << 30)) {
            AddressSpace s = map.addressSpace();
            assertEquals(3L << 30, map.ramBelowFourGib());
            assertTrue(s.isRam(0xbffffffcL, 4));
            assertFalse(s.isRam(0xc0000000L, 1));
            assertTrue(s.isRam(1L << 32, 1L << 30));
            assertFalse(s.isRam((1L << 32) + (1L << 30), 1));
            s.writeDword(0x13ffffffcL, 0x55667788);
            assertEquals(0x55667788, s.readDword(0x13ffffffcL));
            s.writeDword(0x140000000L, 0x11);
            assertEquals(0, s.readDword(0x140000000L));
            // The last 1 GiB of RAM is its own chunk (one KVM slot).
            assertTrue(s.memorySlots().stream().allMatch(slot -> slot.size() <= (1L << 30)));
        }
    }

    @Test
    void theBiosRomIsMirroredBelowOneMibAndBelowFourGibAndIgnoresWrites() {
        try (PcMemoryMap map = new PcMemoryMap(128L << 20)) {
            AddressSpace s = map.addressSpace();
            byte[] bios = new byte[128 * 1024];
            bios[bios.length - 16] = (byte) 0xea;   // the reset vector's far jump
            bios[0] = 0x55;
            map.loadBios(bios);
            assertEquals(0xea, s.readByte(0xffff0));
            assertEquals(0xea, s.readByte(0xfffffff0L));
            assertEquals(0x55, s.readByte(0xe0000));
            assertEquals(0x55, s.readByte(0xfffe0000L));
            s.writeByte(0xffff0, 0);
            s.writeByte(0xfffffff0L, 0);
            assertEquals(0xea, s.readByte(0xffff0));
            assertEquals(0xea, s.readByte(0xfffffff0L));
            assertThrows(IllegalArgumentException.class, () -> map.loadBios(new byte[512 * 1024]));
        }
    }

    @Test
    void optionRomSpaceIsUnassignedUntilARomIsMapped() {
        try (PcMemoryMap map = new PcMemoryMap(128L << 20)) {
            AddressSpace s = map.addressSpace();
            s.writeDword(0xc0000, 0x11223344);
            assertEquals(0, s.readDword(0xc0000));
            byte[] rom = new byte[512];
            rom[0] = 0x55;
            rom[1] = (byte) 0xaa;
            map.mapOptionRom("vgabios", 0xc0000, rom);
            assertEquals(0xaa55, s.readWord(0xc0000));
            s.writeWord(0xc0000, 0);
            assertEquals(0xaa55, s.readWord(0xc0000));
            assertThrows(IllegalArgumentException.class, () -> map.mapOptionRom("late", 0xc0000, rom));
        }
    }

    @Test
    void lowRamIncludesTheVgaWindowWithoutVga() {
        try (PcMemoryMap map = new PcMemoryMap(128L << 20)) {
            AddressSpace s = map.addressSpace();
            s.writeDword(0xa0000, 0x11223344);
            assertEquals(0x11223344, s.readDword(0xa0000));
        }
    }
}
