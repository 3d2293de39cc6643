package dev.ioemu.tools.bench;

/** A benchmark run could not go on: the device or the backend reported an error, or a peer failed. */
final class BenchFailure extends Exception {
    BenchFailure(String message) {
        super(message);
    }

    BenchFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
