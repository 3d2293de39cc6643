package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link BlockDevice} decorator that fails or pauses chosen requests, for tests of the layers
 * above — QEMU's blkdebug {@code inject-error} rules (docs/system/qemu-block-drivers,
 * shared/spec/block.md §14 "flush error path"). Injected failures are counted in the inner
 * device's {@link BlockStats} and traced as {@code blk_inject_error}.
 *
 * <p>Drive options, rule index {@code N} from 0 (names follow blkdebug where it has them):
 * <ul>
 *   <li>{@code inject-error.N.iotype=read|write|flush|discard|write-zeroes} — which requests;
 *       default: every type</li>
 *   <li>{@code inject-error.N.errno=EIO|5} — the error returned, as -errno; default EIO</li>
 *   <li>{@code inject-error.N.sector=S} — only requests touching 512-byte sector S (never a
 *       flush); default: any offset</li>
 *   <li>{@code inject-error.N.sectors=K} — ioemu: with {@code sector}, the range is S..S+K-1;
 *       default 1</li>
 *   <li>{@code inject-error.N.once=on|off} — fail only the first matching request; default off
 *       (fail every one). A failed flush is latched by a buffered image like a failed
 *       fdatasync, so later flushes fail too</li>
 *   <li>{@code inject-error.N.after=M} — ioemu: let the first M matching requests through;
 *       default 0</li>
 * </ul>
 * Example: {@code inject-error.0.iotype=flush,inject-error.0.errno=5,inject-error.0.once=on}.
 *
 * <p>Pauses are programmatic: {@link #pauseBefore} makes the next request of a type block
 * until the test releases it ("hold the flush").
 *
 * <p>Thread safety: any thread, as the inner device.
 */
public final class FaultInjection extends ForwardingBlockDevice {
    /** Prefix of the drive option keys this class reads. */
    public static final String OPTION_PREFIX = "inject-error.";

    /** Request types a rule can select (blkdebug's {@code iotype}). */
    public enum IoType {
        READ("read", BlockStats.Kind.READ),
        WRITE("write", BlockStats.Kind.WRITE),
        FLUSH("flush", BlockStats.Kind.FLUSH),
        DISCARD("discard", BlockStats.Kind.DISCARD),
        WRITE_ZEROES("write-zeroes", BlockStats.Kind.WRITE_ZEROES);

        public final String optionName;
        final BlockStats.Kind kind;

        IoType(String optionName, BlockStats.Kind kind) {
            this.optionName = optionName;
            this.kind = kind;
        }

        public static IoType parse(String value) {
            for (IoType t : values()) {
                if (t.optionName.equals(value)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("iotype: '" + value
                    + "' (expected: read, write, flush, discard, write-zeroes)");
        }
    }

    /**
     * One injection rule.
     *
     * @param iotype  the request type, or null for every type
     * @param errno   positive errno to return (negated)
     * @param sector  first 512-byte sector a request must touch, or -1 for any offset
     * @param sectors number of sectors from {@code sector}
     * @param once    fail only the first matching request (after {@code after} passed)
     * @param after   matching requests to let through first
     */
    public record Rule(IoType iotype, int errno, long sector, long sectors, boolean once, long after) {
        public Rule {
            if (errno <= 0) {
                throw new IllegalArgumentException("errno: " + errno + " (expected: a positive errno, e.g. 5 or EIO)");
            }
            if (sector < -1 || sectors < 1 || after < 0) {
                throw new IllegalArgumentException("sector/sectors/after: " + sector + "/" + sectors + "/" + after
                        + " (expected: sector ≥ 0 or -1, sectors ≥ 1, after ≥ 0)");
            }
        }

        /** Fail every request of {@code type} with {@code errno}. */
        public static Rule always(IoType type, int errno) {
            return new Rule(type, errno, -1, 1, false, 0);
        }

        /** Fail the first request of {@code type} after {@code after} have passed, once. */
        public static Rule once(IoType type, int errno, long after) {
            return new Rule(type, errno, -1, 1, true, after);
        }

        static Rule fromOptions(int index, Map<String, String> keys) {
            String prefix = OPTION_PREFIX + index + ".";
            for (String key : keys.keySet()) {
                if (!List.of("iotype", "errno", "sector", "sectors", "once", "after").contains(key)) {
                    throw new IllegalArgumentException("drive option: '" + prefix + key
                            + "' (expected: iotype, errno, sector, sectors, once, after)");
                }
            }
            IoType type = keys.containsKey("iotype") ? IoType.parse(keys.get("iotype")) : null;
            int errno = Errno.EIO;
            if (keys.containsKey("errno")) {
                errno = Errno.parse(keys.get("errno"));
                if (errno <= 0) {
                    throw new IllegalArgumentException(prefix + "errno: '" + keys.get("errno")
                            + "' (expected: a number or a name such as EIO, ENOSPC)");
                }
            }
            long sector = keys.containsKey("sector") ? DriveOptions.parseLong(prefix + "sector", keys.get("sector")) : -1;
            long sectors = keys.containsKey("sectors")
                    ? DriveOptions.parseLong(prefix + "sectors", keys.get("sectors")) : 1;
            boolean once = DriveOptions.parseBool(prefix + "once", keys.getOrDefault("once", "off"));
            long after = keys.containsKey("after") ? DriveOptions.parseLong(prefix + "after", keys.get("after")) : 0;
            return new Rule(type, errno, sector, sectors, once, after);
        }

        boolean selects(IoType type, long offset, long length) {
            if (iotype != null && iotype != type) {
                return false;
            }
            if (sector < 0) {
                return true;
            }
            if (type == IoType.FLUSH) {
                return false;
            }
            long start = sector * 512;
            long end = start + sectors * 512;
            long reqEnd = offset + Math.max(length, 1);
            return offset < end && start < reqEnd;
        }
    }

    /** A held request: the test waits for {@link #awaitReached} and lets it go with {@link #release}. */
    public static final class Pause {
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        /** True once the request arrived and is blocked (false on timeout). */
        public boolean awaitReached(long timeout, TimeUnit unit) throws InterruptedException {
            return reached.await(timeout, unit);
        }

        public void release() {
            released.countDown();
        }

        void hold() {
            InFlightIo.parked();
            reached.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    released.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            InFlightIo.unparked();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final class RuleState {
        final Rule rule;
        final AtomicLong matched = new AtomicLong();
        final AtomicBoolean fired = new AtomicBoolean();

        RuleState(Rule rule) {
            this.rule = rule;
        }
    }

    private final List<RuleState> rules = new ArrayList<>();
    private final Map<IoType, Pause> pauses = new ConcurrentHashMap<>();
    private final AtomicLong injected = new AtomicLong();

    /** Takes ownership of {@code inner}: closing this closes it. */
    public FaultInjection(BlockDevice inner, List<Rule> rules) {
        super(inner);
        for (Rule r : rules) {
            this.rules.add(new RuleState(r));
        }
    }

    /** Errors injected so far. */
    public long injectedErrors() {
        return injected.get();
    }

    /** Makes the next request of {@code type} block until the returned pause is released. */
    public Pause pauseBefore(IoType type) {
        Pause p = new Pause();
        if (pauses.putIfAbsent(type, p) != null) {
            throw new IllegalStateException("pause: a " + type.optionName + " pause is already armed");
        }
        return p;
    }

    /** 0 to run the request, or the injected -errno. */
    private int intercept(IoType type, long offset, long length) {
        Pause p = pauses.remove(type);
        if (p != null) {
            if (TraceEvent.BLK_INJECT_PAUSE.enabled) {
                Trace.emit(TraceEvent.BLK_INJECT_PAUSE, inner.name(), type.optionName, offset);
            }
            p.hold();
        }
        for (RuleState s : rules) {
            if (!s.rule.selects(type, offset, length)) {
                continue;
            }
            if (s.matched.incrementAndGet() <= s.rule.after()) {
                continue;
            }
            if (s.rule.once() && !s.fired.compareAndSet(false, true)) {
                continue;
            }
            injected.incrementAndGet();
            inner.stats().record(type.kind, length, -s.rule.errno(), 0);
            if (TraceEvent.BLK_INJECT_ERROR.enabled) {
                Trace.emit(TraceEvent.BLK_INJECT_ERROR, inner.name(), type.optionName, offset, s.rule.errno());
            }
            return -s.rule.errno();
        }
        return 0;
    }

    @Override
    public int read(long offset, ByteBuffer dst) {
        int r = intercept(IoType.READ, offset, dst.remaining());
        return r < 0 ? r : inner.read(offset, dst);
    }

    @Override
    public int write(long offset, ByteBuffer src) {
        int r = intercept(IoType.WRITE, offset, src.remaining());
        return r < 0 ? r : inner.write(offset, src);
    }

    @Override
    public int flush() {
        int r = intercept(IoType.FLUSH, 0, 0);
        if (r < 0) {
            // An injected flush error stands for a failed fdatasync: the image latches it as it
            // would a real one (block.md §5.3), so a later flush cannot report data durable that
            // the failed one may have lost — even when the rule fires only once.
            inner.flushFailedAbove(-r);
            return r;
        }
        return inner.flush();
    }

    @Override
    public int discard(long offset, long length) {
        int r = intercept(IoType.DISCARD, offset, length);
        return r < 0 ? r : inner.discard(offset, length);
    }

    @Override
    public int writeZeroes(long offset, long length) {
        int r = intercept(IoType.WRITE_ZEROES, offset, length);
        return r < 0 ? r : inner.writeZeroes(offset, length);
    }
}
