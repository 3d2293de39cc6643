package dev.ioemu.tests.peer;

/**
 * One request of a differential script, sent identically to both peers.
 *
 * @param request the qtest line
 * @param poll    if not null, the request is repeated until its value satisfies the condition
 *                (status polling): only the last reply is compared, since how many tries a peer
 *                needs depends on host timing
 * @param tag     what the request means, for allowed differences and reports (e.g.
 *                "identify:word:27"), or "" if nothing special
 * @param settled whether both peers must be in the same state when it completes: false for a
 *                request that starts asynchronous I/O (its IRQ lines may come later); IRQ levels are
 *                compared only after settled steps
 */
public record Step(String request, Poll poll, String tag, boolean settled) {
    /**
     * Repeat while {@code (value & mask) == value} is not reached ({@code equal}) or until it
     * differs ({@code !equal}), at most {@code maxTries} times.
     */
    public record Poll(long mask, long value, boolean equal, int maxTries) {
        boolean done(long v) {
            return ((v & mask) == value) == equal;
        }
    }

    public static Step send(String request) {
        return new Step(request, null, "", true);
    }

    public static Step send(String request, String tag) {
        return new Step(request, null, tag, true);
    }

    /** A request that starts I/O completing asynchronously. */
    public static Step start(String request) {
        return new Step(request, null, "", false);
    }

    public static Step poll(String request, Poll poll) {
        return new Step(request, poll, "", true);
    }
}
