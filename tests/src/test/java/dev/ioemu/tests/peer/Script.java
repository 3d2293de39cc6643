package dev.ioemu.tests.peer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A sequence of steps plus what produced it (generator and seed), for reports and reproduction. */
public final class Script {
    private final String origin;
    private final List<Step> steps = new ArrayList<>();

    public Script(String origin) {
        this.origin = origin;
    }

    public String origin() {
        return origin;
    }

    public Script add(Step step) {
        steps.add(step);
        return this;
    }

    public List<Step> steps() {
        return Collections.unmodifiableList(steps);
    }

    public int size() {
        return steps.size();
    }
}
