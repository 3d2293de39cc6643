package dev.ioemu.emulator.qmp;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * QEMU's JSON lexer (qobject/json-lexer.c, QEMU 7.2) as a state table over input bytes: RFC 8259
 * tokens plus QEMU's extensions (single-quoted strings, {@code \'}). Decoding and validating
 * strings and numbers is left to the parser, as in QEMU. What matters for a client is the
 * recovery: an invalid byte ends the token as an error token, then bytes are skipped until a
 * structural character, a control character or 0xFE/0xFF, so one bad request never swallows
 * the next line (an unterminated string ends at its newline).
 *
 * <p>Not thread-safe: one lexer per input stream.
 */
final class JsonLexer {
    enum TokenType { ERROR, LCURLY, RCURLY, LSQUARE, RSQUARE, COLON, COMMA, INTEGER, FLOAT, KEYWORD, STRING }

    /** One token: its type and its bytes as they appeared (quotes and escapes included). */
    record Token(TokenType type, byte[] text) {
    }

    /** A token longer than this is cut off and reported (QEMU's MAX_TOKEN_SIZE, 64 MiB). */
    static final int MAX_TOKEN_SIZE = 64 << 20;

    // Lexer states; the terminal states are the token types (offset by TERMINAL).
    private static final int IN_RECOVERY = 1;
    private static final int IN_DQ_STRING_ESCAPE = 2;
    private static final int IN_DQ_STRING = 3;
    private static final int IN_SQ_STRING_ESCAPE = 4;
    private static final int IN_SQ_STRING = 5;
    private static final int IN_ZERO = 6;
    private static final int IN_EXP_DIGITS = 7;
    private static final int IN_EXP_SIGN = 8;
    private static final int IN_EXP_E = 9;
    private static final int IN_MANTISSA = 10;
    private static final int IN_MANTISSA_DIGITS = 11;
    private static final int IN_DIGITS = 12;
    private static final int IN_SIGN = 13;
    private static final int IN_KEYWORD = 14;
    private static final int IN_START = 15;
    private static final int STATES = 16;
    /** Next states at or above this are tokens: TERMINAL + TokenType.ordinal(). */
    private static final int TERMINAL = 32;
    /** Flag on a next state: the byte is not consumed, it is looked at again in the new state. */
    private static final int LOOKAHEAD = 0x80;

    private static final int ERROR = TERMINAL + TokenType.ERROR.ordinal();

    /** {@code TABLE[state][byte]}: the next state; unset entries are ERROR (a default of 0). */
    private static final byte[][] TABLE = new byte[STATES][256];

