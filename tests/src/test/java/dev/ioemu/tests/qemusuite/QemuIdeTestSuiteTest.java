package dev.ioemu.tests.qemusuite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * QEMU's own {@code tests/qtest/ide-test} (QEMU 7.2 from Debian's source package, unmodified)
 * against {@code emulator/bin/ioemu}, through {@code tests/ide-test/run.sh}: every one of its 13
 * test paths must pass. The script fetches and builds the test on first use (minutes) and caches
 * it; when the source package cannot be fetched or built it exits 77 with "skipped: REASON", and
 * this test is skipped with that reason.
 */
class QemuIdeTestSuiteTest {
    private static final Pattern SUMMARY = Pattern.compile("^ide-test: (\\d+)/(\\d+) passed.*");
    private static final int IDE_TEST_PATHS = 13;

    @Test
    void qemusOwnIdeTestPassesAllThirteenPaths() throws Exception {
        Path root = Path.of(System.getProperty("ioemu.root", "..")).toAbsolutePath().normalize();
        Path script = root.resolve("tests/ide-test/run.sh");
        assumeTrue(Files.isRegularFile(script), "skipped: " + script + " not found");
        Path jar = root.resolve("emulator/target/ioemu-emulator-0.1.0-SNAPSHOT.jar");
        assumeTrue(Files.exists(jar), "skipped: emulator jar not built (run mvn package first)");
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println(line);
                lines.add(line);
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.MINUTES), "run.sh finished");
        int status = p.exitValue();
        if (status == 77) {
            String reason = lines.stream().filter(l -> l.startsWith("skipped: ")).findFirst()
                    .orElse("skipped: run.sh exited 77");
            assumeTrue(false, reason);
        }
        Matcher m = lines.stream().map(SUMMARY::matcher).filter(Matcher::matches).reduce((a, b) -> b).orElse(null);
        assertTrue(m != null, "run.sh printed its summary line; output:\n" + String.join("\n", lines));
        int passed = Integer.parseInt(m.group(1));
        int total = Integer.parseInt(m.group(2));
        System.out.println("QEMU ide-test against ioemu: " + passed + "/" + total);
        assertEquals(IDE_TEST_PATHS, total, "ide-test 7.2 registers 13 paths");
        assertEquals(total, passed, "every ide-test path passes; failures:\n"
                + String.join("\n", lines.stream().filter(l -> l.startsWith("not ok") || l.startsWith("Bail")).toList()));
        assertEquals(0, status, "run.sh exit status");
    }
}
