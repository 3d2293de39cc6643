package dev.ioemu.tools;

import java.util.ArrayList;
import java.util.List;

/**
 * One {@code -c} command of ioemu-io, parsed and checked before the image is touched (so a bad
 * argument writes nothing). The syntax is qemu-io's:
 * <pre>
 *   read [-P PATTERN] OFFSET LENGTH     read, and with -P check every byte equals PATTERN
 *   write [-P PATTERN] OFFSET LENGTH    write PATTERN (default 0xcd, as qemu-io)
 *   write -z OFFSET LENGTH              write zeroes
 *   discard OFFSET LENGTH               discard (TRIM); needs -d unmap to reach the image
 *   flush                               flush
 * </pre>
 */
record IoCommand(Kind kind, long offset, long length, int pattern, boolean checkPattern) {
    /** The commands ioemu-io understands. */
    enum Kind { READ, WRITE, WRITE_ZEROES, DISCARD, FLUSH }

    /** qemu-io's default write pattern. */
    static final int DEFAULT_PATTERN = 0xcd;
    /** Largest single read or write (one buffer in memory). */
    static final long MAX_TRANSFER = 1L << 30;

    /**
     * @throws IllegalArgumentException naming the command, the bad value and what is expected
     */
    static IoCommand parse(String text) {
        List<String> words = new ArrayList<>(List.of(text.trim().split("\\s+")));
        if (words.isEmpty() || words.get(0).isEmpty()) {
            throw new IllegalArgumentException("command: '' (expected: read, write, discard or flush)");
        }
        String name = words.remove(0);
        int pattern = DEFAULT_PATTERN;
        boolean checkPattern = false;
        boolean zeroes = false;
        while (!words.isEmpty() && words.get(0).startsWith("-")) {
            String flag = words.remove(0);
            if (flag.equals("-P") && !words.isEmpty() && (name.equals("read") || name.equals("write"))) {
                pattern = parsePattern(name, words.remove(0));
                checkPattern = true;
            } else if (flag.equals("-z") && name.equals("write")) {
                zeroes = true;
            } else {
                throw new IllegalArgumentException(name + ": option '" + flag + "' (expected: "
                        + (name.equals("write") ? "-P PATTERN or -z" : name.equals("read") ? "-P PATTERN" : "none")
                        + ")");
            }
        }
        if (name.equals("flush")) {
            if (!words.isEmpty()) {
                throw new IllegalArgumentException("flush: '" + String.join(" ", words) + "' (expected: no arguments)");
            }
            return new IoCommand(Kind.FLUSH, 0, 0, 0, false);
        }
        Kind kind = switch (name) {
            case "read" -> Kind.READ;
            case "write" -> zeroes ? Kind.WRITE_ZEROES : Kind.WRITE;
            case "discard" -> Kind.DISCARD;
            default -> throw new IllegalArgumentException("command: '" + name
                    + "' (expected: read, write, discard or flush)");
        };
        if (zeroes && checkPattern) {
            throw new IllegalArgumentException("write: -z with -P (expected: one of them)");
        }
        if (words.size() != 2) {
            throw new IllegalArgumentException(name + ": '" + String.join(" ", words)
                    + "' (expected: OFFSET LENGTH)");
        }
        long offset = SizeArgument.parse(name + " offset", words.get(0));
        long length = SizeArgument.parse(name + " length", words.get(1));
        if ((kind == Kind.READ || kind == Kind.WRITE) && length > MAX_TRANSFER) {
            throw new IllegalArgumentException(name + " length: " + length + " (expected: at most " + MAX_TRANSFER + ")");
        }
        return new IoCommand(kind, offset, length, pattern, checkPattern);
    }

    private static int parsePattern(String name, String value) {
        try {
            int p = Integer.decode(value);
            if (p < 0 || p > 0xff) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " -P: '" + value + "' (expected: a byte value 0..255, e.g. 0xab)");
        }
    }

    boolean writes() {
        return kind != Kind.READ && kind != Kind.FLUSH;
    }
}
