package dev.ioemu.devices.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A trace event's printf format read as data: its literal text and its conversions, each a
 * {@link TraceField} with a name and a type, so that a tool can turn the fields part of a log line
 * back into typed values without guessing (QEMU docs/devel/tracing.rst: "format strings").
 *
 * <p>Field names come from the text before each conversion, the way the formats are written:
 * {@code bus %d}, {@code val 0x%02x}, {@code sector=%d}, {@code val: 0x%08x} name {@code bus},
 * {@code val}, {@code sector}, {@code val}; a {@code (%s)} right after a named field is that field's
 * description ({@code cmd 0x%02x (%s)} gives {@code cmd} and {@code cmd_name}). A format whose
 * conversions are not all named that way must be given explicit names.
 */
public final class TraceFormat {
    /** A printf conversion: flags, width, length modifiers, conversion letter (or a literal %%). */
    private static final Pattern CONVERSION = Pattern.compile("%([-#+ 0]*\\d*(?:\\.\\d+)?(?:hh|h|ll|l|z|j|t)?)([diuxXsp%c])");
    private static final Pattern NAME_BEFORE = Pattern.compile("(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)\\s*[=:]?\\s*(?:0x)?$");

    private final String format;
    private final List<TraceField> fields;
    /** Literal text around the fields: {@code literals.size() == fields.size() + 1}. */
    private final List<String> literals;
    private final Pattern linePattern;

    private TraceFormat(String format, List<TraceField> fields, List<String> literals) {
        this.format = format;
        this.fields = List.copyOf(fields);
        this.literals = List.copyOf(literals);
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < fields.size(); i++) {
            re.append(Pattern.quote(literals.get(i)));
            boolean last = i == fields.size() - 1 && literals.get(i + 1).isEmpty();
            re.append(switch (fields.get(i).type()) {
                case INT -> "(-?\\d+)";
                case HEX -> "(-?[0-9a-fA-F]+)";
                case POINTER -> "((?:0x)?[0-9a-fA-F]+|\\(nil\\))";
                case STRING -> last ? "(.*)" : "(.*?)";
            });
        }
        re.append(Pattern.quote(literals.get(fields.size())));
        this.linePattern = Pattern.compile(re.toString());
    }

    /**
     * Reads {@code format} naming each field from the text before it.
     *
     * @throws IllegalArgumentException naming the conversion that has no name, or a repeated name
     */
    public static TraceFormat parse(String format) {
        return parse(format, null);
    }

    /**
     * Reads {@code format}; {@code names}, if not null, gives every field's name in order,
     * space-separated (for formats like {@code "IDE PIO rd @ 0x%x (%s); …"} whose text does not
     * name them).
     *
     * @throws IllegalArgumentException for an unnamed or repeated field, or a name count that does
     *         not match the conversions
     */
    public static TraceFormat parse(String format, String names) {
        List<TraceField> fields = new ArrayList<>();
        List<String> literals = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        String[] given = names == null ? null : names.isBlank() ? new String[0] : names.strip().split("\\s+");
        Matcher m = CONVERSION.matcher(format);
        int at = 0;
        while (m.find()) {
            literal.append(format, at, m.start());
            at = m.end();
            char conv = m.group(2).charAt(0);
            if (conv == '%') {
                literal.append('%');
                continue;
            }
            TraceField.Type type = switch (conv) {
                case 'd', 'i', 'u', 'c' -> TraceField.Type.INT;
                case 'x', 'X' -> TraceField.Type.HEX;
                case 'p' -> TraceField.Type.POINTER;
                default -> TraceField.Type.STRING;
            };
            String name;
            if (given != null) {
                if (fields.size() >= given.length) {
                    throw new IllegalArgumentException("trace format \"" + format + "\": " + given.length
                            + " names given for more fields (expected: one name per conversion)");
                }
                name = given[fields.size()];
            } else {
                name = nameBefore(literal.toString(), fields, type);
                if (name == null) {
                    throw new IllegalArgumentException("trace format \"" + format + "\": conversion "
                            + (fields.size() + 1) + " (" + m.group() + ") has no name before it"
                            + " (expected: \"name %d\", \"name=%d\" or explicit field names)");
                }
            }
            for (TraceField f : fields) {
                if (f.name().equals(name)) {
                    throw new IllegalArgumentException("trace format \"" + format + "\": field name '" + name
                            + "' used twice (expected: explicit field names)");
                }
            }
            if (!name.matches("[a-z_][a-z0-9_]*")) {
                throw new IllegalArgumentException("trace format \"" + format + "\": field name '" + name
                        + "' (expected: lower_snake_case)");
            }
            fields.add(new TraceField(name, type));
            literals.add(literal.toString());
            literal.setLength(0);
        }
        literal.append(format.substring(at));
        literals.add(literal.toString());
        if (given != null && given.length != fields.size()) {
            throw new IllegalArgumentException("trace format \"" + format + "\": " + given.length + " names for "
                    + fields.size() + " fields (expected: one name per conversion)");
        }
        return new TraceFormat(format, fields, literals);
    }

    private static String nameBefore(String text, List<TraceField> fields, TraceField.Type type) {
        if (type == TraceField.Type.STRING && !fields.isEmpty() && text.strip().equals("(")) {
            return fields.get(fields.size() - 1).name() + "_name";
        }
        Matcher n = NAME_BEFORE.matcher(text);
        return n.find() ? n.group(1).toLowerCase() : null;
    }

    /** The printf format this was read from. */
    public String format() {
        return format;
    }

    /** The fields, in the order the format writes them (and the call site passes them). */
    public List<TraceField> fields() {
        return fields;
    }

    /** The index of the field named {@code name}, or -1. */
    public int indexOf(String name) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Reads the fields part of a log line (the text after {@code "event_name "}) back into values:
     * {@code Long} for {@link TraceField.Type#INT} and {@link TraceField.Type#HEX}, {@code String}
     * otherwise.
     *
     * @return the values in field order, or null if the text is not in this format
     */
    public Object[] read(String text) {
        Matcher m = linePattern.matcher(text);
        if (!m.matches()) {
            return null;
        }
        Object[] values = new Object[fields.size()];
        for (int i = 0; i < values.length; i++) {
            String v = m.group(i + 1);
            try {
                values[i] = switch (fields.get(i).type()) {
                    case INT -> Long.parseLong(v);
                    case HEX -> v.startsWith("-") ? -Long.parseUnsignedLong(v.substring(1), 16)
                            : Long.parseUnsignedLong(v, 16);
                    case STRING, POINTER -> v;
                };
            } catch (NumberFormatException e) {
                return null;   // more digits than a long holds: not a line this format wrote
            }
        }
        return values;
    }

    /** The literal text before field {@code i} (or, for {@code i == fields().size()}, after the last). */
    String literalBefore(int i) {
        return literals.get(i);
    }

    @Override
    public String toString() {
        return format + " " + fields;
    }
}
