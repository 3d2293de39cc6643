package dev.ioemu.tools;

/** Byte counts on the command line as qemu-io writes them: {@code 512}, {@code 4k}, {@code 64K}, {@code 1M}, {@code 2G}. */
public final class SizeArgument {
    private SizeArgument() {
    }

    /**
     * @throws IllegalArgumentException "what: 'value' (expected: …)"
     */
    public static long parse(String what, String value) {
        String v = value.trim();
        long unit = 1;
        String digits = v;
        if (!v.isEmpty() && Character.isLetter(v.charAt(v.length() - 1))) {
            unit = switch (Character.toLowerCase(v.charAt(v.length() - 1))) {
                case 'b' -> 1;
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                case 'g' -> 1L << 30;
                case 't' -> 1L << 40;
                default -> 0;
            };
            digits = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(digits);
            if (unit == 0 || n < 0) {
                throw new NumberFormatException(v);
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(what + ": '" + value
                    + "' (expected: a non-negative byte count such as 512, 4k, 64K, 1M)");
        }
    }

    /** "64 KiB", "1 MiB", "512 bytes" as qemu-io prints sizes. */
    static String human(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : (v == Math.rint(v) ? String.valueOf((long) v) : String.format("%.3f", v))
                + " " + units[u];
    }
}
