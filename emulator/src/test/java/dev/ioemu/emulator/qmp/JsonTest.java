package dev.ioemu.emulator.qmp;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {
    @Test
    void parsesEveryKind() throws Exception {
        Object v = Json.parse("{\"a\": [1, -2, 3.5, true, false, null], \"s\": \"x\\\"\\n\\u00e9\", \"o\": {}}");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals(List.of(1L, -2L, 3.5, true, false), a.subList(0, 5));
        assertNull(a.get(5));
        assertEquals("x\"\né", m.get("s"));
        assertEquals(Map.of(), m.get("o"));
    }

    @Test
    void writesQemuSpacing() {
        assertEquals("{\"return\": {}}", Json.write(Json.object("return", Map.of())));
        assertEquals("{\"a\": [1, \"b\"], \"c\": false, \"d\": null}",
                Json.write(Json.object("a", List.of(1L, "b"), "c", false, "d", null)));
        assertEquals("\"q\\\"\\\\\\n\\u0001\"", Json.write("q\"\\\n\u0001"));
    }

    @Test
    void readsConsecutiveValuesFromAStream() throws Exception {
        Json j = over("{\"a\": 1}{\"b\": 2}\r\n  [3]");
        assertEquals(Map.of("a", 1L), j.read());
        assertEquals(Map.of("b", 2L), j.read());
        assertEquals(List.of(3L), j.read());
        assertSame(Json.END, j.read());
    }

    @Test
    void malformedInputThrowsAndTheStreamRecovers() throws Exception {
        Json j = over("foo bar\n{\"ok\": true}\n");
        assertEquals("JSON parse error, invalid keyword 'foo'", assertThrows(Json.ParseException.class, j::read).getMessage());
        assertEquals("JSON parse error, invalid keyword 'bar'", assertThrows(Json.ParseException.class, j::read).getMessage());
        assertEquals(Map.of("ok", true), j.read());
    }

    @Test
    void unknownWordIsAnInvalidKeywordAsInQemu() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("foo"));
        assertEquals("JSON parse error, invalid keyword 'foo'", e.getMessage());
    }

    @Test
    void rejectsHostileNesting() {
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertThrows(Json.ParseException.class, () -> Json.parse(deep));
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"{", "{\"a\" 1}", "[1,]", "\"abc", "01x", "{\"a\": tru}", "1 2"}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    private static Json over(String text) {
        return Json.over(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    /** Every line's replies, in order: a value's JSON, or "error: " and QEMU's description. */
    private static List<String> readAll(String bytes) throws Exception {
        Json j = over(bytes);
        List<String> out = new java.util.ArrayList<>();
        while (true) {
            try {
                Object v = j.read();
                if (v == Json.END) {
                    return out;
                }
                out.add(Json.write(v));
            } catch (Json.ParseException e) {
                out.add("error: " + e.getMessage());
            }
        }
    }

    /** Issue 8 item 3: a lexical error at the end of a line never swallows the next request. */
    @Test
    void lexicalErrorAtEndOfLineLeavesTheNextLineIntact() throws Exception {
        assertEquals(List.of("error: JSON parse error, stray '\"a\n'", "{\"id\": \"b\"}",
                        "error: JSON parse error, stray '\"c\\\n'", "{\"id\": \"d\"}",
                        "error: JSON parse error, stray '\"\\u12\n'", "{\"id\": \"e\"}",
                        "error: JSON parse error, stray ''", "{\"id\": \"f\"}"),
                readAll("{\"id\":\"a\n{\"id\":\"b\"}\n{\"id\":\"c\\\n{\"id\":\"d\"}\n"
                        + "{\"id\":\"\\u12\n{\"id\":\"e\"}\n\u0000{\"id\":\"f\"}\n"));
    }

    /** Replies of QEMU 7.2's parser to the same bytes (recorded from qemu-system-x86_64 -qmp stdio). */
    @Test
    void parseErrorsAreQemusWords() throws Exception {
        assertEquals(List.of(
                        "{\"a\": \"sq\"}",
                        "error: JSON parse error, \\ud800 is not a valid Unicode character",
                        "{\"a\": \"\\uD83D\\uDE00\"}",
                        "error: JSON parse error, invalid UTF-8 sequence in string",
                        "error: JSON parse error, invalid UTF-8 sequence in string",
                        "error: JSON parse error, invalid escape sequence in string",
                        "error: JSON parse error, \\u12g4 is not a valid Unicode character",
                        "error: JSON parse error, expected separator in dict",
                        "error: JSON parse error, expecting value",
                        "error: JSON parse error, stray '01'",
                        "error: JSON parse error, expecting value",
                        "error: JSON parse error, key is not a string in object",
                        "error: JSON parse error, duplicate key",
                        "{\"a\": \"x\\\"y\"}",
                        "{\"a\": 18446744073709551615}",
                        "{\"a\": 1e+20}",
                        "{\"a\": inf}"),
                readAll("{'a':'sq'}\n{\"a\":\"\\ud800\"}\n{\"a\":\"\\ud83d\\ude00\"}\n{\"a\":\"\u00c3(\"}\n"
                        + "{\"a\":\"\u00ed\u00a0\u0080\"}\n{\"a\":\"\\q\"}\n{\"a\":\"\\u12g4\"}\n{\"a\":1 \"b\":2}\n"
                        + "{\"a\":1,}\n{\"a\":01}\n{1:2}\n{\"a\":1,\"a\":2}\n{\"a\":'x\"y'}\n"
                        + "{\"a\":18446744073709551615}\n{\"a\":1e20}\n{\"a\":1e400}\n"));
    }
}
