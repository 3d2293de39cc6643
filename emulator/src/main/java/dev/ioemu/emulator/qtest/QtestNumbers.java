package dev.ioemu.emulator.qtest;

/**
 * Number parsing as QEMU's qtest server does it (C {@code strtoull(…, 0)} through
 * {@code qemu_strtou64}): decimal, {@code 0x} hex or leading-0 octal, an optional sign (a minus
 * wraps modulo 2^64), and the whole token must be consumed. Where QEMU aborts on a bad token,
 * these methods throw {@link QtestFailure} naming the argument.
 */
final class QtestNumbers {
    private QtestNumbers() {
    }

    /** Parses an unsigned 64-bit value (returned as the same bits in a long). */
    static long u64(String token, String what) throws QtestFailure {
        boolean negative = token.startsWith("-");
        String t = token.startsWith("-") || token.startsWith("+") ? token.substring(1) : token;
        long magnitude = magnitude(t, token, what);
        return negative ? -magnitude : magnitude;
    }

    /** Parses a signed 32-bit value ({@code qemu_strtoi}). */
    static int i32(String token, String what) throws QtestFailure {
        long v = signed(token, what);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new QtestFailure("number '" + token + "' for " + what + " out of range (expected: a 32-bit signed value)");
        }
        return (int) v;
    }

    /** Parses a signed 64-bit value ({@code qemu_strtoi64}). */
    static long i64(String token, String what) throws QtestFailure {
        return signed(token, what);
    }

    private static long signed(String token, String what) throws QtestFailure {
        boolean negative = token.startsWith("-");
        String t = token.startsWith("-") || token.startsWith("+") ? token.substring(1) : token;
        long magnitude = magnitude(t, token, what);
        if (magnitude < 0 && !(negative && magnitude == Long.MIN_VALUE)) {
            throw new QtestFailure("number '" + token + "' for " + what + " out of range (expected: a 64-bit signed value)");
        }
        return negative ? -magnitude : magnitude;
    }

    /** The unsigned value of an unsigned token (no sign) in C's base-0 notation. */
    private static long magnitude(String unsigned, String token, String what) throws QtestFailure {
        String t = unsigned;
        int radix = 10;
        if (t.length() > 2 && (t.startsWith("0x") || t.startsWith("0X"))) {
            radix = 16;
            t = t.substring(2);
        } else if (t.length() > 1 && t.charAt(0) == '0') {
            radix = 8;
            t = t.substring(1);
        }
        if (t.isEmpty()) {
            throw invalid(token, what);
        }
        for (int i = 0; i < t.length(); i++) {
            if (Character.digit(t.charAt(i), radix) < 0) {
                throw invalid(token, what);
            }
        }
        try {
            return Long.parseUnsignedLong(t, radix);
        } catch (NumberFormatException e) {
            throw new QtestFailure("number '" + token + "' for " + what + " out of range (expected: below 2^64)");
        }
    }

    /**
     * {@code value} as C's {@code %0*x} prints it: lowercase hex, zero-padded to at least
     * {@code width} digits. (Not String.format: its first use loads ~80 classes before a first reply.)
     */
    static String hex(long value, int width) {
        String digits = Long.toHexString(value);
        if (digits.length() >= width) {
            return digits;
        }
        return "0".repeat(width - digits.length()) + digits;
    }

    private static QtestFailure invalid(String token, String what) {
        return new QtestFailure("invalid number '" + token + "' for " + what
                + " (expected: decimal, 0x hex or 0 octal)");
    }
}
