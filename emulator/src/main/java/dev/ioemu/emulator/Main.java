package dev.ioemu.emulator;

import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;
import dev.ioemu.emulator.debug.DebugLogOptions;
import dev.ioemu.emulator.debug.LogItem;

import java.io.IOException;
import java.io.PrintStream;
import java.util.function.IntConsumer;

/**
 * {@code ioemu}: the per-VM process with QEMU's command line (see README "Usage"). Errors in the
 * command line or the set-up print one line naming the option and exit with status 1.
 */
public final class Main {
    static final String VERSION = "ioemu emulator version 0.1.0 (QEMU 7.2.0 command line and qtest protocol)";

    /**
     * How the process ends. One lambda made when Main is initialised, so the start-up training
     * (which calls {@link #run} and loads Main) puts its class in the class-data sharing archive.
     */
    private static final IntConsumer SYSTEM_EXIT = System::exit;

    private Main() {
    }

    public static void main(String[] args) {
        // QEMU prints nothing on a normal start; the block layer's INFO lines stay out of stderr.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        int status = run(args, System.err, SYSTEM_EXIT);
        System.exit(status);
    }

    /**
     * Runs the emulator. Returns only on a start-up error (the status to exit with, 1) or, in
     * tests, after {@code exit} was called; a running VM ends through {@code exit}.
     */
    public static int run(String[] args, PrintStream err, IntConsumer exit) {
        if (args.length == 1 && (args[0].equals("-version") || args[0].equals("--version"))) {
            System.out.println(VERSION);
            return 0;
        }
        if (args.length == 1 && (args[0].equals("-help") || args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(CommandLine.usage());
            return 0;
        }
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-d") && DebugLogOptions.isHelp(args[i + 1])) {
                System.out.print(LogItem.usage());
                return 0;
            }
        }
        StartupWarmUp warmUp = StartupWarmUp.start();
        VmConfig config;
        try {
            config = CommandLine.parse(args);
        } catch (UsageException e) {
            warmUp.finish(false, false);
            err.println("ioemu: " + e.getMessage());
            return 1;
        }
        warmUp.finish(!config.drives().isEmpty() || !config.ideDevices().isEmpty(),
                config.softAccelerator() && config.qtest() == null);
        Emulator emulator = new Emulator(config, err, exit);
        try {
            emulator.run();
            return 0;
        } catch (UsageException e) {
            err.println("ioemu: " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            // A user sees what went wrong, never a Java class name.
            err.println("ioemu: " + (e.getMessage() != null ? e.getMessage() : "internal error during start-up"));
            return 1;
        }
    }
}
