package dev.ioemu.tests.guest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The INT 13h probe under ioemu's software engine ({@code -accel soft}, same -debugcon and
 * isa-debug-exit flags) compared line by line with QEMU 7.2 + SeaBIOS on the same freshly built
 * image; differences must be listed in {@link ProbeAllowedDifferences}. ioemu's writes must be in
 * its image file. Skipped until ioemu accepts {@code -accel soft}.
 */
class Int13ProbeIoemuTest {
    @TempDir
    static Path dir;

    @BeforeEach
    void engines() throws Exception {
        GuestKit.assumeIoemuSoftEngine(dir);
        GuestKit.assumeCommands("nasm", "qemu-system-x86_64");
        GuestKit.assumeFiles("Debian package seabios", "/usr/share/seabios/bios-256k.bin");
    }

    @ParameterizedTest
    @EnumSource(ProbeImage.class)
    void ioemuAnswersTheProbeAsSeaBiosDoes(ProbeImage image) throws Exception {
        List<ProbeLine> qemu = Int13ProbeTest.capture(dir, image, image.name() + "-qemu");
        Path run = dir.resolve(image.name() + "-ioemu");
        GuestKit.runScript("build-probe.sh", run);
        Path out = dir.resolve(image.name() + "-ioemu.debugcon");
        GuestKit.Run r = GuestKit.run(GuestKit.ioemuSoft(run.resolve(image.file), out), dir, image.name() + "-ioemu", 120);
        assertFalse(r.timedOut(), "ioemu did not finish the probe within 120 s");
        List<ProbeLine> ioemu = ProbeLine.read(out);
        ProbeComparison.Summary summary = ProbeComparison.compare(qemu, ioemu, ProbeComparison.DEFAULT_RAM_BYTES);
        System.out.println("int13probe " + image.name() + ": " + summary);
        List<String> divergences = summary.divergences();
        assertTrue(divergences.isEmpty(), divergences.size() + " divergences from QEMU + SeaBIOS:\n" + String.join("\n", divergences));
        assertAllowedValuesAreRight(qemu, ioemu);
        assertEquals(Int13ProbeTest.EXIT_STATUS, r.exitStatus(), "ioemu exit status (isa-debug-exit) — stderr: " + r.stderr());
        Int13ProbeTest.assertWritesInImage(run.resolve(image.file), image);
    }

    /**
     * Where an allowance accepts any value on ioemu's side, the value must still be right: the flat
     * 64-bit buffer holds LBA 0 (the sum QEMU shows for the plain LBA 0 read), and the EDD-3 checksums
     * make bytes 1Eh..41h (Phoenix, size 42h) or 1Eh..49h (T13, larger sizes) sum to 0.
     */
    private static void assertAllowedValuesAreRight(List<ProbeLine> qemu, List<ProbeLine> ioemu) {
        assertEquals(line(qemu, "13/42 LBA 0 n=1").field("sum"), line(ioemu, "13/42 flat 64-bit buffer").field("sum"),
                "the flat 64-bit buffer holds LBA 0");
        for (String size : List.of("42", "4A", "50")) {
            String buf = line(ioemu, "13/48 size=" + size).field("buf");
            int last = size.equals("42") ? 0x41 : 0x49;
            int sum = 0;
            for (int i = 0x1E; i <= last; i++) {
                sum += Integer.parseInt(buf.substring(2 * i, 2 * i + 2), 16);
            }
            assertEquals(0, sum & 0xFF, "EDD-3 checksum of the size=" + size + " answer: " + buf);
        }
    }

    private static ProbeLine line(List<ProbeLine> lines, String name) {
        return lines.stream().filter(l -> l.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no probe line " + name));
    }
}
