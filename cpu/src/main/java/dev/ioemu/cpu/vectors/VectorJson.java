package dev.ioemu.cpu.vectors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON reader for the test-vector files (RFC 8259 subset: objects, arrays, strings
 * without escapes beyond the simple ones, integers, true/false/null). Values are
 * {@code Map<String,Object>}, {@code List<Object>}, {@code String}, {@code Long}, {@code Double},
 * {@code Boolean} and {@code null}.
 */
final class VectorJson {
    private final byte[] in;
    private int pos;

    private VectorJson(byte[] in) {
        this.in = in;
    }

    /** Parses one document; malformed input gives an {@link IllegalArgumentException} naming the offset. */
    static Object parse(byte[] text) {
        VectorJson j = new VectorJson(text);
        Object v = j.value(0);
        j.skipWhitespace();
        if (j.pos != j.in.length) {
            throw j.error("trailing characters");
        }
        return v;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("JSON: " + what + " at byte " + pos);
    }

    private void skipWhitespace() {
        while (pos < in.length) {
            byte b = in[pos];
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return;
            }
            pos++;
        }
    }

    private Object value(int depth) {
        if (depth > 64) {
            throw error("nesting too deep");
        }
        skipWhitespace();
        if (pos >= in.length) {
            throw error("unexpected end");
        }
        byte b = in[pos];
        switch (b) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                return number();
        }
    }

    private void literal(String word) {
        for (int i = 0; i < word.length(); i++) {
            if (pos >= in.length || in[pos] != word.charAt(i)) {
                throw error("expected " + word);
            }
            pos++;
        }
    }

    private Map<String, Object> object(int depth) {
        pos++;
        Map<String, Object> map = new HashMap<>();
        skipWhitespace();
        if (pos < in.length && in[pos] == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (pos >= in.length || in[pos] != '"') {
                throw error("expected a key");
            }
            String key = string();
            skipWhitespace();
            if (pos >= in.length || in[pos] != ':') {
                throw error("expected ':'");
            }
            pos++;
            map.put(key, value(depth + 1));
            skipWhitespace();
            if (pos >= in.length) {
                throw error("unexpected end");
            }
            if (in[pos] == ',') {
                pos++;
            } else if (in[pos] == '}') {
                pos++;
                return map;
            } else {
                throw error("expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) {
        pos++;
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (pos < in.length && in[pos] == ']') {
            pos++;
            return list;
        }
        while (true) {
            list.add(value(depth + 1));
            skipWhitespace();
            if (pos >= in.length) {
                throw error("unexpected end");
            }
            if (in[pos] == ',') {
                pos++;
            } else if (in[pos] == ']') {
                pos++;
                return list;
            } else {
                throw error("expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= in.length) {
                throw error("unterminated string");
            }
            byte b = in[pos++];
            if (b == '"') {
                return sb.toString();
            }
            if (b == '\\') {
                if (pos >= in.length) {
                    throw error("unterminated escape");
                }
                byte e = in[pos++];
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        if (pos + 4 > in.length) {
                            throw error("short \\u escape");
                        }
                        sb.append((char) Integer.parseInt(new String(in, pos, 4, java.nio.charset.StandardCharsets.US_ASCII), 16));
                        pos += 4;
                    }
                    default -> sb.append((char) e);
                }
            } else {
                sb.append((char) (b & 0xFF));
            }
        }
    }

    private Object number() {
        int start = pos;
        boolean integer = true;
        while (pos < in.length) {
            byte b = in[pos];
            if (b == '-' || (b >= '0' && b <= '9')) {
                pos++;
            } else if (b == '.' || b == 'e' || b == 'E' || b == '+') {
                integer = false;
                pos++;
            } else {
                break;
            }
        }
        if (start == pos) {
            throw error("unexpected character '" + (char) in[pos] + "'");
        }
        String s = new String(in, start, pos - start, java.nio.charset.StandardCharsets.US_ASCII);
        try {
            return integer ? (Object) Long.parseLong(s) : (Object) Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw error("bad number " + s);
        }
    }
}