    static {
        for (byte[] row : TABLE) {
            java.util.Arrays.fill(row, (byte) ERROR);
        }
        // Recovery: skip to a structural character, a control character other than tab, or the
        // impossible UTF-8 bytes 0xFE/0xFF, and look at it again from the start.
        range(IN_RECOVERY, 0x00, 0x1F, IN_START | LOOKAHEAD);
        range(IN_RECOVERY, 0x20, 0xFD, IN_RECOVERY);
        range(IN_RECOVERY, 0xFE, 0xFF, IN_START | LOOKAHEAD);
        set(IN_RECOVERY, '\t', IN_RECOVERY);
        for (char c : "[]{}:,".toCharArray()) {
            set(IN_RECOVERY, c, IN_START | LOOKAHEAD);
        }
        // Strings: any byte but control characters and 0xFE/0xFF; any such byte after a backslash.
        range(IN_DQ_STRING_ESCAPE, 0x20, 0xFD, IN_DQ_STRING);
        range(IN_DQ_STRING, 0x20, 0xFD, IN_DQ_STRING);
        set(IN_DQ_STRING, '\\', IN_DQ_STRING_ESCAPE);
        set(IN_DQ_STRING, '"', token(TokenType.STRING));
        range(IN_SQ_STRING_ESCAPE, 0x20, 0xFD, IN_SQ_STRING);
        range(IN_SQ_STRING, 0x20, 0xFD, IN_SQ_STRING);
        set(IN_SQ_STRING, '\\', IN_SQ_STRING_ESCAPE);
        set(IN_SQ_STRING, '\'', token(TokenType.STRING));
        // Numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
        terminal(IN_ZERO, TokenType.INTEGER);
        range(IN_ZERO, '0', '9', ERROR);
        set(IN_ZERO, '.', IN_MANTISSA);
        terminal(IN_EXP_DIGITS, TokenType.FLOAT);
        range(IN_EXP_DIGITS, '0', '9', IN_EXP_DIGITS);
        range(IN_EXP_SIGN, '0', '9', IN_EXP_DIGITS);
        set(IN_EXP_E, '-', IN_EXP_SIGN);
        set(IN_EXP_E, '+', IN_EXP_SIGN);
        range(IN_EXP_E, '0', '9', IN_EXP_DIGITS);
        terminal(IN_MANTISSA_DIGITS, TokenType.FLOAT);
        range(IN_MANTISSA_DIGITS, '0', '9', IN_MANTISSA_DIGITS);
        set(IN_MANTISSA_DIGITS, 'e', IN_EXP_E);
        set(IN_MANTISSA_DIGITS, 'E', IN_EXP_E);
        range(IN_MANTISSA, '0', '9', IN_MANTISSA_DIGITS);
        terminal(IN_DIGITS, TokenType.INTEGER);
        range(IN_DIGITS, '0', '9', IN_DIGITS);
        set(IN_DIGITS, 'e', IN_EXP_E);
        set(IN_DIGITS, 'E', IN_EXP_E);
        set(IN_DIGITS, '.', IN_MANTISSA);
        set(IN_SIGN, '0', IN_ZERO);
        range(IN_SIGN, '1', '9', IN_DIGITS);
        // Keywords: [a-z]+; the parser rejects all but true, false and null.
        terminal(IN_KEYWORD, TokenType.KEYWORD);
        range(IN_KEYWORD, 'a', 'z', IN_KEYWORD);
        // Start.
        set(IN_START, '"', IN_DQ_STRING);
        set(IN_START, '\'', IN_SQ_STRING);
        set(IN_START, '0', IN_ZERO);
        range(IN_START, '1', '9', IN_DIGITS);
        set(IN_START, '-', IN_SIGN);
        set(IN_START, '{', token(TokenType.LCURLY));
        set(IN_START, '}', token(TokenType.RCURLY));
        set(IN_START, '[', token(TokenType.LSQUARE));
        set(IN_START, ']', token(TokenType.RSQUARE));
        set(IN_START, ',', token(TokenType.COMMA));
        set(IN_START, ':', token(TokenType.COLON));
        range(IN_START, 'a', 'z', IN_KEYWORD);
        for (char c : " \t\r\n".toCharArray()) {
            set(IN_START, c, IN_START);
        }
    }

    private static int token(TokenType t) {
        return TERMINAL + t.ordinal();
    }

    private static void set(int state, int b, int next) {
        TABLE[state][b] = (byte) next;
    }

    private static void range(int state, int from, int to, int next) {
        for (int b = from; b <= to; b++) {
            set(state, b, next);
        }
    }

    /** Any byte not otherwise listed ends the token and is looked at again. */
    private static void terminal(int state, TokenType t) {
        range(state, 0, 255, token(t) | LOOKAHEAD);
    }

    private final Consumer<Token> sink;
    private final ByteArrayOutputStream token = new ByteArrayOutputStream();
    private int state = IN_START;

    JsonLexer(Consumer<Token> sink) {
        this.sink = sink;
    }

    /** Feeds one input byte; complete tokens go to the sink in order. */
    void feed(int b) {
        boolean consumed = false;
        while (!consumed) {
            int next = TABLE[state][b & 0xFF] & 0xFF;
            consumed = (next & LOOKAHEAD) == 0;
            next &= ~LOOKAHEAD;
            if (consumed) {
                token.write(b);
            }
            if (next >= TERMINAL) {
                TokenType type = TokenType.values()[next - TERMINAL];
                sink.accept(new Token(type, token.toByteArray()));
                token.reset();
                state = type == TokenType.ERROR ? IN_RECOVERY : IN_START;
            } else {
                if (next == IN_START || next == IN_RECOVERY) {
                    token.reset();   // whitespace and skipped bytes belong to no token
                }
                state = next;
            }
        }
        if (token.size() > MAX_TOKEN_SIZE) {
            token.reset();
            state = IN_START;
            sink.accept(new Token(TokenType.ERROR, null));   // null text: the size limit
        }
    }

    /** End of input: a token still open (a number at the very end) is finished, as QEMU's flush does. */
    void flush() {
        if (state != IN_START && state != IN_RECOVERY) {
            int next = TABLE[state][0] & 0xFF & ~LOOKAHEAD;
            if (next >= TERMINAL && next != ERROR) {
                sink.accept(new Token(TokenType.values()[next - TERMINAL], token.toByteArray()));
            } else {
                sink.accept(new Token(TokenType.ERROR, token.toByteArray()));
            }
        }
        token.reset();
        state = IN_START;
    }
}
