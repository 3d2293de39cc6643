package dev.ioemu.emulator.machine;

import dev.ioemu.emulator.Main;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code -m 1G/2G/4G} start on a JVM whose direct-memory limit is far below the guest's RAM
 * (guest RAM is mapped host memory, not a direct buffer) and answer qtest at the ends of RAM as
 * QEMU 7.2 does (4 GiB: 3 GiB below 4 GiB, 1 GiB from 4 GiB; observed on the peer).
 */
class LargeMemoryProcessTest {
    @TempDir
    Path dir;

    private Process launch(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=64m", "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
    }

    @ParameterizedTest
    @CsvSource({
            "1G, 0x3ffffffc, 0x40000000",
            "2G, 0x7ffffffc, 0x80000000",
            "4G, 0x13ffffffc, 0x140000000",
    })
    void largeRamStartsOnASmallDirectMemoryLimitAndAnswersQtest(String size, String lastWord, String pastEnd)
            throws Exception {
        Process p = launch("-machine", "pc", "-accel", "qtest", "-m", size, "-qtest", "stdio", "-display", "none");
        try {
            String script = "writel " + lastWord + " 0x55667788\nreadl " + lastWord + "\n"
                    + "writel " + pastEnd + " 0x11\nreadl " + pastEnd + "\n"
                    + "writel 0xbffffffc 0x1234\nreadl 0xbffffffc\n";
            OutputStream in = p.getOutputStream();
            in.write(script.getBytes(StandardCharsets.US_ASCII));
            in.flush();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String line = out.readLine();
                assertTrue(line != null, "reply " + i + " missing; stderr: " + Files.readString(dir.resolve("stderr")));
                replies.add(line);
            }
            boolean lowRamReachesThreeGib = !size.equals("1G") && !size.equals("2G");
            assertEquals(List.of("OK", "OK 0x0000000055667788", "OK", "OK 0x0000000000000000",
                    "OK", lowRamReachesThreeGib ? "OK 0x0000000000001234" : "OK 0x0000000000000000"), replies);
        } finally {
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        String stderr = Files.readString(dir.resolve("stderr"));
        assertFalse(stderr.contains("Exception") || stderr.contains("Error"), stderr);
    }

    @org.junit.jupiter.api.Test
    void ramTheHostRefusesIsOneLineAndExitStatusOne() throws Exception {
        // 1 TiB is accepted by the option parser; limit the process's address space so mmap fails.
        List<String> cmd = List.of("bash", "-c", "ulimit -v 4000000; exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-XX:CompressedClassSpaceSize=64m", "-XX:ReservedCodeCacheSize=32m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "-machine", "pc", "-accel", "qtest", "-m", "1T", "-qtest", "stdio", "-display", "none");
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr").toFile()).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String stderr = Files.readString(dir.resolve("stderr")).strip();
        assertEquals(1, p.exitValue(), stderr);
        assertEquals("ioemu: -m 1048576M: cannot allocate pc.ram: 1048576 MiB (Cannot allocate memory)", stderr);
    }
}
