package dev.ioemu.tools.trace;

import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * {@code ioemu-trace timeline}: the events, filtered by drive, event pattern and a time window
 * relative to the first event, one per line with the time since the first event.
 */
final class TraceTimeline implements Consumer<TraceRecord> {
    private final TraceTool.Options options;
    private final PrintStream out;
    private long first = TraceRecord.NO_TIME;

    TraceTimeline(TraceTool.Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    @Override
    public void accept(TraceRecord r) {
        if (first == TraceRecord.NO_TIME) {
            first = r.micros();
        }
        boolean timed = r.micros() != TraceRecord.NO_TIME && first != TraceRecord.NO_TIME;
        long rel = timed ? r.micros() - first : 0;
        if (timed && (rel < options.fromMicros || rel > options.toMicros)) {
            return;
        }
        if (!options.events.isEmpty() && options.events.stream().noneMatch(p -> TraceTool.glob(p, r.event()))) {
            return;
        }
        String drive = r.drive();
        if (options.drive != null && !TraceTool.glob(options.drive, drive)) {
            return;
        }
        out.printf("%s  %-24s %-12s %s%n", timed ? String.format("%+14.6f s", rel / 1e6) : "             ?  ", r.event(),
                drive == null ? "-" : drive, r.text());
    }
}
