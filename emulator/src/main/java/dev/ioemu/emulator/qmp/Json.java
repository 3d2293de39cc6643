package dev.ioemu.emulator.qmp;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON QMP needs (RFC 8259), without a library: values are {@code Map<String,Object>}
 * (insertion-ordered), {@code List<Object>}, {@code String}, {@code Long} or {@code Double},
 * {@code Boolean} and {@code null}. {@link #read} parses one value from a stream, so objects can
 * arrive back to back as QMP sends them; {@link #write} renders QEMU's spacing
 * ({@code {"return": {}}}).
 */
public final class Json {
    /** Malformed input; the message says where and what was expected. */
    public static final class ParseException extends Exception {
        ParseException(String message) {
            super(message);
        }
    }

    /** Nesting deeper than this is refused (hostile input must not overflow the stack). */
    private static final int MAX_DEPTH = 1024;

    private final Reader in;
    private int peeked = -2;   // -2 = nothing peeked

    private Json(Reader in) {
        this.in = in;
    }

    /** Parses a complete document. */
    public static Object parse(String text) throws ParseException {
        try {
            Json j = new Json(new java.io.StringReader(text));
            Object v = j.value(0);
            j.skipWhitespace();
            if (j.peek() != -1) {
                throw new ParseException("trailing characters after the JSON value");
            }
            return v;
        } catch (IOException e) {
            throw new IllegalStateException("string reader failed", e);
        }
    }

    /** A reader of consecutive values from one stream (QMP's input). */
    public static Json over(Reader in) {
        return new Json(in);
    }

    /**
     * Reads the next value.
     *
     * @return the value, or {@link #END} at end of input
     * @throws ParseException on malformed input; the rest of the current line is discarded so the
     *                        next request can be read (QEMU's parser resynchronises similarly)
     */
    public Object read() throws IOException, ParseException {
        skipWhitespace();
        if (peek() == -1) {
            return END;
        }
        try {
            return value(0);
        } catch (ParseException e) {
            int c;
            while ((c = next()) != -1 && c != '\n') {
                // skip to the end of the line
            }
            throw e;
        }
    }

    /** Returned by {@link #read} at end of input. */
    public static final Object END = new Object();

    private int peek() throws IOException {
        if (peeked == -2) {
            peeked = in.read();
        }
        return peeked;
    }

    private int next() throws IOException {
        int c = peek();
        peeked = -2;
        return c;
    }

    private void skipWhitespace() throws IOException {
        while (true) {
            int c = peek();
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                next();
            } else {
                return;
            }
        }
    }

    private Object value(int depth) throws IOException, ParseException {
        if (depth > MAX_DEPTH) {
            throw new ParseException("nesting deeper than " + MAX_DEPTH);
        }
        skipWhitespace();
        int c = peek();
        switch (c) {
            case '{': return object(depth);
            case '[': return array(depth);
            case '"': return string();
            case -1: throw new ParseException("unexpected end of input");
            default:
                if (Character.isLetter(c)) {
                    return keyword();
                }
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                next();
                throw new ParseException("unexpected character '" + (char) c + "'");
        }
    }

    private Map<String, Object> object(int depth) throws IOException, ParseException {
        next();
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            next();
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw new ParseException("expected a member name");
            }
            String key = string();
            skipWhitespace();
            if (next() != ':') {
                throw new ParseException("expected ':' after member \"" + key + "\"");
            }
            map.put(key, value(depth + 1));
            skipWhitespace();
            int c = next();
            if (c == '}') {
                return map;
            }
            if (c != ',') {
                throw new ParseException("expected ',' or '}' in object");
            }
        }
    }

    private List<Object> array(int depth) throws IOException, ParseException {
        next();
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            next();
            return list;
        }
        while (true) {
            list.add(value(depth + 1));
            skipWhitespace();
            int c = next();
            if (c == ']') {
                return list;
            }
            if (c != ',') {
                throw new ParseException("expected ',' or ']' in array");
            }
        }
    }

    private String string() throws IOException, ParseException {
        next();   // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = next();
            if (c == -1) {
                throw new ParseException("unterminated string");
            }
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                int e = next();
                switch (e) {
                    case '"', '\\', '/' -> sb.append((char) e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        int v = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(next(), 16);
                            if (d < 0) {
                                throw new ParseException("invalid \\u escape");
                            }
                            v = v << 4 | d;
                        }
                        sb.append((char) v);
                    }
                    default -> throw new ParseException("invalid escape '\\" + (char) e + "'");
                }
            } else if (c < 0x20) {
                throw new ParseException("control character in string");
            } else {
                sb.append((char) c);
            }
        }
    }

    private Object number() throws IOException, ParseException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = peek();
            if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
                sb.append((char) next());
            } else {
                break;
            }
        }
        String t = sb.toString();
        try {
            if (t.matches("-?(0|[1-9][0-9]*)")) {
                return Long.parseLong(t);
            }
            if (t.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?")) {
                return Double.parseDouble(t);
            }
        } catch (NumberFormatException e) {
            return Double.parseDouble(t);   // an integer beyond 64 bits
        }
        throw new ParseException("invalid number '" + t + "'");
    }

    /** {@code true}, {@code false} or {@code null}; any other word is QEMU's "invalid keyword". */
    private Object keyword() throws IOException, ParseException {
        StringBuilder sb = new StringBuilder();
        while (peek() != -1 && Character.isLetterOrDigit(peek())) {
            sb.append((char) next());
        }
        return switch (sb.toString()) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null" -> null;
            default -> throw new ParseException("invalid keyword '" + sb + "'");
        };
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
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer) {
            sb.append(v);
        } else if (v instanceof Number n) {
            sb.append(n.doubleValue());
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
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\u%04x", (int) c));
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
