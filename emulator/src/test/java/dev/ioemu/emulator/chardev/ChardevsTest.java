package dev.ioemu.emulator.chardev;

import dev.ioemu.emulator.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code -serial} and {@code -debugcon} reach the guest's consoles through the devices' chardev backends. */
class ChardevsTest {
    @TempDir
    Path dir;

    private record Run(int status, int exited, String err) { }

    private static Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int[] exited = {-1};
        int status = Main.run(args, new PrintStream(err, true, StandardCharsets.UTF_8), s -> exited[0] = s);
        return new Run(status, exited[0], err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void serialFileIsTruncatedAndReceivesTheBiosConsole() throws Exception {
        Path log = dir.resolve("com1.log");
        Files.writeString(log, "stale bytes from an earlier run\n");
        Path blank = dir.resolve("blank.img");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(blank.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        Run r = run("-nodefaults", "-display", "none", "-drive", "file=" + blank + ",if=ide,format=raw",
                "-serial", "file:" + log, "-no-reboot");
        assertEquals(1, r.exited(), "no bootable device ends the VM with status 1: " + r.err());
        String console = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertFalse(console.contains("stale"), console);
        assertTrue(console.contains("Boot failed: not a bootable disk\r\n"), "the BIOS wrote to COM1: '" + console + "'");
    }

    @Test
    void aConsoleFileThatCannotBeOpenedIsOneLineNamingTheOption() {
        Path missing = dir.resolve("no-such-dir").resolve("e9.log");
        Run r = run("-nodefaults", "-display", "none", "-debugcon", "file:" + missing);
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("ioemu: -debugcon file:" + missing + ": could not open: "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
