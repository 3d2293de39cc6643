package dev.ioemu.emulator;

import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.util.function.IntConsumer;

/**
 * {@code ioemu}: the per-VM process with QEMU's command line (see README "Usage"). Errors in the
 * command line or the set-up print one line naming the option and exit with status 1.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args, System.err, System::exit);
        System.exit(status);
    }

    /**
     * Runs the emulator. Returns only on a start-up error (the status to exit with, 1) or, in
     * tests, after {@code exit} was called; a running VM ends through {@code exit}.
     */
    public static int run(String[] args, PrintStream err, IntConsumer exit) {
        VmConfig config;
        try {
            config = CommandLine.parse(args);
        } catch (UsageException e) {
            err.println("ioemu: " + e.getMessage());
            return 1;
        }
        Emulator emulator = new Emulator(config, err, exit);
        try {
            emulator.run();
            return 0;
        } catch (UsageException e) {
            err.println("ioemu: " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            err.println("ioemu: " + e);
            return 1;
        }
    }
}
