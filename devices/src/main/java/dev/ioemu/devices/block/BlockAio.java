package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * QEMU's {@code aio=threads} for one image: requests run in submission order on a dedicated I/O
 * thread, so a long fdatasync never blocks the thread that runs the guest (the Xen 2008
 * bug-check 0x101 lesson, block.md §0.2), and completions arrive on that I/O thread.
 *
 * <p>One thread per drive keeps a drive's requests ordered (PIIX IDE issues one command per
 * channel at a time); queue depth above 1 is a later backend behind the same interface.
 */
public final class BlockAio implements AutoCloseable {
    private final BlockDevice device;
    private final ExecutorService worker;
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Borrows {@code device}; closing this does not close the device. */
    public BlockAio(BlockDevice device, String threadName) {
        this.device = device;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    public BlockDevice device() {
        return device;
    }

    /** Requests submitted and not yet completed. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Reads into {@code dst} (borrowed until {@code done} runs). */
    public void read(long offset, ByteBuffer dst, BlockCompletion done) {
        submit(() -> device.read(offset, dst), done);
    }

    /** Writes {@code src} (borrowed until {@code done} runs). */
    public void write(long offset, ByteBuffer src, BlockCompletion done) {
        submit(() -> device.write(offset, src), done);
    }

    public void flush(BlockCompletion done) {
        submit(device::flush, done);
    }

    public void discard(long offset, long length, BlockCompletion done) {
        submit(() -> device.discard(offset, length), done);
    }

    private interface Op {
        int run();
    }

    private void submit(Op op, BlockCompletion done) {
        inFlight.incrementAndGet();
        InFlightIo.submitted();
        try {
            worker.execute(() -> run(op, done));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            inFlight.decrementAndGet();
            InFlightIo.completed();
            throw new IllegalStateException("block request after close: " + device.name(), e);
        }
    }

    private void run(Op op, BlockCompletion done) {
        int result;
        InFlightIo.beginRequest();
        try {
            result = op.run();
        } catch (RuntimeException e) {
            // A backend bug must still complete the request, or the guest hangs on BSY.
            result = -Errno.EIO;
            org.slf4j.LoggerFactory.getLogger(BlockAio.class)
                    .error("{}: internal error in block request", device.name(), e);
        } finally {
            InFlightIo.endRequest();
        }
        inFlight.decrementAndGet();
        try {
            done.complete(result);
        } finally {
            InFlightIo.completed();
        }
    }

    /** Waits until every request submitted so far has completed (QEMU's drain). */
    public void drain() {
        var barrier = new java.util.concurrent.CountDownLatch(1);
        worker.execute(barrier::countDown);
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Drains, then stops the I/O thread. */
    @Override
    public void close() {
        worker.shutdown();
        try {
            worker.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
