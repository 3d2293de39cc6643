package dev.ioemu.emulator.qtest;

/**
 * A request the server refuses: the reply is {@code FAIL <message>}. Where QEMU asserts and
 * aborts (malformed numbers, missing arguments, port > 0xffff), ioemu answers this instead;
 * see emulator/QTEST.md for every such divergence.
 */
final class QtestFailure extends Exception {
    QtestFailure(String message) {
        super(message, null, false, false);
    }
}
