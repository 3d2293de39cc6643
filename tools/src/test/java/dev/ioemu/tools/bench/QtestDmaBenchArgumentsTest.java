package dev.ioemu.tools.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** qtest-dma-bench's command line: the emulator command lines it builds, and bad arguments (exit 1, nothing started). */
class QtestDmaBenchArgumentsTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return QtestDmaBench.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void qemuRunsUnderTcgStoppedAndIoemuUnderTheQtestAccelerator() {
        QtestDmaBench.Settings s = QtestDmaBench.Settings.parse(new String[]{"--cache", "writeback",
                "--ioemu", "/x/ioemu", "a,b.img"});
        assertEquals(EnumSet.allOf(QtestDmaBench.Target.class), s.targets());
        String drive = "file=a,,b.img,if=ide,format=raw,cache=writeback";
        assertEquals(List.of("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S", "-qtest", "stdio",
                "-qtest-log", "/dev/null", "-nodefaults", "-display", "none", "-drive", drive),
                s.command(QtestDmaBench.Target.QEMU));
        assertEquals(List.of("/x/ioemu", "-machine", "pc", "-accel", "qtest", "-qtest", "stdio",
                "-qtest-log", "/dev/null", "-nodefaults", "-display", "none", "-drive", drive),
                s.command(QtestDmaBench.Target.IOEMU));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--targets qemu,bochs x.img | --targets: 'bochs' (expected: qemu, ioemu or both)",
            "--cases read,trim x.img    | --cases: 'trim' (expected: read, write or both)",
            "--bs 129k x.img            | --bs: 132096 (expected: a multiple of 512 up to 128k",
            "--repeat 99 x.img          | --repeat: 99 (expected: 1-15)",
            "--qemu                     | --qemu: missing value",
            "--cache none               | image: missing (expected: an image file to overwrite)",
            "-v x.img                   | option: '-v' (expected: --qemu",
    })
    void badArgumentsExitOneNamingTheOption(String args, String message) {
        assertEquals(1, run(args.trim().split(" +")));
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertTrue(stderr.startsWith("qtest-dma-bench: " + message.trim()), stderr);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMissingImageExitsOneWithoutStartingAnEmulator() {
        assertEquals(1, run("--qemu", "/nonexistent/qemu", "/nonexistent/disk.img"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("is not a file"));
    }
}
