package dev.ioemu.tests.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of the INT 13h probe's output (tests/guest/int13probe.asm): the call's name, then
 * {@code KEY=VALUE} fields (EAX … EBP, dSP, DS, ES, FL, 40:74, 40:75, buf, dpte, sum, dap).
 * Lines without registers (the banner, "END") have only a name.
 */
record ProbeLine(String name, Map<String, String> fields, String text) {
    private static final String FIRST_FIELD = " EAX=";

    static ProbeLine parse(String text) {
        int at = text.indexOf(FIRST_FIELD);
        if (at < 0) {
            return new ProbeLine(text, Map.of(), text);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String token : text.substring(at + 1).split(" ")) {
            int eq = token.indexOf('=');
            if (eq > 0) {
                fields.put(token.substring(0, eq), token.substring(eq + 1));
            }
        }
        return new ProbeLine(text.substring(0, at), fields, text);
    }

    static List<ProbeLine> read(Path debugcon) throws IOException {
        List<ProbeLine> lines = new ArrayList<>();
        for (String l : Files.readAllLines(debugcon, StandardCharsets.ISO_8859_1)) {
            lines.add(parse(l));
        }
        return lines;
    }

    String field(String key) {
        String v = fields.get(key);
        if (v == null) {
            throw new AssertionError("probe line has no " + key + ": " + text);
        }
        return v;
    }

    /** Bytes {@code from} (inclusive) to {@code to} (exclusive) of the hex "buf" field. */
    String bufBytes(int from, int to) {
        return field("buf").substring(2 * from, 2 * to);
    }

    boolean carry() {
        return (Integer.parseInt(field("FL"), 16) & 1) != 0;
    }
}
