package dev.ioemu.emulator.debug;

import dev.ioemu.emulator.cli.UsageException;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code -d ITEMS}, {@code -dfilter RANGES} and {@code -singlestep} asked for, parsed the
 * way QEMU parses them: items comma separated, {@code all} for every item, {@code trace:PATTERN}
 * enables trace events; {@code -dfilter} ranges are {@code START..END} (inclusive),
 * {@code START+LENGTH} or {@code START-LENGTH} (the LENGTH bytes ending at START), numbers in C
 * syntax. The output goes where {@code -D FILE} says (else stderr), shared with trace events.
 *
 * @param items         the log items, empty when {@code -d} was not given
 * @param tracePatterns patterns from {@code trace:PATTERN} items, in order
 * @param filter        linear-address ranges for the per-block items, empty = everything
 * @param singlestep    one instruction per block, as QEMU's {@code -singlestep}
 */
public record DebugLogOptions(Set<LogItem> items, List<String> tracePatterns, List<Range> filter, boolean singlestep) {
    public static final DebugLogOptions NONE = new DebugLogOptions(Set.of(), List.of(), List.of(), false);

    /** An inclusive linear-address range. */
    public record Range(long first, long last) {
        boolean contains(long address) {
            return address >= first && address <= last;
        }
    }

    public DebugLogOptions {
        items = items.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(items));
        tracePatterns = List.copyOf(tracePatterns);
        filter = List.copyOf(filter);
    }

    public boolean has(LogItem item) {
        return items.contains(item);
    }

    /** Whether the address passes {@code -dfilter} (everything does without one). */
    public boolean inFilter(long linear) {
        if (filter.isEmpty()) {
            return true;
        }
        for (Range r : filter) {
            if (r.contains(linear)) {
                return true;
            }
        }
        return false;
    }

    /** {@code -d help}: the caller prints {@link LogItem#usage()} and exits 0. */
    public static boolean isHelp(String value) {
        return value.equals("help") || value.equals("?");
    }

    /** Adds the items of one {@code -d} value. */
    public DebugLogOptions withItems(String value) throws UsageException {
        EnumSet<LogItem> set = items.isEmpty() ? EnumSet.noneOf(LogItem.class) : EnumSet.copyOf(items);
        List<String> patterns = new ArrayList<>(tracePatterns);
        boolean any = false;
        for (String name : value.split(",", -1)) {
            if (name.startsWith("trace:")) {
                patterns.add(name.substring("trace:".length()));
                any = true;
            } else if (name.equals("all")) {
                set.addAll(EnumSet.allOf(LogItem.class));
                set.remove(LogItem.TID);
                any = true;
            } else {
                LogItem item = byName(name);
                if (item == null) {
                    // QEMU answers an unknown item with its list of items and exit status 1.
                    throw new UsageException("-d " + value + ": unknown log item '" + name + "'\n"
                            + LogItem.usage().stripTrailing());
                }
                set.add(item);
                any = true;
            }
        }
        if (!any) {
            throw new UsageException("-d " + value + ": no log item given\n" + LogItem.usage().stripTrailing());
        }
        return new DebugLogOptions(set, patterns, filter, singlestep);
    }

    public DebugLogOptions withFilter(String value) throws UsageException {
        List<Range> ranges = new ArrayList<>(filter);
        for (String r : value.split(",")) {
            ranges.add(parseRange(r));
        }
        return new DebugLogOptions(items, tracePatterns, ranges, singlestep);
    }

    public DebugLogOptions withSinglestep() {
        return new DebugLogOptions(items, tracePatterns, filter, true);
    }

    private static LogItem byName(String name) {
        for (LogItem item : LogItem.values()) {
            if (item.qemuName.equals(name)) {
                return item;
            }
        }
        return null;
    }

    private static Range parseRange(String r) throws UsageException {
        try {
            int dots = r.indexOf("..");
            if (dots > 0) {
                long first = number(r.substring(0, dots));
                long last = number(r.substring(dots + 2));
                if (last < first) {
                    throw new UsageException("-dfilter " + r + ": end before start (expected: START..END)");
                }
                return new Range(first, last);
            }
            int plus = r.indexOf('+');
            if (plus > 0) {
                long first = number(r.substring(0, plus));
                long length = number(r.substring(plus + 1));
                if (length <= 0) {
                    throw new UsageException("-dfilter " + r + ": empty range (expected: START+LENGTH, LENGTH > 0)");
                }
                return new Range(first, first + length - 1);
            }
            int minus = r.indexOf('-', 1);
            if (minus > 0) {
                long last = number(r.substring(0, minus));
                long length = number(r.substring(minus + 1));
                if (length <= 0 || length - 1 > last) {
                    throw new UsageException("-dfilter " + r + ": bad range (expected: START-LENGTH, 0 < LENGTH <= START+1)");
                }
                return new Range(last - length + 1, last);
            }
        } catch (NumberFormatException e) {
            throw new UsageException("-dfilter " + r + ": not a number (expected: START..END, START+LEN or START-LEN)", e);
        }
        throw new UsageException("-dfilter " + r + ": bad range (expected: START..END, START+LEN or START-LEN)");
    }

    private static long number(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long v = t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16)
                : t.length() > 1 && t.startsWith("0") ? Long.parseLong(t.substring(1), 8) : Long.parseLong(t);
        if (v < 0) {
            throw new NumberFormatException(s);
        }
        return v;
    }
}
