package dev.ioemu.devices.block.rbd;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * librbd's asynchronous completions, turned into waits the block layer's synchronous calls can
 * make (shared/spec/nbd.md §4.3): a caller takes a {@link Slot}, creates an
 * {@code rbd_completion_t} whose callback argument is the slot's index, submits, and parks until
 * the callback has stored the result. Several callers wait at once, so a bench or a device with
 * many I/O threads keeps that many requests in flight in librbd.
 *
 * <p>Nothing is allocated per request: the slots (with the 8 bytes of native memory each
 * {@code rbd_aio_create_completion} writes its handle into) are made once, the free list is an
 * array queue, and the one callback object is held in a static field for the life of the
 * process, so the garbage collector can never free what librbd calls. The callback runs on
 * librbd's finisher threads, which JNA keeps attached as daemon threads (attaching per call costs
 * more than the I/O); it only reads the result, releases the completion and unparks the waiter,
 * as QEMU's {@code qemu_rbd_completion_cb} only records the result. An asynchronous request
 * ({@link Slot#createCompletion(java.util.function.LongConsumer)}) has no waiter: the callback
 * frees the slot and runs the request's continuation on the librbd thread.
 */
final class RbdCompletions {
    /** In-flight requests across all images; a caller beyond this waits for a free slot. */
    static final int SLOTS = 256;

    private static final Slot[] SLOT_TABLE = new Slot[SLOTS];
    private static final ArrayBlockingQueue<Slot> FREE = new ArrayBlockingQueue<>(SLOTS);
    /** Strong reference: librbd keeps the function pointer for every completion ever created. */
    private static final Librbd.rbd_callback_t CALLBACK = RbdCompletions::completed;

    static {
        for (int i = 0; i < SLOTS; i++) {
            SLOT_TABLE[i] = new Slot(i);
            FREE.add(SLOT_TABLE[i]);
        }
        Native.setCallbackThreadInitializer(CALLBACK,
                new CallbackThreadInitializer(true, false, "rbd-completion"));
    }

    private RbdCompletions() {
    }

    /** One request's rendezvous between the submitting thread and librbd's callback. */
    static final class Slot {
        private final int index;
        /** Where rbd_aio_create_completion stores the rbd_completion_t. */
        private final Memory completionOut = new Memory(Long.BYTES);
        private volatile Thread waiter;
        /** An asynchronous request's continuation, run by the callback instead of waking a waiter. */
        private volatile java.util.function.LongConsumer continuation;
        private volatile boolean done;
        private volatile long result;

        private Slot(int index) {
            this.index = index;
        }

        /**
         * Creates the completion for one request; returns its handle, or a negative errno (then
         * nothing was created and nothing will call back).
         */
        long createCompletion() {
            done = false;
            continuation = null;
            waiter = Thread.currentThread();
            int r = Librbd.rbd_aio_create_completion(index, CALLBACK, com.sun.jna.Pointer.nativeValue(completionOut));
            return r < 0 ? r : completionOut.getLong(0);
        }

        /**
         * Creates the completion of an asynchronous request: librbd's callback frees this slot and
         * then runs {@code then} with bytes or -errno, on a librbd thread. Returns the handle, or a
         * negative errno (nothing created, {@code then} never runs).
         */
        long createCompletion(java.util.function.LongConsumer then) {
            done = false;
            waiter = null;
            continuation = then;
            int r = Librbd.rbd_aio_create_completion(index, CALLBACK, com.sun.jna.Pointer.nativeValue(completionOut));
            if (r < 0) {
                continuation = null;
            }
            return r < 0 ? r : completionOut.getLong(0);
        }

        /**
         * For a submission librbd refused (negative return): no callback will come, so the
         * completion is released here.
         */
        void abandon(long completion) {
            Librbd.rbd_aio_release(completion);
        }

        /** Waits, uninterruptibly, for the callback; returns bytes or -errno. */
        long await() {
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return result;
        }
    }

    /** Takes a free slot, waiting while all are in use. */
    static Slot acquire() {
        Slot s = FREE.poll();
        if (s != null) {
            return s;
        }
        boolean interrupted = false;
        while (true) {
            try {
                s = FREE.take();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return s;
    }

    /** A free slot, or null when all are in use (an asynchronous caller must not wait). */
    static Slot tryAcquire() {
        return FREE.poll();
    }

    /** Gives the slot back once its request has completed (or was never submitted). */
    static void release(Slot s) {
        s.waiter = null;
        s.continuation = null;
        FREE.add(s);
    }

    /** {@code rbd_callback_t}, on a librbd thread. */
    private static void completed(long completion, long arg) {
        long r = Librbd.rbd_aio_get_return_value(completion);
        Librbd.rbd_aio_release(completion);
        if (arg < 0 || arg >= SLOTS) {
            // Cannot happen: only createCompletion passes an argument. Never touch memory for it.
            return;
        }
        Slot s = SLOT_TABLE[(int) arg];
        java.util.function.LongConsumer then = s.continuation;
        if (then != null) {
            // Asynchronous: the slot is free before the continuation runs, which may submit again.
            release(s);
            then.accept(r);
            return;
        }
        s.result = r;
        s.done = true;
        Thread w = s.waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }
}
