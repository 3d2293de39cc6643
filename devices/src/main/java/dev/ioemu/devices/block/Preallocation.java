package dev.ioemu.devices.block;

import java.util.Locale;

/**
 * How a raw image grows when created (qemu-img's {@code -o preallocation=}, shared/spec/block.md
 * §9): {@code off} leaves a hole, {@code falloc} reserves the blocks with fallocate,
 * {@code full} writes zeros and syncs.
 */
public enum Preallocation {
    OFF, FALLOC, FULL;

    /** The option spelling: "off", "falloc", "full". */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException "preallocation: 'value' (expected: off, falloc, full)"
     */
    public static Preallocation parse(String value) {
        for (Preallocation p : values()) {
            if (p.optionName().equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException("preallocation: '" + value + "' (expected: off, falloc, full)");
    }
}
