package dev.ioemu.tests.guest;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Workloads nobody here wrote (issue 10's proof), built by tests/guest/build-workloads.sh from
 * Debian packages, boot to their markers on COM1: syslinux (mbr.bin, its FAT16 VBR, ldlinux,
 * then our exit.bs), GRUB 2 (boot.img, core.img, grub.cfg; its md5sum of a 4 MiB file equals the
 * host's), the demo disk (our INT 13h writes are in the image file afterwards), and a DOS-style
 * boot sector that hooks INT 13h and chains to the BIOS. Each runs on
 * QEMU 7.2 + SeaBIOS, and on ioemu's software engine once it exists.
 */
class WorkloadBootTest {
    @TempDir
    static Path dir;

    private static void assumeTools(Engine engine) throws Exception {
        engine.assumeAvailable(dir);
        GuestKit.assumeCommands("nasm", "mcopy", "syslinux", "grub-mkimage");
        GuestKit.assumeFiles("Debian packages syslinux-common and grub-pc-bin",
                "/usr/lib/syslinux/mbr/mbr.bin", "/usr/lib/grub/i386-pc/boot.img");
    }

    /** Builds the workloads afresh for one run and boots {@code image}; returns the COM1 text. */
    private static String boot(Engine engine, String image, int expectedExit, Path run) throws Exception {
        assumeTools(engine);
        GuestKit.runScript("build-workloads.sh", run);
        return bootBuilt(engine, image, expectedExit, run);
    }

    private static String bootBuilt(Engine engine, String image, int expectedExit, Path run) throws Exception {
        Path serial = run.resolve(image + ".serial");
        GuestKit.Run r = GuestKit.run(engine.command(run.resolve(image + ".img"), run.resolve(image + ".debugcon"), serial, run),
                run, image + "-" + engine, 120);
        String console = Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
        System.out.printf("%s %s: exit %d after %.2f s; COM1:%n%s%n", engine, image, r.exitStatus(), r.seconds(), console);
        assertFalse(r.timedOut(), image + " did not finish within 120 s; COM1 so far: " + console);
        assertEquals(expectedExit, r.exitStatus(), image + " exit status (isa-debug-exit); stderr: " + r.stderr());
        return console;
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void syslinuxBootsThroughItsMbrAndVbrToOurBootSector(Engine engine) throws Exception {
        String console = boot(engine, "syslinux", 0x43, dir.resolve(engine + "-syslinux"));   // exit.bs: (21h << 1) | 1
        assertTrue(console.contains("SYSLINUX 6."), "ldlinux's banner on COM1");
        assertTrue(console.contains("IOEMU-EXIT-BS reached"), "syslinux.cfg's kernel (exit.bs) ran");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void grubReadsItsConfigAndHashesA4MiBFileAsTheHostDoes(Engine engine) throws Exception {
        Path run = dir.resolve(engine + "-grub");
        String console = boot(engine, "grub", 1, run);
        assertTrue(console.contains("IOEMU-GRUB-MARKER"), "grub.cfg's marker on COM1");
        String hostMd5 = Files.readString(run.resolve("big.md5")).trim();
        assertEquals(32, hostMd5.length());
        assertTrue(console.contains(hostMd5 + "  /big.bin"), "GRUB's md5sum of /big.bin equals the host's " + hostMd5);
        assertTrue(console.contains("IOEMU-GRUB-HASHED"), "grub.cfg ran to its end");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void grubLoadsDebiansKernelAndAnInitrdThroughInt13h(Engine engine) throws Exception {
        assumeTools(engine);
        GuestKit.assumeCommands("cpio", "apt-get");
        Path run = dir.resolve(engine + "-grub-linux");
        GuestKit.Run built = GuestKit.runScriptStatus("build-linux-workload.sh", run);
        assumeTrue(built.exitStatus() != 3, "skipped: Debian's kernel package could not be fetched: " + built.stderr().trim());
        assertEquals(0, built.exitStatus(), "build-linux-workload.sh: " + built.stderr());
        System.out.println("kernel and initrd: " + Files.readString(run.resolve("linux.txt")).trim());
        String console = bootBuilt(engine, "grub-linux", 1, run);
        assertTrue(console.contains("IOEMU-GRUB-LINUX-START"), "grub.cfg started");
        assertTrue(console.contains("IOEMU-GRUB-INITRD-LOADED"), "linux and initrd loaded without error");
        assertFalse(console.contains("error:"), "GRUB reported no error");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void demoDiskWritesThroughInt13hLandInTheImage(Engine engine) throws Exception {
        Path run = dir.resolve(engine + "-demo");
        String console = boot(engine, "demo", 1, run);
        for (String line : new String[] {"demo: AH=03h wrote LBA 16", "demo: AH=43h wrote LBA 17-19",
                "demo: AH=42h read back equal", "IOEMU-DEMO-DONE"}) {
            assertTrue(console.contains(line), "COM1 shows '" + line + "'");
        }
        assertEquals(console.replace("\r", ""), Files.readString(run.resolve("demo.debugcon"), StandardCharsets.ISO_8859_1).replace("\r", ""),
                "0xE9 shows the same lines");
        Path img = run.resolve("demo.img");
        assertArrayEquals(demoSector("CHS", 16), GuestKit.readSector(img, 16), "AH=03h sector in the image");
        for (int lba = 17; lba <= 19; lba++) {
            assertArrayEquals(demoSector("EDD", lba), GuestKit.readSector(img, lba), "AH=43h sector " + lba + " in the image");
        }
        assertArrayEquals(new byte[512], GuestKit.readSector(img, 20), "LBA 20 untouched");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void aBootSectorThatHooksInt13hAndChainsToTheBiosWorks(Engine engine) throws Exception {
        Path run = dir.resolve(engine + "-hook");
        boot(engine, "hook", 1, run);
        String e9 = Files.readString(run.resolve("hook.debugcon"), StandardCharsets.ISO_8859_1);
        assertEquals("hook: AH=08h ok\nhook: AH=02h ok\nhook: AH=41h ok\nhook: AH=42h ok\nhook: calls=4 reads=2\n"
                + "IOEMU-HOOK-DONE\n", e9, "every call went through the guest's handler and the BIOS answered");
    }

    /** demodisk.asm's sector: "IOEMU-DEMO <path>  sector NN" padded with '.'. */
    static byte[] demoSector(String path, int lba) {
        byte[] s = new byte[512];
        java.util.Arrays.fill(s, (byte) '.');
        byte[] text = String.format("IOEMU-DEMO %s  sector %02d", path, lba).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, s, 0, text.length);
        return s;
    }
}
