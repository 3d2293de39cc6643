package dev.ioemu.devices.block;

/**
 * Completion of an asynchronous block request: {@code result} is bytes transferred (or 0) on
 * success, a negative errno on failure. Runs on the I/O thread; the device re-enters under its
 * own lock.
 */
@FunctionalInterface
public interface BlockCompletion {
    void complete(int result);
}
