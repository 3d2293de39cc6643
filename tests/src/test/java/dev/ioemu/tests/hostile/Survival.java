package dev.ioemu.tests.hostile;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile-input tally: every input tried is counted, and counted as survived only when every
 * check on it held (no crash, no hang, no Java text in any output, the expected rejection). A test
 * collects all failures of its batch before failing, so one bad input does not hide the others.
 */
final class Survival {
    /** What a user must never see: a stack frame, an exception class name or a JVM error. */
    private static final Pattern JAVA_LEAK = Pattern.compile(
            "\\tat |Exception\\b|Exception:|\\bError:|java\\.[a-z]+\\.|javax\\.|Caused by|\\bdev\\.ioemu\\.|OutOfMemory");

    static final AtomicInteger TRIED = new AtomicInteger();
    static final AtomicInteger SURVIVED = new AtomicInteger();

    private final String kind;
    private final List<String> failures = new ArrayList<>();
    private int tried;

    Survival(String kind) {
        this.kind = kind;
    }

    /** Counts one input; {@code problems} empty means it survived. */
    void record(String input, List<String> problems) {
        tried++;
        TRIED.incrementAndGet();
        if (problems.isEmpty()) {
            SURVIVED.incrementAndGet();
        } else {
            failures.add(input + " -> " + String.join("; ", problems));
        }
    }

    /** The leak check every output goes through. */
    static void checkNoJavaText(String output, List<String> problems) {
        var m = JAVA_LEAK.matcher(output);
        if (m.find()) {
            int from = Math.max(0, m.start() - 60);
            problems.add("Java text in output: ..." + output.substring(from, Math.min(output.length(), m.end() + 60))
                    .replace("\n", "\\n"));
        }
    }

    /** Fails with every failing input of the batch, after printing the batch's figure. */
    void assertAllSurvived() {
        System.out.printf("hostile %s: %d inputs tried, %d survived%n", kind, tried, tried - failures.size());
        assertTrue(failures.isEmpty(), kind + ": " + failures.size() + " of " + tried + " inputs failed:\n"
                + String.join("\n", failures));
    }
}
