package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.bios.RegisterFile.Segment;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our INT 13h answers against SeaBIOS's real ones: the boot-sector probe {@code int13-probe.asm}
 * runs under QEMU 7.2 + SeaBIOS, and the same calls, with the same registers, go through the trap
 * contract here. Lines must be equal except for the bytes {@link #ALLOWED} names, each with its
 * reason (bios/BIOS.md lists the same choices).
 */
class SeaBiosComparisonTest {
    @TempDir
    Path dir;

    /** Allowed differences: probe line index → positions (in the line's text) and the reason. */
    record Allowed(int line, int from, int to, String reason) {
    }

    static final List<Allowed> ALLOWED = List.of(
            new Allowed(2, 10, 14, "AH=41h CX: 000Fh, the 64-bit DAP bit (int13.md §3.8)"),
            new Allowed(4, 4, 6, "AH=48h flags bit 0: no DMA-boundary errors (§3.11.4)"),
            new Allowed(4, 52, 60, "AH=48h DPTE pointer: ours is in the EBDA at 9FC0:005D"),
            new Allowed(6, 0, 2, "AH=48h size word: we return the 4Ah bytes we filled (§12 item 1)"),
            new Allowed(6, 4, 6, "AH=48h flags bit 0"),
            new Allowed(6, 52, 60, "AH=48h DPTE pointer"));

    @ParameterizedTest(name = "{0}")
    @CsvSource({"64M, 67108864, 0", "10G, 10737418240, 0", "partitioned-64heads, 67108864, 1"})
    void int13AnswersMatchSeaBios(String name, long size, int partitioned) throws Exception {
        assumeTrue(onPath("qemu-system-x86_64"), "skipped: qemu-system-x86_64 not installed (tests/setup.sh)");
        assumeTrue(onPath("nasm"), "skipped: nasm not installed (tests/setup.sh)");
        byte[] probe = assemble();
        Path image = GuestKit.sparseImage(dir, name + ".img", size);
        byte[] sector = probe.clone();
        if (partitioned == 1) {
            byte[] mbr = Int13DiskServicesTest.mbr(63, 32, size / 512 - 32);
            System.arraycopy(mbr, 0x1BE, sector, 0x1BE, 64);
        }
        GuestKit.writeSectors(image, 0, sector);

        List<String> seabios = runUnderQemu(image);
        List<String> ours = runThroughTrapContract(image);
        assertEquals(seabios.size(), ours.size(), "lines\nSeaBIOS:\n" + String.join("\n", seabios)
                + "\nioemu:\n" + String.join("\n", ours));
        for (int i = 0; i < seabios.size(); i++) {
            assertEquals(mask(i, seabios.get(i)), mask(i, ours.get(i)), "line " + i + "\nSeaBIOS: " + seabios.get(i)
                    + "\nioemu:   " + ours.get(i));
        }
        // And the allowed differences really are differences of those bytes only.
        assertTrue(seabios.get(2).startsWith("3000 AA55 0007"), seabios.get(2));
        assertTrue(ours.get(2).startsWith("3000 AA55 000F"), ours.get(2));
    }

    static String mask(int line, String text) {
        char[] c = text.toCharArray();
        for (Allowed a : ALLOWED) {
            if (a.line() == line) {
                for (int i = a.from(); i < Math.min(a.to(), c.length); i++) {
                    c[i] = '*';
                }
            }
        }
        return new String(c);
    }

    byte[] assemble() throws Exception {
        Path asm = dir.resolve("probe.asm");
        try (InputStream in = getClass().getResourceAsStream("int13-probe.asm")) {
            Files.write(asm, in.readAllBytes());
        }
        Path bin = dir.resolve("probe.bin");
        Process p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), asm.toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        byte[] b = Files.readAllBytes(bin);
        assertEquals(1536, b.length);
        return b;
    }

    List<String> runUnderQemu(Path image) throws Exception {
        Path out = dir.resolve(image.getFileName() + ".e9");
        Process p = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-nodefaults",
                "-display", "none", "-drive", "file=" + image + ",format=raw,if=ide",
                "-debugcon", "file:" + out, "-device", "isa-debug-exit,iobase=0xf4", "-no-reboot")
                .redirectErrorStream(true).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("QEMU did not finish the probe");
        }
        return Files.readAllLines(out, StandardCharsets.US_ASCII);
    }

    /** The probe's calls, register for register, through {@link InterruptRunner}. */
    List<String> runThroughTrapContract(Path image) throws Exception {
        List<String> lines = new ArrayList<>();
        try (GuestKit kit = GuestKit.withImages(DiskGeometry.Policy.SEABIOS, null, false, image)) {
            kit.powerOn();
            kit.interrupt(0x19);                 // boot: the probe starts with SeaBIOS's registers
            var r = kit.regs;
            r.setSp(0x7C00);
            call(kit, lines, 0x0800, r.bx(), r.cx(), 0x0080, 0);
            call(kit, lines, 0x1500, r.bx(), r.cx(), 0x0080, 0);
            call(kit, lines, 0x4100, 0x55AA, r.cx(), 0x0080, 0);
            r.setCx(0);
            kit.memory.writeWord(0x600, 0x1E);
            call(kit, lines, 0x4800, r.bx(), r.cx(), 0x0080, 0x600);
            lines.add(hex(kit, 0x600, 0x1E));
            kit.memory.writeWord(0x600, 0x4A);
            call(kit, lines, 0x4800, r.bx(), 0, 0x0080, 0x600);
            lines.add(hex(kit, 0x600, 0x4A));
            call(kit, lines, 0x0200, 0x1000, 0x0001, 0x0080, 0x64A);
            call(kit, lines, 0x0100, r.bx(), r.cx(), 0x0080, r.si());
            call(kit, lines, 0x0100, r.bx(), r.cx(), 0x0080, r.si());
            kit.memory.writeByte(0x700, 0x10);
            kit.memory.writeWord(0x702, 5);
            kit.memory.writeDword(0x704, 0x1000_0000);
            kit.memory.writeDword(0x708, 0xFFFF_FFF0);
            kit.memory.writeDword(0x70C, 0);
            call(kit, lines, 0x4200, r.bx(), r.cx(), 0x0080, 0x700);
            lines.add(String.format("%04X", kit.memory.readWord(0x702)));
            kit.memory.writeWord(0x702, 200);
            kit.memory.writeDword(0x708, 0);
            call(kit, lines, 0x4200, r.bx(), r.cx(), 0x0080, 0x700);
            lines.add(String.format("%04X", kit.memory.readWord(0x702)));
            call(kit, lines, 0x0800, r.bx(), r.cx(), 0x0081, r.si());
            for (int[] c : TABLE) {
                call(kit, lines, c[0], c[1], c[2], c[3], r.si());
            }
        }
        return lines;
    }

    /** The probe's call table (AX, BX, CX, DX). */
    static final int[][] TABLE = {
            {0x4600, 0, 0, 0x0080}, {0x4E02, 0, 0, 0x0080}, {0x4E06, 0, 0, 0x0080}, {0x0540, 0, 0, 0x0080},
            {0x0501, 0, 0, 0x0080}, {0x0201, 0x1000, 0x0001, 0x0080}, {0x0201, 0x1000, 0x0000, 0x0080},
            {0x0201, 0x1000, 0x0001, 0xFF80}, {0x0281, 0x1000, 0x0001, 0x0080}, {0x0401, 0x1000, 0x0001, 0x0080},
            {0x1000, 0, 0, 0x0080}, {0x4500, 0, 0, 0x0080}, {0x4900, 0, 0, 0x0080}, {0x0900, 0, 0, 0x0080},
            {0x0C00, 0, 0, 0x0080}, {0x0D00, 0, 0, 0x0080}, {0x1100, 0, 0, 0x0080}, {0x1400, 0, 0, 0x0080},
            {0x0000, 0, 0, 0x0080}, {0x5000, 0, 0, 0x0080}, {0x1500, 0, 0, 0x0081}, {0x4100, 0x55AA, 0, 0x0000},
            {0x0800, 0, 0, 0x0000},
    };

    static void call(GuestKit kit, List<String> lines, int ax, int bx, int cx, int dx, int si) {
        var r = kit.regs;
        r.setAx(ax);
        r.setBx(bx);
        r.setCx(cx);
        r.setDx(dx);
        r.setSi(si);
        r.loadRealModeSegment(Segment.DS, 0);
        r.loadRealModeSegment(Segment.ES, 0);
        kit.interrupt(0x13);
        lines.add(String.format("%04X %04X %04X %04X %04X %02X", r.ax(), r.bx(), r.cx(), r.dx(),
                r.eflags() & 0x0201, kit.bda(Bda.DISK_LAST_STATUS)));
    }

    static String hex(GuestKit kit, long at, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(String.format("%02X", kit.memory.readByte(at + i)));
        }
        return sb.toString();
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

}
