package dev.ioemu.emulator.qmp;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
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
        Json j = Json.over(new StringReader("{\"a\": 1}{\"b\": 2}\r\n  [3]"));
        assertEquals(Map.of("a", 1L), j.read());
        assertEquals(Map.of("b", 2L), j.read());
        assertEquals(List.of(3L), j.read());
        assertSame(Json.END, j.read());
    }

    @Test
    void malformedInputThrowsAndTheStreamRecovers() throws Exception {
        Json j = Json.over(new StringReader("foo bar\n{\"ok\": true}\n"));
        assertThrows(Json.ParseException.class, j::read);
        assertEquals(Map.of("ok", true), j.read());
    }

    @Test
    void unknownWordIsAnInvalidKeywordAsInQemu() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("foo"));
        assertEquals("invalid keyword 'foo'", e.getMessage());
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
}
