package dev.ioemu.tools;

import java.io.PrintStream;
import java.util.Locale;

/**
 * qemu-img's {@code -p} progress line: {@code "    (NN.NN/100%)\r"} at 0, whenever the figure has
 * moved by at least {@code minSkip} points since the last line, at 100 as the work ends, and a
 * newline when done (util/qemu-progress.c's simple printer). Off, it prints nothing.
 */
final class Progress {
    private final boolean enabled;
    private final double minSkip;
    private final PrintStream out;
    private double lastPrinted = -1;

    Progress(boolean enabled, double minSkip, PrintStream out) {
        this.enabled = enabled;
        this.minSkip = minSkip;
        this.out = out;
        print(0);
    }

    /** {@code done} of {@code total} units are finished. */
    void at(long done, long total) {
        if (!enabled) {
            return;
        }
        double current = total <= 0 ? 100 : Math.min(100, 100.0 * done / total);
        if (current >= lastPrinted + minSkip || current <= lastPrinted - minSkip || current == 100) {
            print(current);
        }
    }

    /** The work is finished: one more 100 % line, as convert prints it before its newline. */
    void finish() {
        print(100);
    }

    /** The newline that ends the progress line (compare prints its verdict before it). */
    void end() {
        if (enabled) {
            out.print("\n");
            out.flush();
        }
    }

    private void print(double current) {
        if (enabled) {
            lastPrinted = current;
            out.printf(Locale.ROOT, "    (%3.2f/100%%)\r", current);
            out.flush();
        }
    }
}
