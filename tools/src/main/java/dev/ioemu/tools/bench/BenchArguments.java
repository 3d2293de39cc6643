package dev.ioemu.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;

/** Command-line helpers the benchmark commands share; every failure is "option: value (expected: …)". */
final class BenchArguments {
    private BenchArguments() {
    }

    /** What a benchmark's command line asked for: settings to run with, or an exit code to end with. */
    record Parsed<S>(S settings, int exitCode) {
    }

    /**
     * {@code --help} (usage on {@code out}, exit 0), or the settings {@code parser} makes of
     * {@code args}; a bad argument is reported on {@code err} as "COMMAND: reason" (exit 1).
     */
    static <S> Parsed<S> parse(String command, String usage, String[] args, Function<String[], S> parser,
                               PrintStream out, PrintStream err) {
        if (args.length == 1 && (args[0].equals("-h") || args[0].equals("--help"))) {
            out.println(usage);
            return new Parsed<>(null, 0);
        }
        try {
            return new Parsed<>(parser.apply(args), 0);
        } catch (IllegalArgumentException e) {
            err.println(command + ": " + e.getMessage());
            err.println("Try '" + command + " --help' for more information.");
            return new Parsed<>(null, 1);
        }
    }

    /**
     * Whether {@code image} is an existing file of at least {@code minBytes} (one transfer); if not,
     * says so on {@code err}, naming the script that makes one.
     */
    static boolean imageUsable(String command, Path image, long minBytes, String script, PrintStream err)
            throws IOException {
        if (!Files.isRegularFile(image)) {
            err.println(command + ": image: '" + image + "' is not a file (expected: an existing image, e.g. made by "
                    + script + ")");
            return false;
        }
        long size = Files.size(image);
        if (size < minBytes) {
            err.println(command + ": image: " + size + " bytes (expected: at least --bs " + minBytes + ")");
            return false;
        }
        return true;
    }

    /** The value after option {@code args[i]}. */
    static String value(String[] args, int i) {
        if (i + 1 >= args.length) {
            throw new IllegalArgumentException(args[i] + ": missing value");
        }
        return args[i + 1];
    }

    static double seconds(String option, String value) {
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' (expected: a number of seconds)");
        }
    }

    static int wholeNumber(String option, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' (expected: a whole number)");
        }
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }
}
