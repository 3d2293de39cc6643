package dev.ioemu.tests.peer;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The named IDE scenarios ({@link IdeScenarios}) against QEMU: first QEMU itself (determinism), then ioemu. */
class IdeScenarioDifferentialTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsQemu() {
        assumeTrue(QtestPeer.qemuInstalled(), "skipped: qemu-system-x86_64 not installed");
    }

    static List<IdeScenarios.Scenario> scenarios() {
        return IdeScenarios.all();
    }

    private void run(QtestPeer.Kind b, IdeScenarios.Scenario s) throws Exception {
        Comparison c = DifferentialRun.run(QtestPeer.Kind.QEMU, b, s.script(), IdeDifferentialTest.image(dir, 7),
                s.args(), dir);
        assertTrue(c.divergences().isEmpty(), s.name() + "\n" + c.report(10));
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void scenarioIsDeterministicOnQemu(IdeScenarios.Scenario s) throws Exception {
        run(QtestPeer.Kind.QEMU, s);
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    void ioemuMatchesQemu(IdeScenarios.Scenario s) throws Exception {
        run(QtestPeer.Kind.IOEMU, s);
    }
}
