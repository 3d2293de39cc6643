package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.LockingMode;
import dev.ioemu.devices.host.Errno;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code ioemu-img bench}: qemu-img bench's options, request pattern and output, so the two can
 * be run side by side on one image. {@code -c} requests of {@code -s} bytes, {@code -d} in
 * flight, starting at {@code -o} and advancing by {@code -S} (default: the buffer size), wrapping
 * at the image's end; {@code -w} writes the {@code --pattern} byte; {@code --flush-interval=N}
 * flushes after every N completions, first draining the queue unless {@code --no-drain}.
 *
 * <p>The control loop is qemu-img's {@code bench_cb} state machine over a completion queue
 * ({@link Run}): on a device with its own queue (NBD, RBD) requests are submitted asynchronously
 * and the thread that completes one issues the next; otherwise they run on up to
 * {@link #MAX_WORKERS} threads (QEMU's thread pool has the same bound), each a synchronous
 * block-layer call as {@code aio=threads} makes them. A request that crosses the image's end
 * fails with EIO, as QEMU's does.
 *
 * <p>Deliberate differences: {@code -d 0} is refused (qemu-img 7.2 waits forever), the buffer
 * memory (depth × size in qemu-img; one buffer here, which qemu-img's requests all share too) is
 * bounded, and only {@code -i threads} exists.
 */
final class ImgBench {
    /** The most requests that run at once on host threads, as QEMU's thread pool allows. */
    static final int MAX_WORKERS = 64;
    /** The largest buffer one request may use (qemu-img: INT_MAX; bounded here to keep memory sane). */
    static final int MAX_BUFFER = 1 << 30;

    record Settings(int count, int depth, long offset, int bufferSize, int step, boolean write, int pattern,
                    int flushInterval, boolean drainOnFlush, CacheMode cache, boolean forceShare) {
    }

    private ImgBench() {
    }

    static int run(ImgTool.Arguments a, PrintStream out, PrintStream err) {
        Settings s = settings(a);
        String file = a.positional().get(0);
        DriveOptions options = DriveOptions.of(file).withCache(s.cache()).withReadOnly(!s.write());
        if (s.forceShare()) {
            if (s.write()) {
                throw new IllegalArgumentException("-U: force-share=on can only be used with read-only images");
            }
            options = options.withLocking(LockingMode.OFF);
        }
        BlockDevice dev = ImgTool.open(options, err);
        if (dev == null) {
            return 1;
        }
        try (dev) {
            out.printf(Locale.ROOT, "Sending %d %s requests, %d bytes each, %d in parallel (starting at offset %d, "
                    + "step size %d)%n", s.count(), s.write() ? "write" : "read", s.bufferSize(), s.depth(),
                    s.offset(), s.step());
            if (s.flushInterval() > 0) {
                out.printf(Locale.ROOT, "Sending flush every %d requests%n", s.flushInterval());
            }
            long start = System.nanoTime();
            int failure = new Run(dev, s).complete();
            if (failure < 0) {
                err.println("ioemu-img: Failed request: " + Errno.strerror(failure));
                return 1;
            }
            out.printf(Locale.ROOT, "Run completed in %3.3f seconds.%n", (System.nanoTime() - start) / 1e9);
            return 0;
        }
    }

    static Settings settings(ImgTool.Arguments a) {
        int count = (int) number(a, "-c", 75000, Integer.MAX_VALUE, "a request count");
        int depth = (int) number(a, "-d", 64, Integer.MAX_VALUE, "a queue depth");
        if (depth == 0) {
            throw new IllegalArgumentException("-d: 0 (expected: a queue depth of at least 1)");
        }
        long offset = a.values().containsKey("-o") ? SizeArgument.parse("offset", a.values().get("-o")) : 0;
        int bufferSize = (int) size(a, "-s", 4096, "buffer size");
        if (bufferSize == 0) {
            throw new IllegalArgumentException("-s: 0 (expected: a buffer size of at least 1 byte)");
        }
        int step = (int) size(a, "-S", 0, "step_size");
        int pattern = (int) number(a, "--pattern", 0, 0xff, "a pattern byte");
        int flushInterval = (int) number(a, "--flush-interval", 0, Integer.MAX_VALUE, "a flush interval");
        boolean write = a.has("-w");
        String aio = a.values().getOrDefault("-i", "threads");
        if (a.has("-n") || !aio.equals("threads")) {
            throw new IllegalArgumentException((a.has("-n") ? "-n" : "-i: '" + aio + "'")
                    + " (expected: -i threads; ioemu's block layer runs requests on host threads only)");
        }
        if (!write && flushInterval > 0) {
            throw new IllegalArgumentException("--flush-interval is only available in write tests");
        }
        if (flushInterval > 0 && flushInterval < depth) {
            throw new IllegalArgumentException("Flush interval can't be smaller than depth");
        }
        CacheMode cache = CacheMode.parse(a.values().getOrDefault("-t", "writeback"));
        return new Settings(count, depth, offset, bufferSize, step == 0 ? bufferSize : step, write, pattern,
                flushInterval, !a.has("--no-drain"), cache, a.has("-U"));
    }

    /** qemu_strtoul's forms (decimal, 0x hex, 0 octal) within [0, max]. */
    private static long number(ImgTool.Arguments a, String option, long fallback, long max, String what) {
        String v = a.values().get(option);
        if (v == null) {
            return fallback;
        }
        try {
            long n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16)
                    : v.length() > 1 && v.startsWith("0") ? Long.parseLong(v.substring(1), 8) : Long.parseLong(v);
            if (n < 0 || n > max) {
                throw new NumberFormatException(v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + v + "' (expected: " + what + " from 0 to " + max + ")");
        }
    }

    private static long size(ImgTool.Arguments a, String option, long fallback, String what) {
        String v = a.values().get(option);
        if (v == null) {
            return fallback;
        }
        long n = SizeArgument.parse(what, v);
        if (n > MAX_BUFFER) {
            throw new IllegalArgumentException(what + ": '" + v + "' (expected: at most 1G)");
        }
        return n;
    }

    /**
     * One bench run: qemu-img's {@code bench_cb} state machine. Completions are queued and the
     * machine runs on whichever thread finds it idle (the first completion's thread drains the
     * queue, issuing the requests and flushes each completion allows), so with a device that
     * submits asynchronously ({@link BlockDevice#hasAsyncSubmit()}: NBD, RBD) the thread that
     * receives a reply also sends the next request, as QEMU's event loop does: no thread per
     * request and no hand-off to a control thread. Other devices run each request as a blocking
     * call on up to {@link #MAX_WORKERS} worker threads, QEMU's {@code aio=threads}. Requests are
     * issued outside the machine's lock, so a completion that runs inline only queues itself.
     */
    private static final class Run {
        private static final int FLUSH_DRAINED = 1;
        private static final int FLUSH_UNDRAINED = 2;
        private static final int REQUEST = 0;

        private record Completion(int kind, int result) {
        }

        private final BlockDevice dev;
        private final Settings s;
        private final long imageSize;
        private final ByteBuffer buffer;
        /** Null when the device submits asynchronously. */
        private final ExecutorService workers;
        // Guarded by this:
        private final ArrayDeque<Completion> completions = new ArrayDeque<>();
        private boolean draining;
        private boolean mayRequest = true;
        private int pendingFlush;
        private int remainingRequests;
        private int inFlight;
        private int outstandingFlushes;
        /** Requests and flushes issued and not yet completed. */
        private int outstanding;
        private long nextOffset;
        private boolean inFlush;
        private int failure;
        private boolean finished;

        Run(BlockDevice dev, Settings s) {
            this.dev = dev;
            this.s = s;
            this.imageSize = dev.size();
            ByteBuffer b = ByteBuffer.allocateDirect(s.bufferSize() + 4096).alignedSlice(4096).limit(s.bufferSize());
            for (int i = 0; i < s.bufferSize(); i++) {
                b.put(i, (byte) s.pattern());
            }
            this.buffer = b;
            this.workers = dev.hasAsyncSubmit() ? null : Executors.newFixedThreadPool(Math.min(s.depth(), MAX_WORKERS), r -> {
                Thread t = new Thread(r, "bench-io");
                t.setDaemon(true);
                return t;
            });
            this.remainingRequests = s.count();
            this.nextOffset = imageSize == 0 ? 0 : s.offset() % imageSize;
        }

        /** Runs every request; returns 0 or the first failure's -errno. */
        int complete() {
            synchronized (this) {
                draining = true;
            }
            drain();
            try {
                synchronized (this) {
                    while (!finished) {
                        wait();
                    }
                    return failure;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -Errno.EINTR;
            } finally {
                if (workers != null) {
                    workers.shutdown();
                    try {
                        workers.awaitTermination(1, TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }

        /** A request or flush completed (on any thread). */
        private void completed(int kind, int result) {
            synchronized (this) {
                completions.add(new Completion(kind, result));
                if (draining) {
                    return; // the thread draining the queue takes it
                }
                draining = true;
            }
            drain();
        }

        /** Processes queued completions and issues what they allow, one action at a time, until idle. */
        private void drain() {
            while (true) {
                int kind;
                long offset = 0;
                synchronized (this) {
                    while (true) {
                        if (failure == 0 && pendingFlush != 0) {
                            kind = pendingFlush;
                            pendingFlush = 0;
                            break;
                        }
                        if (failure == 0 && mayRequest && !inFlush && remainingRequests > inFlight && inFlight < s.depth()) {
                            kind = REQUEST;
                            offset = nextOffset;
                            inFlight++;
                            nextOffset = imageSize == 0 ? 0 : (nextOffset + s.step()) % imageSize;
                            break;
                        }
                        Completion c = completions.poll();
                        if (c == null) {
                            draining = false;
                            if (outstanding == 0 && (failure != 0 || remainingRequests == 0 && outstandingFlushes == 0)) {
                                finished = true;
                                notifyAll();
                            }
                            return;
                        }
                        mayRequest = !process(c);
                    }
                    outstanding++;
                }
                issue(kind, offset);
            }
        }

        /** Accounts one completion; true when nothing new may start after it. */
        private boolean process(Completion c) {
            outstanding--;
            if (c.result() < 0 && failure == 0) {
                failure = c.result();
            }
            if (c.kind() == FLUSH_UNDRAINED) {
                outstandingFlushes--;
                return true;
            }
            if (c.kind() == FLUSH_DRAINED) {
                outstandingFlushes--;
                inFlush = false;
                return false;
            }
            return requestCompleted();
        }

        /** Accounts one request; true when a drained flush is pending so nothing new may start. */
        private boolean requestCompleted() {
            int remaining = remainingRequests - inFlight;
            remainingRequests--;
            inFlight--;
            if (s.flushInterval() > 0 && remaining % s.flushInterval() == 0) {
                if (inFlight == 0 || !s.drainOnFlush()) {
                    outstandingFlushes++;
                    if (s.drainOnFlush()) {
                        inFlush = true;
                    }
                    pendingFlush = s.drainOnFlush() ? FLUSH_DRAINED : FLUSH_UNDRAINED;
                }
                return s.drainOnFlush();
            }
            return false;
        }

        private void issue(int kind, long offset) {
            if (kind != REQUEST) {
                if (workers == null) {
                    dev.flushAsync(r -> completed(kind, r));
                } else {
                    workers.execute(() -> completed(kind, dev.flush()));
                }
                return;
            }
            if (offset + s.bufferSize() > imageSize) {
                completed(REQUEST, -Errno.EIO); // as QEMU: a request crossing the end fails
                return;
            }
            ByteBuffer b = buffer.duplicate();
            if (workers != null) {
                workers.execute(() -> completed(REQUEST, s.write() ? dev.write(offset, b) : dev.read(offset, b)));
            } else if (s.write()) {
                dev.writeAsync(offset, b, r -> completed(REQUEST, r));
            } else {
                dev.readAsync(offset, b, r -> completed(REQUEST, r));
            }
        }
    }
}
