package dev.ioemu.emulator.machine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A -bios image's placement: ROM at 4 GiB, writable shadow below 1 MiB (shared/spec/seabios.md §3, §4.3, §10). */
class FirmwareShadowTest {
    /** A 256 KiB image whose every byte says where it is (offset / 4 KiB + 1), ending in the reset jump. */
    private static FirmwareImage image() {
        byte[] b = new byte[256 * 1024];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i / 4096 + 1);
        }
        return new FirmwareImage(Path.of("test.bin"), b);
    }

    @Test
    void wholeImageAtFourGibAndItsLast256KiBAtC0000() {
        try (PcMemoryMap map = new PcMemoryMap(16L << 20, image())) {
            var space = map.addressSpace();
            assertEquals(1, space.readByte(0xfffc0000L), "first byte at 4 GiB - 256 KiB");
            assertEquals(64, space.readByte(0xffffffffL), "last byte at 4 GiB - 1");
            assertEquals(1, space.readByte(0xc0000), "bios-256k's first byte at 0xC0000");
            assertEquals(49, space.readByte(0xf0000), "the F segment holds the image's last 64 KiB");
        }
    }

    @Test
    void shadowIsWritableAndTheFourGibCopyStaysPristine() {
        try (PcMemoryMap map = new PcMemoryMap(16L << 20, image())) {
            var space = map.addressSpace();
            space.writeByte(0xf0000, 0xaa);
            space.writeByte(0xfffc0000L + 0x30000, 0x55);
            assertEquals(0xaa, space.readByte(0xf0000), "SeaBIOS's variables in the F segment stick");
            assertEquals(49, space.readByte(0xffff0000L), "the ROM copy SeaBIOS's reboot path reads is unchanged");
        }
    }

    @Test
    void resetReloadsTheShadowFromTheImage() {
        try (PcMemoryMap map = new PcMemoryMap(16L << 20, image())) {
            map.addressSpace().writeByte(0xfe05b, 0);
            map.firmwareShadow().reset();
            assertEquals(63, map.addressSpace().readByte(0xfe05b));
        }
    }

    @Test
    void aSmallerImageLeavesZerosBelowIt() {
        byte[] b = new byte[128 * 1024];
        java.util.Arrays.fill(b, (byte) 7);
        try (PcMemoryMap map = new PcMemoryMap(16L << 20, new FirmwareImage(Path.of("bios.bin"), b))) {
            assertEquals(0, map.addressSpace().readByte(0xdffff), "bios.bin: zeros below 0xE0000");
            assertEquals(7, map.addressSpace().readByte(0xe0000));
            assertEquals(7, map.addressSpace().readByte(0xfffe0000L));
        }
    }

    @Test
    void aWrongSizedImageIsAOneLineUsageError(@TempDir Path dir) throws Exception {
        Path odd = dir.resolve("odd.bin");
        Files.write(odd, new byte[1000]);
        MachineSetupException e = assertThrows(MachineSetupException.class, () -> FirmwareImage.load(odd));
        assertTrue(e.getMessage().contains("1000 bytes (expected: 64, 128, 192 or 256 KiB)"), e.getMessage());
        MachineSetupException missing = assertThrows(MachineSetupException.class,
                () -> FirmwareImage.load(dir.resolve("none.bin")));
        assertTrue(missing.getMessage().startsWith("-bios "), missing.getMessage());
    }
}
