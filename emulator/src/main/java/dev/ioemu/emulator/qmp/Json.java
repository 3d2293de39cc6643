package dev.ioemu.emulator.qmp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON QMP needs, read the way QEMU 7.2 reads it (qobject/json-lexer.c, json-streamer.c,
 * json-parser.c): bytes go through {@link JsonLexer}; tokens are collected until the braces and
 * brackets balance, and that message is parsed on its own. A lexical error or a parse error
 * yields one error and discards only that message, so the next request is always answered.
 * Values are {@code Map<String,Object>} (insertion-ordered), {@code List<Object>}, {@code String},
 * {@code Long} (or {@code BigInteger} above 2^63, as QEMU's uint64), {@code Double},
 * {@code Boolean} and {@code null}. Strings are QEMU's modified UTF-8: invalid sequences, lone
 * surrogates and noncharacters are parse errors. {@link #write} renders QEMU's spacing
 * ({@code {"return": {}}}).
 *
 * <p>Not thread-safe: one reader per stream.
 */
public final class Json {
    /** Malformed input; the message is QEMU's error description ("JSON parse error, ..."). */
    public static final class ParseException extends Exception {
        ParseException(String message) {
            super(message, null, false, false);
        }
    }

    /** QEMU's json-streamer limits: tokens per message and nesting depth. */
    private static final int MAX_TOKEN_COUNT = 2 << 20;
    private static final int MAX_NESTING = 1 << 10;

    private final InputStream in;
    private final JsonLexer lexer = new JsonLexer(this::token);
    /** Parsed values and errors (as ParseException) not yet returned by {@link #read}. */
    private final ArrayDeque<Object> ready = new ArrayDeque<>();
    private final List<JsonLexer.Token> message = new ArrayList<>();
    private long messageBytes;
    private int braces;
    private int brackets;
    private boolean ended;

    private Json(InputStream in) {
        this.in = in;
    }

    /** Parses a complete document holding exactly one value. */
    public static Object parse(String text) throws ParseException {
        Json j = new Json(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        try {
            Object v = j.read();
            if (v == END) {
                throw new ParseException("JSON parse error, expecting value");
            }
            if (j.read() != END) {
                throw new ParseException("JSON parse error, trailing characters after the value");
            }
            return v;
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array failed", e);
        }
    }

    /** A reader of consecutive values from one byte stream (QMP's input). */
    public static Json over(InputStream in) {
        return new Json(in);
    }

    /**
     * Reads the next value.
     *
     * @return the value, or {@link #END} at end of input
     * @throws ParseException for one malformed message; the next call reads on after it
     */
    public Object read() throws IOException, ParseException {
        while (ready.isEmpty() && !ended) {
            int b = in.read();
            if (b < 0) {
                lexer.flush();
                if (!message.isEmpty()) {
                    parseMessage();
                }
                ended = true;
            } else {
                lexer.feed(b);
            }
        }
        if (ready.isEmpty()) {
            return END;
        }
        Object next = ready.poll();
        if (next instanceof ParseException e) {
            throw e;
        }
        return next == NULL ? null : next;
    }

    /** Returned by {@link #read} at end of input. */
    public static final Object END = new Object();

    /** Stands for a JSON null in the queue (ArrayDeque holds no nulls). */
    private static final Object NULL = new Object();

    /** QEMU's json_message_process_token: gathers one message's tokens, then parses them. */
    private void token(JsonLexer.Token t) {
        switch (t.type()) {
            case LCURLY -> braces++;
            case RCURLY -> braces--;
            case LSQUARE -> brackets++;
            case RSQUARE -> brackets--;
            case ERROR -> {
                fail(t.text() == null ? "JSON token size limit exceeded"
                        : "JSON parse error, stray '" + cString(t.text()) + "'");
                return;
            }
            default -> { }
        }
        if (messageBytes + t.text().length + 1 > JsonLexer.MAX_TOKEN_SIZE) {
            fail("JSON token size limit exceeded");
            return;
        }
        if (message.size() + 1 > MAX_TOKEN_COUNT) {
            fail("JSON token count limit exceeded");
            return;
        }
        if (braces + brackets > MAX_NESTING) {
            fail("JSON nesting depth limit exceeded");
            return;
        }
        message.add(t);
        messageBytes += t.text().length;
        // QEMU's condition, including its quirk: a negative brace count inside an open bracket waits.
        if ((braces > 0 || brackets > 0) && brackets >= 0) {
            return;
        }
        parseMessage();
    }

    private void fail(String description) {
        resetMessage();
        ready.add(new ParseException(description));
    }

    private void resetMessage() {
        message.clear();
        messageBytes = 0;
        braces = 0;
        brackets = 0;
    }

    private void parseMessage() {
        Parser p = new Parser(List.copyOf(message));
        resetMessage();
        try {
            Object v = p.value();
            ready.add(v == null ? NULL : v);
        } catch (ParseException e) {
            ready.add(e);
        }
    }

    /** A token's bytes as C prints them: up to the first NUL, invalid UTF-8 shown as U+FFFD. */
    private static String cString(byte[] text) {
        int n = 0;
        while (n < text.length && text[n] != 0) {
            n++;
        }
        return new String(text, 0, n, StandardCharsets.UTF_8);
    }

    /** QEMU's recursive-descent parser over one message's tokens; the first error wins. */
    private static final class Parser {
        private final List<JsonLexer.Token> tokens;
        private int pos;

        Parser(List<JsonLexer.Token> tokens) {
            this.tokens = tokens;
        }

        private static ParseException error(String what) {
            return new ParseException("JSON parse error, " + what);
        }

        private JsonLexer.Token peek() throws ParseException {
            if (pos >= tokens.size()) {
                throw error("premature EOI");
            }
            return tokens.get(pos);
        }

        private JsonLexer.Token pop() throws ParseException {
            JsonLexer.Token t = peek();
            pos++;
            return t;
        }

        Object value() throws ParseException {
            JsonLexer.Token t = peek();
            return switch (t.type()) {
                case LCURLY -> object();
                case LSQUARE -> array();
                case INTEGER, FLOAT -> number(pop());
                case STRING -> string(pop().text());
                case KEYWORD -> keyword(pop());
                default -> throw error("expecting value");
            };
        }

        private Map<String, Object> object() throws ParseException {
            pop();
            Map<String, Object> map = new LinkedHashMap<>();
            if (peek().type() == JsonLexer.TokenType.RCURLY) {
                pop();
                return map;
            }
            while (true) {
                Object key = value();
                if (!(key instanceof String k)) {
                    throw error("key is not a string in object");
                }
                if (pop().type() != JsonLexer.TokenType.COLON) {
                    throw error("missing : in object pair");
                }
                Object v = value();
                if (map.containsKey(k)) {
                    throw error("duplicate key");
                }
                map.put(k, v);
                JsonLexer.Token t = pop();
                if (t.type() == JsonLexer.TokenType.RCURLY) {
                    return map;
                }
                if (t.type() != JsonLexer.TokenType.COMMA) {
                    throw error("expected separator in dict");
                }
            }
        }

        private List<Object> array() throws ParseException {
            pop();
            List<Object> list = new ArrayList<>();
            if (peek().type() == JsonLexer.TokenType.RSQUARE) {
                pop();
                return list;
            }
            while (true) {
                list.add(value());
                JsonLexer.Token t = pop();
                if (t.type() == JsonLexer.TokenType.RSQUARE) {
                    return list;
                }
                if (t.type() != JsonLexer.TokenType.COMMA) {
                    throw error("expected separator in list");
                }
            }
        }

        private static Object keyword(JsonLexer.Token t) throws ParseException {
            String word = new String(t.text(), StandardCharsets.US_ASCII);
            return switch (word) {
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                case "null" -> null;
                default -> throw error("invalid keyword '" + word + "'");
            };
        }

        /** An int64 if it fits, else a uint64, else a double (QEMU's QNum rules). */
        private static Object number(JsonLexer.Token t) {
            String text = new String(t.text(), StandardCharsets.US_ASCII);
            if (t.type() == JsonLexer.TokenType.INTEGER) {
                BigInteger v = new BigInteger(text);
                if (v.bitLength() < 64) {
                    return v.longValue();
                }
                if (v.signum() > 0 && v.bitLength() == 64) {
                    return v;
                }
            }
            return Double.parseDouble(text);
        }

        /** Unquotes a string token: escapes, surrogate pairs, modified UTF-8, as QEMU's parse_string. */
        private static String string(byte[] b) throws ParseException {
            byte quote = b[0];
            StringBuilder sb = new StringBuilder();
            int i = 1;
            while (b[i] != quote) {
                if (b[i] == '\\') {
                    int escape = i++;
                    switch (b[i++]) {
                        case '"' -> sb.append('"');
                        case '\'' -> sb.append('\'');
                        case '\\' -> sb.append('\\');
                        case '/' -> sb.append('/');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            int cp = hex4(b, i);
                            i += 4;
                            if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < b.length && b[i] == '\\' && b[i + 1] == 'u') {
                                int trailing = hex4(b, i + 2);
                                if (trailing >= 0xDC00 && trailing <= 0xDFFF) {
                                    cp = 0x10000 + ((cp & 0x3FF) << 10) + (trailing & 0x3FF);
                                    i += 6;
                                } else {
                                    cp = -1;
                                }
                            }
                            if (!validCodePoint(cp)) {
                                int shown = Math.min(i, b.length) - escape;
                                throw error(cString(java.util.Arrays.copyOfRange(b, escape, escape + shown))
                                        + " is not a valid Unicode character");
                            }
                            sb.appendCodePoint(cp);
                        }
                        default -> throw error("invalid escape sequence in string");
                    }
                } else {
                    int[] decoded = modifiedUtf8(b, i);
                    if (decoded[0] < 0) {
                        throw error("invalid UTF-8 sequence in string");
                    }
                    sb.appendCodePoint(decoded[0]);
                    i = decoded[1];
                }
            }
            return sb.toString();
        }

        /** Four hex digits at {@code i}, or -1. */
        private static int hex4(byte[] b, int i) {
            int v = 0;
            for (int k = 0; k < 4; k++) {
                int d = i + k < b.length ? Character.digit(b[i + k], 16) : -1;
                if (d < 0) {
                    return -1;
                }
                v = v << 4 | d;
            }
            return v;
        }

        /** QEMU's mod_utf8_codepoint: {code point or -1, index after the sequence}. */
        private static int[] modifiedUtf8(byte[] b, int i) {
            int first = b[i] & 0xFF;
            if (first < 0x80) {
                return new int[] {first, i + 1};
            }
            if (first >= 0xFE || (first & 0x40) == 0) {
                return new int[] {-1, i + 1};
            }
            int len = Integer.numberOfLeadingZeros(~(first << 24));
            int cp = first & ((1 << (7 - len)) - 1);
            int p = i + 1;
            for (int k = 1; k < len; k++) {
                int next = p < b.length ? b[p] & 0xFF : 0;
                if ((next & 0xC0) != 0x80) {
                    return new int[] {-1, p};
                }
                p++;
                cp = cp << 6 | (next & 0x3F);
            }
            int[] minimum = {0x80, 0x800, 0x10000, 0x200000, 0x4000000};
            if (!validCodePoint(cp) || (cp < minimum[len - 2] && !(cp == 0 && len == 2))) {
                return new int[] {-1, p};
            }
            return new int[] {cp, p};
        }

        /** QEMU's is_valid_codepoint: Unicode scalar values that are not noncharacters. */
        private static boolean validCodePoint(int cp) {
            return cp >= 0 && cp <= 0x10FFFF && (cp & 0xFFFFF800) != 0xD800
                    && !(cp >= 0xFDD0 && cp <= 0xFDEF) && (cp & 0xFFFE) != 0xFFFE;
        }
    }

    /** Renders {@code value} on one line with QEMU's spacing: {@code {"a": 1, "b": [1, 2]}}. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof Number n) {
            sb.append(formatDouble(n.doubleValue()));
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                write(sb, l.get(i));
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    /** C's {@code %.17g}, which QEMU uses for doubles: "1.5", "1e+20", "0.10000000000000001", "inf". */
    static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return 1 / d < 0 ? "-0" : "0";
        }
        BigDecimal v = new BigDecimal(d).round(new MathContext(17));
        int exponent = v.precision() - v.scale() - 1;
        if (exponent < -4 || exponent >= 17) {
            BigDecimal mantissa = v.movePointLeft(exponent).stripTrailingZeros();
            String e = String.format("%02d", Math.abs(exponent));
            return mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+") + e;
        }
        return v.stripTrailingZeros().toPlainString();
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\u%04X", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** An insertion-ordered object from alternating keys and values. */
    public static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }
}
