package dev.ioemu.devices.chardev;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * The one thread that writes to a character device's output: producers {@link #post} byte
 * arrays without ever blocking (a device raising an IRQ under its lock, a block I/O completion),
 * and the writer sends them in the order they were posted. A producer that wants back-pressure
 * (a front end's reply to the request it just served) waits with {@link Ticket#await()}.
 *
 * <p>A slow or stalled peer therefore stalls only this thread and the producers that chose to
 * wait; a failed write ends the writer: later data is dropped and waiters are released.
 */
public final class ChardevWriter implements AutoCloseable {
    /** Completion of one posted write. */
    public static final class Ticket {
        private boolean done;

        private synchronized void finish() {
            done = true;
            notifyAll();
        }

        /** Waits until the data was written or dropped (writer closed or failed). */
        public synchronized void await() {
            boolean interrupted = false;
            while (!done) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private record Item(byte[] data, Ticket ticket) {
    }

    private static final Ticket DONE = new Ticket();

    static {
        DONE.finish();
    }

    private final OutputStream out;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();   // guarded by this
    private boolean closing;                                      // guarded by this
    private boolean failed;                                       // guarded by this
    private final Thread thread;

    /** Starts the writer thread (a daemon named {@code name}) for {@code out}. */
    public ChardevWriter(OutputStream out, String name) {
        this.out = out;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues {@code data} (the caller gives up the array) behind everything posted before. Never
     * blocks. After {@link #close} or a failed write the data is dropped.
     */
    public synchronized Ticket post(byte[] data) {
        if (closing || failed) {
            return DONE;
        }
        Ticket t = new Ticket();
        queue.addLast(new Item(data, t));
        notifyAll();
        return t;
    }

    /** False once a write failed (the peer went away) or the writer was closed. */
    public synchronized boolean isOpen() {
        return !closing && !failed;
    }

    /** Number of posted items not yet written (for tests and diagnostics). */
    public synchronized int pending() {
        return queue.size();
    }

    private void run() {
        while (true) {
            Item item;
            synchronized (this) {
                while (queue.isEmpty() && !closing) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        closing = true;
                    }
                }
                if (queue.isEmpty() || failed) {
                    releaseAll();
                    return;
                }
                item = queue.peekFirst();
            }
            try {
                out.write(item.data());
                boolean more;
                synchronized (this) {
                    more = queue.size() > 1;
                }
                if (!more) {
                    // Flush only when nothing else is ready: one wake-up of the peer per burst.
                    // Never under the lock: post() must not wait for the peer.
                    out.flush();
                }
            } catch (IOException e) {
                synchronized (this) {
                    failed = true;
                }
            }
            synchronized (this) {
                queue.pollFirst();
                item.ticket().finish();
                if (failed) {
                    releaseAll();
                    return;
                }
            }
        }
    }

    private void releaseAll() {
        assert Thread.holdsLock(this);
        for (Item i : queue) {
            i.ticket().finish();
        }
        queue.clear();
    }

    /**
     * Stops accepting data; what was posted before is still written, then the thread ends. Does
     * not wait and does not close the stream (its owner does).
     */
    @Override
    public synchronized void close() {
        closing = true;
        notifyAll();
    }

    /** Waits up to {@code millis} for the writer thread to end after {@link #close}. */
    public void join(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
