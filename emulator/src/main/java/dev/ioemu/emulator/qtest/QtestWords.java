package dev.ioemu.emulator.qtest;

import java.nio.charset.StandardCharsets;

/**
 * One request line split on single spaces as QEMU splits it (two spaces give an empty word),
 * kept as byte ranges of the line: a data word can be 128 MiB of hex or base64, and copying it
 * into Strings would cost more than the request itself.
 */
final class QtestWords {
    private final byte[] line;
    private final int[] start;
    private final int[] end;
    private final int count;

    QtestWords(byte[] line, int length) {
        this.line = line;
        int[] starts = new int[8];
        int[] ends = new int[8];
        int n = 0;
        int from = 0;
        while (true) {
            int space = ByteSearch.indexOf(line, from, length, (byte) ' ');
            if (n == starts.length) {
                starts = java.util.Arrays.copyOf(starts, 2 * n);
                ends = java.util.Arrays.copyOf(ends, 2 * n);
            }
            starts[n] = from;
            ends[n] = space < 0 ? length : space;
            n++;
            if (space < 0) {
                break;
            }
            from = space + 1;
        }
        this.start = starts;
        this.end = ends;
        this.count = n;
    }

    int count() {
        return count;
    }

    String word(int i) {
        return new String(line, start[i], end[i] - start[i], StandardCharsets.ISO_8859_1);
    }

    byte[] bytes() {
        return line;
    }

    int start(int i) {
        return start[i];
    }

    int length(int i) {
        return end[i] - start[i];
    }
}
