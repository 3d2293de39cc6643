package dev.ioemu.tests.guest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The INT 13h probe under the peer, QEMU 7.2 + Debian's SeaBIOS (issue 9's proof): the capture is
 * deterministic (two runs give identical lines), SeaBIOS answers as shared/spec/int13.md says for
 * each image's geometry, and the probe's writes are in the image file afterwards. The capture is
 * kept in {@code tests/target/guest/int13probe/} as the reference for the ioemu comparison.
 */
class Int13ProbeTest {
    static final int EXIT_STATUS = 1;   // isa-debug-exit: (0 << 1) | 1

    @TempDir
    static Path dir;

    @BeforeEach
    void tools() {
        GuestKit.assumeCommands("nasm", "qemu-system-x86_64");
        GuestKit.assumeFiles("Debian package seabios", "/usr/share/seabios/bios-256k.bin");
    }

    /** Runs the probe under QEMU on freshly built images in {@code dir/tag}; returns the debugcon lines. */
    static List<ProbeLine> capture(Path dir, ProbeImage image, String tag) throws Exception {
        Path run = dir.resolve(tag);
        GuestKit.runScript("build-probe.sh", run);   // fresh sparse images (a copy would fill in 10 GiB)
        Path img = run.resolve(image.file);
        Path out = dir.resolve(tag + ".debugcon");
        GuestKit.Run r = GuestKit.run(GuestKit.qemu(img, out, dir.resolve(tag + ".seabios.log")), dir, tag, 120);
        assertFalse(r.timedOut(), "QEMU did not finish the probe within 120 s");
        assertEquals(EXIT_STATUS, r.exitStatus(), "QEMU exit status (isa-debug-exit) — stderr: " + r.stderr());
        Path keep = GuestKit.root().resolve("tests/target/guest/int13probe");
        Files.createDirectories(keep);
        Files.copy(out, keep.resolve(image.file.replace(".img", ".qemu.txt")), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return ProbeLine.read(out);
    }

    @ParameterizedTest
    @EnumSource(ProbeImage.class)
    void captureIsDeterministicAndMatchesTheSpec(ProbeImage image) throws Exception {
        List<ProbeLine> first = capture(dir, image, image.name() + "-1");
        List<ProbeLine> second = capture(dir, image, image.name() + "-2");
        assertEquals(first.stream().map(ProbeLine::text).toList(), second.stream().map(ProbeLine::text).toList(),
                "two QEMU runs give identical probe lines");
        assertEquals("PROBE int13probe v1", first.get(0).name());
        assertEquals("END", first.get(first.size() - 1).name(), "the probe ran to its end");
        Map<String, ProbeLine> byName = first.stream().filter(l -> !l.fields().isEmpty())
                .collect(Collectors.toMap(ProbeLine::name, Function.identity(), (a, b) -> a));

        for (ProbeLine l : first) {
            if (!l.fields().isEmpty()) {
                assertEquals("0000", l.field("dSP"), "stack balanced: " + l.text());
                assertEquals("5A5A5A5A", l.field("EBP"), "EBP preserved: " + l.text());
                assertEquals("01", l.field("40:75"), "one hard disk in 40:75: " + l.text());
            }
        }
        // §3.8: AH=41h answers EDD 3.0 with CX=0007h, whatever BX was
        for (String name : List.of("13/41 BX=55AA", "13/41 BX=0000")) {
            ProbeLine l = byName.get(name);
            assertEquals("00003000", l.field("EAX"), name);
            assertEquals("0000AA55", l.field("EBX"), name);
            assertEquals("00000007", l.field("ECX"), name);
            assertFalse(l.carry(), name);
        }
        // §3.5 and §3.7 from the image's logical geometry
        ProbeLine ah08 = byName.get("13/08 params");
        assertEquals(image.ah08Ecx(), ah08.field("ECX"), "AH=08h CX");
        assertEquals(image.ah08Edx(), ah08.field("EDX"), "AH=08h DX");
        assertEquals("00000077", ah08.field("EBX"), "AH=08h leaves BL alone for hard disks");
        ProbeLine ah15 = byName.get("13/15 type");
        assertEquals("00000300", ah15.field("EAX"), "AH=15h: AH=03h fixed disk, CF=0");
        assertEquals(image.ah15Sectors(), Long.parseLong(ah15.field("ECX").substring(4) + ah15.field("EDX").substring(4), 16));
        // §3.11: EDD 1.x/2.x buffer; total sectors at 10h
        ProbeLine edd = byName.get("13/48 size=1E");
        assertEquals("1E00", edd.bufBytes(0, 2), "SeaBIOS returns 30 bytes");
        assertEquals(image.totalLittleEndian(), edd.bufBytes(0x10, 0x18), "total sectors");
        assertEquals("CCCC", edd.bufBytes(0x1E, 0x20), "nothing written past the caller's 1Eh bytes");
        assertTrue(byName.get("13/48 size=19").carry(), "AH=48h with a buffer < 1Ah fails");
        assertEquals("00000100", byName.get("13/48 size=19").field("EAX"));
        // CHS range checks follow the geometry (§5.6)
        int[][] chs = {{0, 0, 32}, {0, 0, 33}, {0, 0, 63}, {0, 15, 1}, {0, 16, 1}, {0, 254, 1}, {128, 0, 1}, {255, 0, 1}, {1023, 0, 1}};
        for (int[] c : chs) {
            String name = c[0] == 0 && c[1] == 0 ? "13/02 C0 H0 S" + c[2] : "13/02 C" + c[0] + " H" + c[1] + " S" + c[2];
            ProbeLine l = byName.get(name);
            boolean ok = image.chsInRange(c[0], c[1], c[2]);
            assertEquals(!ok, l.carry(), name + " on " + image);
            assertEquals(ok ? "00" : "01", l.field("40:74"), name + " status");
        }
        // bad counts and addresses: AH=01h (§3.3, §3.9, §4)
        for (String name : List.of("13/02 n=0", "13/02 n=81", "13/02 sector 0", "13/42 LBA total n=1",
                "13/42 LBA 2^32", "13/44 verify LBA total", "13/20 unsupported", "13/00 DL=81", "13/08 DL=81",
                "13/15 DL=81", "13/41 DL=81", "13/48 DL=81", "13/41 DL=9F")) {
            ProbeLine l = byName.get(name);
            assertTrue(l.carry(), name + " sets CF");
            assertEquals("01", l.field("40:74"), name + " status 01h");
        }
        assertEquals("00000900", byName.get("13/42 LBA 0 n=81").field("EAX"), "more than 64 KiB: AH=09h");
        assertFalse(byName.get("13/42 LBA 0 n=0").carry(), "count 0: ok, no transfer");
        // written data reads back: the sums are those of the pattern
        assertEquals(String.format("%08X", GuestKit.byteSum(GuestKit.patternSector(0x03, 0), GuestKit.patternSector(0x03, 1))),
                byName.get("13/02 C0 H0 S30 n=2 read back").field("sum"));
        assertEquals(String.format("%08X", GuestKit.byteSum(GuestKit.patternSector(0x4C, 0))),
                byName.get("13/42 last LBA read back").field("sum"));
        // INT 15h E820: the chain ends with EBX=0, every call returns 'SMAP' and 20 bytes (§8.3)
        List<ProbeLine> e820 = first.stream().filter(l -> l.name().startsWith("15/E820#")).toList();
        assertTrue(e820.size() >= 3, "E820 map has entries");
        assertEquals("00000000", e820.get(e820.size() - 1).field("EBX"));
        for (ProbeLine l : e820) {
            assertEquals("534D4150", l.field("EAX"));
            assertEquals("00000014", l.field("ECX"));
        }
        assertEquals("0000000000000000", e820.get(0).bufBytes(0, 8), "the map starts at address 0");

        assertWritesInImage(dir.resolve(image.name() + "-2").resolve(image.file), image);
    }

    /** The probe's writes (int13probe.asm header) are in the image file. */
    static void assertWritesInImage(Path img, ProbeImage image) throws Exception {
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(GuestKit.patternSector(0x03, i), GuestKit.readSector(img, 29 + i), "AH=03h sector LBA " + (29 + i));
        }
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(GuestKit.patternSector(0x43, i), GuestKit.readSector(img, 40 + i), "AH=43h sector LBA " + (40 + i));
        }
        assertArrayEquals(GuestKit.patternSector(0x43, 0), GuestKit.readSector(img, 44), "AH=43h AL=02h sector LBA 44");
        assertArrayEquals(GuestKit.patternSector(0x4C, 0), GuestKit.readSector(img, image.sectors - 1), "AH=43h last sector");
        assertArrayEquals(new byte[512], GuestKit.readSector(img, 45), "LBA 45 untouched");
    }

    @Test
    void writtenSectorCheckRejectsAnImageNoGuestRan() throws Exception {
        Path fresh = dir.resolve("unrun");
        GuestKit.runScript("build-probe.sh", fresh);
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> assertWritesInImage(fresh.resolve(ProbeImage.SIZE_64M.file), ProbeImage.SIZE_64M));
    }
}
