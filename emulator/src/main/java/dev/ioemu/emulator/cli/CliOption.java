package dev.ioemu.emulator.cli;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of the command line's option table ({@link CommandLine#options()}): the option's name
 * as QEMU spells it, whether it takes a value, its help line and what it does. A second row with
 * the same name is refused when the table is built, so an option cannot be known twice.
 *
 * @param name       "-drive" (a leading "--" on the command line is accepted as "-")
 * @param takesValue whether the next argument is the option's value
 * @param help       the text after the name in {@code -help}; empty for options kept only for
 *                   QEMU compatibility
 * @param handler    applies the option to the parser's state
 */
public record CliOption(String name, boolean takesValue, String help, Handler handler) {
    /** Applies one occurrence of an option; {@code value} is null for a flag. */
    @FunctionalInterface
    public interface Handler {
        void apply(CommandLine parser, String option, String value) throws UsageException;
    }

    public CliOption {
        if (!name.startsWith("-") || name.startsWith("--")) {
            throw new IllegalArgumentException("option name: " + name + " (expected: -NAME)");
        }
    }

    /** An option followed by a value: {@code -drive file=a.img}. */
    public static CliOption value(String name, String help, Handler handler) {
        return new CliOption(name, true, help, handler);
    }

    /** An option on its own: {@code -S}. */
    public static CliOption flag(String name, String help, Handler handler) {
        return new CliOption(name, false, help, handler);
    }

    static Map<String, CliOption> index(List<CliOption> options) {
        Map<String, CliOption> byName = new HashMap<>();
        for (CliOption o : options) {
            if (byName.put(o.name(), o) != null) {
                throw new IllegalStateException("option " + o.name() + " is in the option table twice");
            }
        }
        return Map.copyOf(byName);
    }
}
