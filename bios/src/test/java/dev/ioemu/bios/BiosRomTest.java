package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The generated ROM (shared/spec/int13.md §9.4, §10.2): byte-for-byte encodings at the IBM fixed
 * entry points, the data tables, the checksum, and every piece of guest code compared with what
 * NASM assembles from the equivalent source.
 */
class BiosRomTest {
    static final LocalDate DATE = LocalDate.of(2026, 12, 7);
    final byte[] rom = new BiosRom(DATE).image();

    int at(int offset) {
        return rom[offset] & 0xFF;
    }

    byte[] slice(int offset, int length) {
        byte[] b = new byte[length];
        System.arraycopy(rom, offset, b, 0, length);
        return b;
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void imageIs64KibAndSumsToZero() {
        assertEquals(0x10000, rom.length);
        int sum = 0;
        for (byte b : rom) {
            sum += b;
        }
        assertEquals(0, sum & 0xFF);
    }

    @Test
    void resetVectorJumpsFarToPost() {
        assertArrayEquals(bytes(0xEA, 0x5B, 0xE0, 0x00, 0xF0), slice(0xFFF0, 5));
    }

    @Test
    void dateModelAndTables() {
        assertEquals("12/07/26", new String(slice(0xFFF5, 8), StandardCharsets.US_ASCII));
        assertEquals(0xFC, at(0xFFFE));
        assertArrayEquals(bytes(0x08, 0x00, 0xFC, 0x00, 0x01, 0x74, 0x40, 0, 0, 0), slice(0xE6F5, 10));
        assertArrayEquals(bytes(0xAF, 0x02, 0x25, 0x02, 0x12, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08), slice(0xEFC7, 11));
        assertEquals(0x17, at(0xE729));
        assertEquals(0x04, at(0xE72A));
    }

    @Test
    void serviceStubsSitAtTheIbmEntryPoints() {
        assertArrayEquals(bytes(0xFB, 0xE6, 0xE0, 0xCF), slice(0xE3FE, 4), "INT 13h");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xE6F2, 3), "INT 19h, ending where E6F5 begins");
        assertArrayEquals(bytes(0xFB, 0xE6, 0xE0, 0xCF, 0xF4, 0xEB, 0xF9), slice(0xE82E, 7), "INT 16h with wait loop");
        assertArrayEquals(bytes(0xFB, 0xE6, 0xE0, 0xCF, 0xF4, 0xEB, 0xF9), slice(0xF859, 7), "INT 15h with wait loop");
        assertArrayEquals(bytes(0xFB, 0xE6, 0xE0, 0xCF), slice(0xF065, 4), "INT 10h");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xF841, 3), "INT 12h");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xF84D, 3), "INT 11h");
        assertArrayEquals(bytes(0xFB, 0xE6, 0xE0, 0xCF), slice(0xFE6E, 4), "INT 1Ah");
        assertEquals(0xCF, at(0xFF53), "default IRET");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xE739, 3), "INT 14h");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xEC59, 3), "INT 40h");
        assertArrayEquals(bytes(0xE6, 0xE0, 0xCF), slice(0xEFD2, 3), "INT 17h");
    }

    @Test
    void trapTableNamesEveryTrappingOut() {
        BiosRom r = new BiosRom(DATE);
        for (var e : r.trapLinearAddresses().entrySet()) {
            int offset = (int) (e.getKey() - BiosRom.BASE);
            assertEquals(0xE6, at(offset), e.getValue().toString());
            assertEquals(BiosRom.TRAP_PORT, at(offset + 1));
        }
        assertEquals(13, r.trapLinearAddresses().size(), "POST, INT 10h-1Ah except 1Bh-1Fh, INT 40h");
    }

    @Test
    void initialVectorsPointAtStubsOrAreNull() {
        int[] ivt = BiosRom.initialVectors();
        assertEquals(0xF000E3FE, ivt[0x13]);
        assertEquals(0xF000FEA5, ivt[0x08]);
        assertEquals(0xF000EFC7, ivt[0x1E], "diskette parameter table, needed by MS-DOS boot sectors");
        assertEquals(0xF000FF53, ivt[0x1C], "user tick hook: IRET");
        assertEquals(BiosRom.Entry.EOI_SLAVE.farPointer(), ivt[0x76]);
        assertEquals(BiosRom.Entry.EOI_MASTER.farPointer(), ivt[0x0F]);
        assertEquals(0, ivt[0x60]);
        for (int v = 0; v < 256; v++) {
            int far = ivt[v];
            if (far != 0) {
                assertEquals(0xF000, far >>> 16, "vector " + Integer.toHexString(v));
                int off = far & 0xFFFF;
                assertTrue(rom[off] != 0 || v == 0x1E, "vector " + Integer.toHexString(v) + " points at code");
            }
        }
    }

    // ---- the same code assembled by NASM ----

    static final String TIMER_SOURCE = """
            sti
            push ds
            push ax
            mov ax, 0x40
            mov ds, ax
            add word [0x6c], 1
            adc word [0x6e], 0
            cmp word [0x6e], 0x18
            jb hook
            ja wrap
            cmp word [0x6c], 0xb0
            jb hook
            wrap:
            mov word [0x6c], 0
            mov word [0x6e], 0
            inc byte [0x70]
            hook:
            int 0x1c
            cli
            mov al, 0x20
            out 0x20, al
            pop ax
            pop ds
            iret
            """;

    static String sourceFor(BiosRom.Entry e) {
        return switch (e.kind) {
            case SERVICE -> "out 0xe0, al\niret\n";
            case SERVICE_STI -> "sti\nout 0xe0, al\niret\n";
            case SERVICE_WAIT -> "entry: sti\nout 0xe0, al\niret\nhlt\njmp short entry\n";
            case POST -> """
                    out 0xe0, al
                    mov al, 0x11
                    out 0x20, al
                    out 0xa0, al
                    mov al, 0x08
                    out 0x21, al
                    mov al, 0x70
                    out 0xa1, al
                    mov al, 0x04
                    out 0x21, al
                    mov al, 0x02
                    out 0xa1, al
                    mov al, 0x01
                    out 0x21, al
                    out 0xa1, al
                    mov al, 0xf8
                    out 0x21, al
                    mov al, 0xff
                    out 0xa1, al
                    mov al, 0x36
                    out 0x43, al
                    mov al, 0
                    out 0x40, al
                    out 0x40, al
                    int 0x19
                    cli
                    halt: hlt
                    jmp short halt
                    """;
            case HALT -> "cli\nhalt: hlt\njmp short halt\n";
            case IRET -> "iret\n";
            case TIMER -> TIMER_SOURCE;
            case KEYBOARD_IRQ -> "push ax\nin al, 0x60\nmov al, 0x20\nout 0x20, al\npop ax\niret\n";
            case EOI_MASTER -> "push ax\nmov al, 0x20\nout 0x20, al\npop ax\niret\n";
            case EOI_SLAVE -> "push ax\nmov al, 0x20\nout 0xa0, al\nout 0x20, al\npop ax\niret\n";
            case RESET_VECTOR -> "jmp 0xf000:0xe05b\n";
            default -> null;
        };
    }

    @ParameterizedTest
    @EnumSource(BiosRom.Entry.class)
    void guestCodeMatchesNasm(BiosRom.Entry e, @TempDir Path dir) throws Exception {
        String source = sourceFor(e);
        if (source == null) {
            assertNull(source, e + " is data, checked above");
            return;
        }
        byte[] nasm = nasm(dir, "bits 16\n" + source);
        byte[] ours = BiosRom.bytesOf(e, DATE);
        assertArrayEquals(nasm, ours, e.toString());
        assertArrayEquals(ours, slice(e.offset, ours.length), e + " placed at its offset");
    }

    static byte[] nasm(Path dir, String source) throws IOException, InterruptedException {
        Path asm = dir.resolve("stub.asm");
        Path bin = dir.resolve("stub.bin");
        Files.writeString(asm, source);
        Process p;
        try {
            p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), asm.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "skipped: nasm not installed (tests/setup.sh installs it)");
            throw e;
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return Files.readAllBytes(bin);
    }
}
