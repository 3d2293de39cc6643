package dev.ioemu.tests.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * INT 19h with nothing to boot (issue 9): the guest's console says so, the process says why on
 * stderr in one line and exits 1, instead of hanging in the ROM's halt loop.
 */
class NoBootableDeviceTest {
    @TempDir
    Path dir;

    @Test
    void aDiskWithoutBootSignatureEndsTheRunWithStatusOne() throws Exception {
        GuestKit.assumeIoemuSoftEngine(dir);
        Path blank = dir.resolve("blank.img");
        Files.write(blank, new byte[1 << 20]);
        GuestKit.Run r = GuestKit.run(GuestKit.ioemuSoft(blank, dir.resolve("blank.debugcon")), dir, "blank", 60);
        assertFalse(r.timedOut(), "ioemu still ran after 60 s");
        assertEquals(1, r.exitStatus(), r.stderr());
        assertEquals("ioemu: no bootable device: not a bootable disk", r.stderr().strip());
        String console = Files.readString(dir.resolve("blank.stdout"), StandardCharsets.ISO_8859_1);
        assertTrue(console.contains("No bootable device."), console);
        assertFalse(r.stderr().contains("Exception"), r.stderr());
    }
}
