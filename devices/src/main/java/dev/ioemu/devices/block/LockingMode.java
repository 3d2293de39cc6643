package dev.ioemu.devices.block;

/**
 * {@code locking=} (QEMU's file.locking, shared/spec/block.md §7.1): {@code auto} locks when OFD
 * locks work, {@code on} always locks (POSIX locks with a warning when OFD locks are missing),
 * {@code off} never locks.
 */
public enum LockingMode {
    AUTO, ON, OFF;

    public static LockingMode parse(String value) {
        return switch (value) {
            case "auto" -> AUTO;
            case "on", "true" -> ON;
            case "off", "false" -> OFF;
            default -> throw new IllegalArgumentException("locking: '" + value + "' (expected: auto, on, off)");
        };
    }
}
