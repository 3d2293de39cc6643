package dev.ioemu.emulator.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's option-group syntax: {@code [implied,]key=value,key=value}. A literal comma inside a
 * value is written {@code ,,} (so {@code file=a,,b.img} names "a,b.img"). The first element may
 * omit its key when the option has an implied one ({@code -machine pc} = {@code type=pc},
 * {@code -device ide-hd,...} = {@code driver=ide-hd}); a bare key elsewhere means {@code key=on}.
 * Keys keep their order so messages and pass-through maps read like the command line.
 */
public final class QemuOpts {
    private QemuOpts() {
    }

    /**
     * Parses {@code text}.
     *
     * @param option     the option name for messages, e.g. "-drive"
     * @param impliedKey the key of a leading bare value, or null if the option has none
     * @throws UsageException on an empty element, a duplicate key or a missing implied value
     */
    public static Map<String, String> parse(String option, String text, String impliedKey) throws UsageException {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> elements = split(text);
        for (int n = 0; n < elements.size(); n++) {
            String e = elements.get(n);
            if (e.isEmpty()) {
                throw new UsageException(option + " " + text + ": empty parameter (expected: key=value)");
            }
            int eq = e.indexOf('=');
            String key;
            String value;
            if (eq >= 0) {
                key = e.substring(0, eq);
                value = e.substring(eq + 1);
            } else if (n == 0 && impliedKey != null) {
                key = impliedKey;
                value = e;
            } else {
                key = e;
                value = "on";
            }
            if (key.isEmpty()) {
                throw new UsageException(option + " " + text + ": parameter without a name in '" + e + "'");
            }
            if (out.containsKey(key)) {
                throw new UsageException(option + " " + text + ": parameter '" + key + "' given twice");
            }
            out.put(key, value);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Splits on single commas, turning ",," into a literal comma; a trailing comma adds nothing. */
    static List<String> split(String text) {
        List<String> elements = new ArrayList<>();
        if (text.isEmpty()) {
            return elements;
        }
        StringBuilder element = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ',' && i + 1 < text.length() && text.charAt(i + 1) == ',') {
                element.append(',');
                i++;
            } else if (c == ',') {
                elements.add(element.toString());
                element.setLength(0);
            } else {
                element.append(c);
            }
        }
        if (element.length() > 0 || !text.endsWith(",") || text.endsWith(",,")) {
            elements.add(element.toString());
        }
        return elements;
    }

    /** Renders a map back into option syntax, escaping commas. */
    public static String format(Map<String, String> options) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : options.entrySet()) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(e.getKey()).append('=').append(e.getValue().replace(",", ",,"));
        }
        return sb.toString();
    }
}
