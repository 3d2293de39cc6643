package dev.ioemu.bios;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Keys typed at the host console, waiting for INT 16h (shared/spec/int13.md §8.4, §8.7): key
 * words (scan code in the high byte, ASCII in the low byte). Any thread may offer keys; the vCPU
 * thread moves them into the BDA ring buffer when the guest calls INT 16h.
 */
public final class ConsoleInput {
    /** US layout, scan code set 1: characters in scan-code order per keyboard row, unshifted then shifted. */
    private static final String[][] ROWS = {
            {"1234567890-=", "!@#$%^&*()_+"},
            {"qwertyuiop[]", "QWERTYUIOP{}"},
            {"asdfghjkl;'`", "ASDFGHJKL:\"~"},
            {"\\zxcvbnm,./", "|ZXCVBNM<>?"},
    };
    private static final int[] ROW_FIRST_SCAN = {0x02, 0x10, 0x1E, 0x2B};
    private static final int[] KEY_WORD = new int[128];

    static {
        for (int row = 0; row < ROWS.length; row++) {
            for (String chars : ROWS[row]) {
                for (int i = 0; i < chars.length(); i++) {
                    char c = chars.charAt(i);
                    KEY_WORD[c] = (ROW_FIRST_SCAN[row] + i) << 8 | c;
                }
            }
        }
        KEY_WORD[' '] = 0x3920;
        KEY_WORD['\r'] = 0x1C0D;
        KEY_WORD['\n'] = 0x1C0D;
        KEY_WORD['\b'] = 0x0E08;
        KEY_WORD['\t'] = 0x0F09;
        KEY_WORD[0x1B] = 0x011B;
    }

    private final ConcurrentLinkedQueue<Integer> keys = new ConcurrentLinkedQueue<>();

    /** Queues one key word. */
    public void offerKey(int keyWord) {
        keys.add(keyWord & 0xFFFF);
    }

    /**
     * Queues the keys that type {@code text} on a US keyboard.
     *
     * @throws IllegalArgumentException for a character with no key
     */
    public void offerText(String text) {
        for (int i = 0; i < text.length(); i++) {
            offerKey(keyWordFor(text.charAt(i)));
        }
    }

    /** The key word for an ASCII character. */
    public static int keyWordFor(char c) {
        if (c >= KEY_WORD.length || KEY_WORD[c] == 0) {
            throw new IllegalArgumentException("console key: U+" + String.format("%04X", (int) c)
                    + " (expected: a character on a US keyboard)");
        }
        return KEY_WORD[c];
    }

    Integer poll() {
        return keys.poll();
    }

    Integer peek() {
        return keys.peek();
    }
}
