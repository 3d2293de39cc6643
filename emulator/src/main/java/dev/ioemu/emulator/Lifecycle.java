package dev.ioemu.emulator;

import sun.misc.Signal;

/**
 * Process-level hooks: termination signals and {@code -run-with exit-with-parent=on}. Kept apart
 * because it uses the JDK's unsupported {@code sun.misc.Signal} (module jdk.unsupported), the
 * only way to replace the JVM's SIGTERM behaviour (exit 143) with QEMU's (flush, exit 0).
 */
final class Lifecycle {
    private static final String[] TERMINATING_SIGNALS = {"TERM", "INT", "HUP"};

    private Lifecycle() {
    }

    static void installSignalHandlers(Emulator emulator) {
        for (String name : TERMINATING_SIGNALS) {
            try {
                Signal.handle(new Signal(name), sig -> {
                    emulator.err().println("ioemu: terminating on signal " + sig.getNumber());
                    emulator.shutdown("host-signal");
                });
            } catch (IllegalArgumentException e) {
                // The JVM reserves this signal (e.g. -Xrs); keep its default behaviour.
            }
        }
    }

    /** Shuts down when the parent process ends (QEMU uses PR_SET_PDEATHSIG with SIGTERM). */
    static void exitWithParent(Emulator emulator) {
        ProcessHandle.current().parent().ifPresent(parent ->
                parent.onExit().thenRun(() -> emulator.shutdown("host-signal")));
    }
}
