package dev.ioemu.emulator.qtest;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ByteSearchTest {
    private static int naive(byte[] a, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void agreesWithAPlainLoopOnRandomData() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int round = 0; round < 20_000; round++) {
            byte[] a = new byte[rnd.nextInt(0, 40)];
            for (int i = 0; i < a.length; i++) {
                // Few distinct values, including 0x0a's neighbours and bytes with the high bit set.
                byte[] alphabet = {0x0a, 0x0b, 0x09, (byte) 0x8a, 0x20, 0x00, (byte) 0xff, 0x41};
                a[i] = alphabet[rnd.nextInt(alphabet.length)];
            }
            int from = a.length == 0 ? 0 : rnd.nextInt(0, a.length + 1);
            int to = rnd.nextInt(from, a.length + 1);
            for (byte b : new byte[] {0x0a, 0x20, 0x00, (byte) 0xff, (byte) 0x8a}) {
                assertEquals(naive(a, from, to, b), ByteSearch.indexOf(a, from, to, b));
            }
        }
    }
}
