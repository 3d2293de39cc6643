package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * QEMU's blkdebug driver (block/blkdebug.c, QEMU 7.2) as a {@link BlockDevice} decorator: the
 * filename protocol {@code blkdebug:[CONFIG]:IMAGE} or {@code driver=blkdebug}. Requests raise the
 * events QEMU's raw format and generic block code raise on the node below a raw image
 * ({@link BlkDebugEvent#raised}); rules from the {@link BlkDebugConfig} react to them:
 * <ul>
 *   <li>inject-error: an event in the rule's state makes the rule <em>active</em> (the active
 *       list is replaced by the first inject rule an event fires); the next request of the rule's
 *       type whose range contains its sector fails with -errno ({@code once}: the rule is then
 *       removed);</li>
 *   <li>set-state: the event changes the node's state (initially 1) once all rules ran;</li>
 *   <li>breakpoints ({@link #addBreakpoint}, HMP {@code qemu-io DRIVE "break EVENT TAG"}): the
 *       request that raises the event is suspended until {@link #resume} or
 *       {@link #removeBreakpoint}; the breakpoint is used up.</li>
 * </ul>
 * Events per request: read: {@code read_aio}; write: {@code write_aio}, {@code pwritev}, the
 * request, {@code pwritev_done}; write-zeroes: {@code pwritev_zero}, the request,
 * {@code pwritev_done}; flush, only when something was written since the last successful flush
 * (QEMU's write generation): {@code flush_to_os}, {@code flush_to_disk}, the request.
 *
 * <p>Threads: requests run on the drive's I/O thread; a suspended request blocks that thread and
 * counts as parked for {@link InFlightIo}. The rule state is guarded by {@link #lock}, never held
 * during I/O or while suspended.
 */
public final class BlkDebug extends ForwardingBlockDevice {
    /** Filename protocol prefix. */
    public static final String PROTOCOL = "blkdebug:";

    /** A rule as QEMU keeps it: identity matters (a once-rule removes itself from two lists). */
    private static final class Rule {
        final BlkDebugEvent event;
        final int state;
        final BlkDebugConfig.InjectError inject;   // or null
        final int newState;                        // set-state, or -1
        final String tag;                          // breakpoint, or null

        Rule(BlkDebugEvent event, int state, BlkDebugConfig.InjectError inject, int newState, String tag) {
            this.event = event;
            this.state = state;
            this.inject = inject;
            this.newState = newState;
            this.tag = tag;
        }
    }

    /** A request held at a breakpoint. */
    private static final class Suspended {
        final String tag;
        final BlkDebugEvent event;
        boolean resumed;

        Suspended(String tag, BlkDebugEvent event) {
            this.tag = tag;
            this.event = event;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Per event, newest first (QEMU's QLIST_INSERT_HEAD). Guarded by lock. */
    private final Map<BlkDebugEvent, LinkedList<Rule>> rules = new EnumMap<>(BlkDebugEvent.class);
    /** Inject rules armed by the last event that fired one, newest first. Guarded by lock. */
    private final Deque<Rule> active = new ArrayDeque<>();
    /** Newest first. Guarded by lock. */
    private final LinkedList<Suspended> suspended = new LinkedList<>();
    private int state = 1;
    /** Set once the VM ends ({@link #releaseBreakpoints}): no request is suspended again. Guarded by lock. */
    private boolean breakpointsReleased;
    private long writeGeneration;
    private long flushedGeneration;

    /** Takes ownership of {@code inner}: closing this closes it. */
    public BlkDebug(BlockDevice inner, BlkDebugConfig config) {
        super(inner);
        for (BlkDebugConfig.InjectError r : config.injectErrors()) {
            add(new Rule(r.event(), r.state(), r, -1, null));
        }
        for (BlkDebugConfig.SetState r : config.setStates()) {
            add(new Rule(r.event(), r.state(), null, r.newState(), null));
        }
    }

    private void add(Rule r) {
        rules.computeIfAbsent(r.event, e -> new LinkedList<>()).addFirst(r);
    }

    /** The blkdebug node in a chain of decorators, or null. */
    public static BlkDebug find(BlockDevice device) {
        BlockDevice d = device;
        while (d != null) {
            if (d instanceof BlkDebug b) {
                return b;
            }
            d = d instanceof FaultInjection f ? f.inner() : null;
        }
        return null;
    }

    /** The node's state (QEMU starts at 1). */
    public int state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Arms a breakpoint: the next request raising {@code eventName} is suspended under {@code tag}.
     *
     * @return 0, or -ENOENT for an unknown event name (QEMU's result)
     */
    public int addBreakpoint(String eventName, String tag) {
        BlkDebugEvent event = BlkDebugEvent.byName(eventName);
        if (event == null) {
            return -Errno.ENOENT;
        }
        lock.lock();
        try {
            if (breakpointsReleased) {
                return 0;   // the VM is ending: nothing may be held any more
            }
            add(new Rule(event, 0, null, -1, tag));
            changed.signalAll();
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** Resumes the newest request suspended under {@code tag}; 0 or -ENOENT. */
    public int resume(String tag) {
        lock.lock();
        try {
            return resumeByTag(tag, false);
        } finally {
            lock.unlock();
        }
    }

    /** Removes every breakpoint with {@code tag} and resumes every request suspended under it; 0 or -ENOENT. */
    public int removeBreakpoint(String tag) {
        lock.lock();
        try {
            int result = -Errno.ENOENT;
            for (LinkedList<Rule> list : rules.values()) {
                if (list.removeIf(r -> tag.equals(r.tag))) {
                    result = 0;
                }
            }
            if (resumeByTag(tag, true) == 0) {
                result = 0;
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    private int resumeByTag(String tag, boolean all) {
        assert lock.isHeldByCurrentThread();
        int result = -Errno.ENOENT;
        for (Iterator<Suspended> it = suspended.iterator(); it.hasNext(); ) {
            Suspended s = it.next();
            if (s.tag.equals(tag)) {
                it.remove();
                s.resumed = true;
                result = 0;
                if (!all) {
                    break;
                }
            }
        }
        changed.signalAll();
        return result;
    }

    /** True while a request is suspended under {@code tag}. */
    public boolean isSuspended(String tag) {
        lock.lock();
        try {
            return suspended.stream().anyMatch(s -> s.tag.equals(tag));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until a request is suspended under {@code tag} (qemu-io {@code wait_break}).
     *
     * @return false if no breakpoint with that tag is armed and none is suspended (it could never
     *         be reached), or the time ran out
     */
    public boolean awaitSuspended(String tag, long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            while (suspended.stream().noneMatch(s -> s.tag.equals(tag))) {
                boolean armed = rules.values().stream().flatMap(List::stream).anyMatch(r -> tag.equals(r.tag));
                if (!armed || left <= 0) {
                    return false;
                }
                left = changed.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Raises {@code event}: runs its rules and suspends the caller at each breakpoint it hits. */
    private void raise(BlkDebugEvent event, long offset) {
        List<Suspended> mine = new ArrayList<>();
        lock.lock();
        try {
            LinkedList<Rule> list = rules.get(event);
            if (list == null || list.isEmpty()) {
                return;
            }
            int newState = state;
            boolean injectFired = false;
            for (Rule r : new ArrayList<>(list)) {
                if (r.state != 0 && r.state != state) {
                    continue;
                }
                if (r.inject != null) {
                    if (!injectFired) {
                        active.clear();
                        injectFired = true;
                    }
                    active.addFirst(r);
                } else if (r.tag != null) {
                    list.remove(r);
                    Suspended s = new Suspended(r.tag, event);
                    suspended.addFirst(s);
                    mine.add(s);
                } else {
                    newState = r.newState;
                }
            }
            state = newState;
            if (mine.isEmpty()) {
                return;
            }
            changed.signalAll();
            InFlightIo.parked();
            try {
                for (Suspended s : mine) {
                    if (TraceEvent.BLK_INJECT_PAUSE.enabled) {
                        Trace.emit(TraceEvent.BLK_INJECT_PAUSE, inner.name(), event.qemuName, offset);
                    }
                    while (!s.resumed) {
                        changed.awaitUninterruptibly();
                    }
                }
            } finally {
                InFlightIo.unparked();
            }
        } finally {
            lock.unlock();
        }
    }

    /** 0, or the -errno of the active rule that selects this request (QEMU's rule_check). */
    private int check(FaultInjection.IoType type, long offset, long length) {
        lock.lock();
        try {
            for (Iterator<Rule> it = active.iterator(); it.hasNext(); ) {
                Rule r = it.next();
                BlkDebugConfig.InjectError inj = r.inject;
                long at = inj.sector() < 0 ? -1 : inj.sector() * 512;
                boolean offsetMatches = at < 0 || (length > 0 && at >= offset && at < offset + length);
                if (!offsetMatches || (inj.iotype() != null && inj.iotype() != type)) {
                    continue;
                }
                if (inj.once()) {
                    it.remove();
                    LinkedList<Rule> list = rules.get(r.event);
                    if (list != null) {
                        list.remove(r);
                    }
                }
                inner.stats().record(type.kind, length, -inj.errno(), 0);
                if (TraceEvent.BLK_INJECT_ERROR.enabled) {
                    Trace.emit(TraceEvent.BLK_INJECT_ERROR, inner.name(), type.optionName, offset, inj.errno());
                }
                return -inj.errno();
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    private void wrote() {
        lock.lock();
        try {
            writeGeneration++;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        raise(BlkDebugEvent.READ_AIO, offset);
        int r = check(FaultInjection.IoType.READ, offset, dst.remaining());
        return r < 0 ? r : inner.read(offset, dst);
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        raise(BlkDebugEvent.WRITE_AIO, offset);
        raise(BlkDebugEvent.PWRITEV, offset);
        int r = check(FaultInjection.IoType.WRITE, offset, src.remaining());
        if (r == 0) {
            r = inner.write(offset, src);
        }
        raise(BlkDebugEvent.PWRITEV_DONE, offset);
        wrote();
        return r;
    }

    @Override
    public int writeZeroes(long offset, long length) {
        raise(BlkDebugEvent.PWRITEV_ZERO, offset);
        int r = check(FaultInjection.IoType.WRITE_ZEROES, offset, length);
        if (r == 0) {
            r = inner.writeZeroes(offset, length);
        }
        raise(BlkDebugEvent.PWRITEV_DONE, offset);
        wrote();
        return r;
    }

    @Override
    public int discard(long offset, long length) {
        int r = check(FaultInjection.IoType.DISCARD, offset, length);
        if (r == 0) {
            r = inner.discard(offset, length);
        }
        wrote();
        return r;
    }

    @Override
    public int flush() {
        long generation;
        lock.lock();
        try {
            generation = writeGeneration;
            if (generation == flushedGeneration) {
                return 0;   // QEMU: nothing written since the last successful flush
            }
        } finally {
            lock.unlock();
        }
        raise(BlkDebugEvent.FLUSH_TO_OS, 0);
        raise(BlkDebugEvent.FLUSH_TO_DISK, 0);
        int r = check(FaultInjection.IoType.FLUSH, 0, 0);
        if (r == 0) {
            r = inner.flush();
        }
        if (r == 0) {
            lock.lock();
            try {
                flushedGeneration = Math.max(flushedGeneration, generation);
            } finally {
                lock.unlock();
            }
        }
        return r;
    }

    /**
     * Ends breakpoints for good, as the VM ends: every armed breakpoint is removed, every request
     * suspended at one goes on and completes (its I/O is done, as QEMU's close drains them), and
     * later {@code break} commands arm nothing. Called before the drive is drained at shutdown,
     * so the drain never waits for a request that nobody would resume.
     */
    public void releaseBreakpoints() {
        lock.lock();
        try {
            breakpointsReleased = true;
            for (LinkedList<Rule> list : rules.values()) {
                list.removeIf(r -> r.tag != null);
            }
            for (Suspended s : suspended) {
                s.resumed = true;
            }
            suspended.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Resumes every suspended request ({@link #releaseBreakpoints}), then closes the image. */
    @Override
    public void close() {
        releaseBreakpoints();
        inner.close();
    }
}
