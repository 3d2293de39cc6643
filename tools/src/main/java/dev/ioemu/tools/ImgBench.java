package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.LockingMode;
import dev.ioemu.devices.host.Errno;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code ioemu-img bench}: qemu-img bench's options, request pattern and output, so the two can
 * be run side by side on one image. {@code -c} requests of {@code -s} bytes, {@code -d} in
 * flight, starting at {@code -o} and advancing by {@code -S} (default: the buffer size), wrapping
 * at the image's end; {@code -w} writes the {@code --pattern} byte; {@code --flush-interval=N}
 * flushes after every N completions, first draining the queue unless {@code --no-drain}.
 *
 * <p>The control loop is qemu-img's {@code bench_cb} state machine, run on one thread over a
 * completion queue; the requests themselves run on up to {@link #MAX_WORKERS} threads (QEMU's
 * thread pool has the same bound), each a synchronous block-layer call as {@code aio=threads}
 * makes them. A request that crosses the image's end fails with EIO, as QEMU's does.
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

    /** One bench run: qemu-img's bench_cb state machine over a queue of completions. */
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
        private final ExecutorService workers;
        private final LinkedBlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
        private int remainingRequests;
        private int inFlight;
        private int outstandingFlushes;
        private long nextOffset;
        private boolean inFlush;

        Run(BlockDevice dev, Settings s) {
            this.dev = dev;
            this.s = s;
            this.imageSize = dev.size();
            ByteBuffer b = ByteBuffer.allocateDirect(s.bufferSize() + 4096).alignedSlice(4096).limit(s.bufferSize());
            for (int i = 0; i < s.bufferSize(); i++) {
                b.put(i, (byte) s.pattern());
            }
            this.buffer = b;
            this.workers = Executors.newFixedThreadPool(Math.min(s.depth(), MAX_WORKERS), r -> {
                Thread t = new Thread(r, "bench-io");
                t.setDaemon(true);
                return t;
            });
            this.remainingRequests = s.count();
            this.nextOffset = imageSize == 0 ? 0 : s.offset() % imageSize;
        }

        /** Runs every request; returns 0 or the first failure's -errno. */
        int complete() {
            try {
                submitMore();
                while (remainingRequests > 0) {
                    Completion c = completions.take();
                    if (c.result() < 0) {
                        return c.result();
                    }
                    if (c.kind() == FLUSH_UNDRAINED) {
                        outstandingFlushes--;
                        continue;
                    }
                    if (c.kind() == FLUSH_DRAINED) {
                        outstandingFlushes--;
                        inFlush = false;
                    } else if (requestCompleted()) {
                        continue;
                    }
                    submitMore();
                }
                // A flush issued by the last completion may still be running: its error counts too.
                while (outstandingFlushes > 0) {
                    Completion c = completions.take();
                    outstandingFlushes--;
                    if (c.result() < 0) {
                        return c.result();
                    }
                }
                return 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -Errno.EINTR;
            } finally {
                workers.shutdown();
                try {
                    workers.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
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
                    submit(s.drainOnFlush() ? FLUSH_DRAINED : FLUSH_UNDRAINED, dev::flush);
                }
                return s.drainOnFlush();
            }
            return false;
        }

        private void submitMore() {
            while (!inFlush && remainingRequests > inFlight && inFlight < s.depth()) {
                long offset = nextOffset;
                inFlight++;
                nextOffset = imageSize == 0 ? 0 : (nextOffset + s.step()) % imageSize;
                submit(REQUEST, () -> request(offset));
            }
        }

        private int request(long offset) {
            if (offset + s.bufferSize() > imageSize) {
                return -Errno.EIO;
            }
            ByteBuffer b = buffer.duplicate();
            return s.write() ? dev.write(offset, b) : dev.read(offset, b);
        }

        private void submit(int kind, java.util.function.IntSupplier op) {
            workers.execute(() -> completions.add(new Completion(kind, op.getAsInt())));
        }
    }
}
