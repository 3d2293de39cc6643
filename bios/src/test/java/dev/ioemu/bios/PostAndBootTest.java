package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** POST's IVT/BDA/EBDA (shared/spec/int13.md §9) and INT 19h/18h (§7), from the reset vector on. */
class PostAndBootTest {
    @TempDir
    Path dir;

    /** A boot sector with an empty partition table, so the geometry is QEMU's default 130/16/63. */
    static byte[] bootSector() {
        byte[] sector = GuestKit.patternSector(0);
        java.util.Arrays.fill(sector, 0x1BE, 510, (byte) 0);
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        return sector;
    }

    Path bootableImage() throws Exception {
        Path img = GuestKit.sparseImage(dir, "boot.img", 64L << 20);
        byte[] sector = bootSector();
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        GuestKit.writeSectors(img, 0, sector);
        return img;
    }

    @Test
    void postFillsIvtBdaAndEbda() throws Exception {
        try (GuestKit kit = GuestKit.withImages(bootableImage())) {
            assertEquals(BiosTrapDispatcher.Outcome.SERVICED, kit.powerOn());
            assertEquals(0xF000E3FE, kit.memory.readDword(4 * 0x13));
            assertEquals(0xF000FF53, kit.memory.readDword(4 * 0x21), "unassigned vectors: IRET");
            assertEquals(Ebda.SEGMENT << 16 | Ebda.FDPT_DISK0, kit.memory.readDword(4 * 0x41));
            assertEquals(0, kit.memory.readDword(4 * 0x46), "no second disk");
            assertEquals(0x3F8, kit.memory.readWord(0x400));
            assertEquals(Ebda.SEGMENT, kit.memory.readWord(0x40E));
            assertEquals(0x0220, kit.memory.readWord(0x410), "80x25 colour, one COM port, no FPU");
            assertEquals(639, kit.memory.readWord(0x413));
            assertEquals(1, kit.bda(Bda.HARD_DISK_COUNT));
            assertEquals(0x03, kit.bda(Bda.VIDEO_MODE));
            assertEquals(80, kit.memory.readWord(0x44A));
            assertEquals(24, kit.bda(Bda.VIDEO_ROWS));
            assertEquals(0x1E, kit.memory.readWord(0x41A));
            assertEquals(0x3E, kit.memory.readWord(0x482));
            assertEquals(1, kit.memory.readByte(Ebda.BASE), "EBDA size in KiB");
            // FDPT of 130/16/63, untranslated
            long fdpt = Ebda.BASE + Ebda.FDPT_DISK0;
            assertEquals(130, kit.memory.readWord(fdpt));
            assertEquals(16, kit.memory.readByte(fdpt + 2));
            assertEquals(0xFFFF, kit.memory.readWord(fdpt + 5));
            assertEquals(0xC8, kit.memory.readByte(fdpt + 8));
            assertEquals(63, kit.memory.readByte(fdpt + 14));
            // 13:45:30 UTC = 49,530 s = 901,790 ticks
            assertEquals(49_530L * 1_193_182 / 65_536, kit.memory.readDword(0x46C));
            assertEquals(0, kit.regs.selector(Segment.SS));
            assertEquals(0x7000, kit.regs.sp());
            assertEquals(0x20, kit.memory.readByte(0xB8001 - 1), "screen cleared to blanks");
            assertEquals(0x07, kit.memory.readByte(0xB8001));
        }
    }

    @Test
    void translatedFdptCarriesA0SignatureAndChecksum() {
        DiskGeometry g = DiskGeometry.of(8388608, null, null, DiskGeometry.Policy.SEABIOS);
        byte[] t = Post.fdpt(g);
        assertEquals(522, (t[0] & 0xFF) | (t[1] & 0xFF) << 8);
        assertEquals(255, t[2] & 0xFF);
        assertEquals(0xA0, t[3] & 0xFF);
        assertEquals(63, t[4] & 0xFF);
        assertEquals(8322, (t[9] & 0xFF) | (t[10] & 0xFF) << 8);
        int sum = 0;
        for (byte b : t) {
            sum += b;
        }
        assertEquals(0, sum & 0xFF);
    }

    @Test
    void int19LoadsTheBootSectorAndSetsSeaBiosRegisters() throws Exception {
        try (GuestKit kit = GuestKit.withImages(bootableImage())) {
            kit.powerOn();
            kit.set(Gpr.EBX, 0x1234_5678);
            kit.interrupt(0x19);
            byte[] want = bootSector();
            byte[] got = new byte[512];
            kit.memory.read(0x7C00, got, 0, 512);
            assertArrayEquals(want, got);
            assertEquals(0, kit.regs.selector(Segment.CS));
            assertEquals(0x7C00, kit.regs.eip());
            assertEquals(0xAA55, kit.regs.gpr(Gpr.EAX));
            assertEquals(0x80, kit.regs.gpr(Gpr.EDX));
            assertEquals(0, kit.regs.gpr(Gpr.EBX));
            assertEquals(0x7C00, kit.regs.gpr(Gpr.ESP));
            assertEquals(0, kit.regs.selector(Segment.DS));
            assertEquals(0, kit.regs.selector(Segment.SS));
            assertEquals(0x0202, kit.regs.eflags());
            assertEquals(List.of(0x80), kit.booted);
            assertTrue(kit.bootFailures.isEmpty());
        }
    }

    @Test
    void int19FromAStackInsideTheBootSectorAreaDoesNotCorruptTheSector() throws Exception {
        try (GuestKit kit = GuestKit.withImages(bootableImage())) {
            kit.powerOn();
            kit.regs.loadRealModeSegment(Segment.SS, 0);
            kit.regs.setSp(0x7D00);
            kit.interrupt(0x19);
            byte[] got = new byte[512];
            kit.memory.read(0x7C00, got, 0, 512);
            assertArrayEquals(bootSector(), got);
        }
    }

    @Test
    void noSignatureMeansNoBootableDevice() throws Exception {
        Path img = GuestKit.sparseImage(dir, "blank.img", 1 << 20);
        try (GuestKit kit = GuestKit.withImages(img)) {
            kit.powerOn();
            kit.interrupt(0x19);
            assertTrue(kit.console.toString().contains("Boot failed: not a bootable disk\r\nNo bootable device.\r\n"),
                    kit.console.toString());
            assertEquals(List.of("not a bootable disk"), kit.bootFailures);
            assertEquals(0xF000, kit.regs.selector(Segment.CS));
            assertEquals(BiosRom.Entry.HALT.offset, kit.regs.ip());
            assertEquals(0xFA, kit.memory.readByte(kit.linearIp()), "CLI; HLT loop");
            assertEquals('N', kit.memory.readByte(0xB8000 + 160), "message on screen, second line");
        }
    }

    @Test
    void noDiskAndInt18BothFailTheBoot() {
        try (GuestKit kit = new GuestKit(List.of())) {
            kit.powerOn();
            kit.interrupt(0x19);
            kit.interrupt(0x18);
            assertEquals(List.of("no disk 80h", "INT 18h"), kit.bootFailures);
        }
    }
}
