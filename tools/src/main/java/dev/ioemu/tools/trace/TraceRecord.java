package dev.ioemu.tools.trace;

import dev.ioemu.devices.trace.TraceField;
import dev.ioemu.devices.trace.TraceFormat;

/**
 * One event read from a log line, its fields typed by the catalogue that wrote it (ioemu's
 * {@code TraceEvent} or QEMU's formats).
 *
 * @param micros  the line's timestamp in microseconds since the epoch, or {@link #NO_TIME} for a
 *                QEMU line written without {@code -msg timestamp=on}
 * @param event   the event name
 * @param text    the fields part of the line as written
 * @param format  the format the fields were read with, or null for an event neither catalogue has
 * @param values  the typed values ({@code Long} or {@code String}) in field order, or null
 * @param qemu    true if the fields are in QEMU's format rather than ioemu's
 * @param line    the line number in its file (1-based)
 */
record TraceRecord(long micros, String event, String text, TraceFormat format, Object[] values, boolean qemu,
                   long line) {
    static final long NO_TIME = Long.MIN_VALUE;

    boolean has(String field) {
        return format != null && format.indexOf(field) >= 0;
    }

    /** The numeric field {@code field}, or {@code otherwise} if the event has no such number. */
    long num(String field, long otherwise) {
        int i = format == null ? -1 : format.indexOf(field);
        return i >= 0 && values[i] instanceof Long l ? l : otherwise;
    }

    /** The field {@code field} as text, or null. */
    String str(String field) {
        int i = format == null ? -1 : format.indexOf(field);
        return i < 0 ? null : values[i] instanceof String s ? s : String.valueOf(values[i]);
    }

    /** The field's type, or null if the event has no such field. */
    TraceField.Type type(String field) {
        int i = format == null ? -1 : format.indexOf(field);
        return i < 0 ? null : format.fields().get(i).type();
    }

    /**
     * The drive an event is about, as a person names it: {@code ide0.1} (bus and unit), {@code ide0}
     * (a bus-wide event), the image file's name for block-layer events, {@code int13 80h} for a
     * BIOS disk number; null if the event names no drive.
     */
    String drive() {
        String image = str("image");
        if (image != null) {
            int slash = image.lastIndexOf('/');
            return slash >= 0 ? image.substring(slash + 1) : image;
        }
        if (type("bus") == TraceField.Type.INT) {
            return "ide" + num("bus", 0) + (has("unit") ? "." + num("unit", 0) : "");
        }
        if (has("dl")) {
            return String.format("int13 %02xh", num("dl", 0));
        }
        if (qemu && event.startsWith("ide_")) {
            return "ide";
        }
        return null;
    }
}
