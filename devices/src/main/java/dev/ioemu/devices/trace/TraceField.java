package dev.ioemu.devices.trace;

/**
 * One named, typed field of a trace event, as a tool reads it back from a log line: the
 * argument a {@code trace-events} declaration names, e.g. {@code uint32_t val} in QEMU's
 * {@code ide_ioport_read(uint32_t addr, const char *reg, uint32_t val, …)}.
 *
 * @param name  lower_snake_case, unique within its event
 * @param type  how the value is written in the line and what it becomes when read back
 */
public record TraceField(String name, Type type) {
    /** The printf conversions a trace format uses, by what they hold. */
    public enum Type {
        /** {@code %d}, {@code %u}, {@code %i}: a signed decimal integer, read as a {@code Long}. */
        INT,
        /** {@code %x}, {@code %X}: hexadecimal digits (the {@code 0x} is part of the format's text), read as a {@code Long}. */
        HEX,
        /** {@code %s}: text, read as a {@code String}. */
        STRING,
        /** {@code %p}: a host pointer (QEMU's device-state addresses), read as a {@code String}; never compared across runs. */
        POINTER
    }

    @Override
    public String toString() {
        return name + ":" + type.name().toLowerCase();
    }
}
