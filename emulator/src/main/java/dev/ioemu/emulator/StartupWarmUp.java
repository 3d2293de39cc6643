package dev.ioemu.emulator;

import dev.ioemu.devices.host.Fcntl;
import dev.ioemu.devices.host.LibC;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Start-up on two cores (README "Start-up"): class initialisation that a start is about to
 * need, run on a second thread while the main thread parses the command line and builds the
 * machine. The work is the same work the
 * main thread would do a few milliseconds later; the JVM's class-initialisation lock makes the
 * main thread wait where it reaches a class this thread is still initialising, so nothing is
 * used half-made and nothing is done twice.
 *
 * What, in the order the main thread first needs it:
 * <ul>
 *   <li>Every VM: JNA binding libc (guest RAM is an anonymous mapping, a drive's lock bytes are
 *       OFD locks; {@code Native}'s class initialisation, the libc binding and the first
 *       {@code Structure} layout are most of it) and slf4j (the IDE controller's and block
 *       layer's loggers).</li>
 *   <li>A VM with a drive: the library the block layer takes direct buffers' addresses through,
 *       used by the first read (the MBR, for the geometry).</li>
 *   <li>A software-CPU run: the CPU's opcode tables (one class per method reference).</li>
 * </ul>
 *
 * <p>A failure here is not reported here: the main thread meets it where it uses the class (as
 * a {@code NoClassDefFoundError} naming it, the JVM keeps a failed initialisation) and fails
 * the start there. Runs on one daemon thread that ends when its list is done.
 */
final class StartupWarmUp {
    /** Initialised for a VM with a drive: the block layer's direct-buffer addresses (AlignedFileIo). */
    static final String DIRECT_BUFFER_ADDRESSES = "io.netty.util.internal.PlatformDependent";
    /** Initialised for a software-CPU run: the opcode map (package-private in the CPU module). */
    static final String OPCODE_TABLE = "dev.ioemu.cpu.OpcodeTable";
    private static final Runnable NO_MORE_WORK = () -> { };

    /** Done in order, the order in which the main thread first needs them. */
    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();

    private StartupWarmUp() {
    }

    /**
     * Starts warming what every VM needs; call first thing, before the command line is parsed,
     * then {@link #finish} once with what the parsed configuration adds.
     */
    static StartupWarmUp start() {
        StartupWarmUp w = new StartupWarmUp();
        w.work.add(StartupWarmUp::bindLibc);
        w.work.add(org.slf4j.LoggerFactory::getILoggerFactory);
        Thread t = new Thread(w::run, "startup-warm-up");
        t.setDaemon(true);
        t.start();
        return w;
    }

    /** Adds what this configuration needs beyond {@link #start}; the thread ends after it. */
    void finish(boolean hasDrive, boolean runsSoftCpu) {
        if (hasDrive) {
            work.add(() -> initialise(DIRECT_BUFFER_ADDRESSES));
        }
        if (runsSoftCpu) {
            work.add(() -> initialise(OPCODE_TABLE));
        }
        work.add(NO_MORE_WORK);
    }

    private void run() {
        try {
            for (Runnable r = work.take(); r != NO_MORE_WORK; r = work.take()) {
                try {
                    r.run();
                } catch (RuntimeException | LinkageError e) {
                    // The main thread meets the same failure where it uses the class, and fails there.
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void bindLibc() {
        LibC.getpagesize();
        new Fcntl.Flock();
    }

    static void initialise(String className) {
        try {
            Class.forName(className, true, StartupWarmUp.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            // Not on this class path (a test's); the main thread never needs it then.
        }
    }
}
