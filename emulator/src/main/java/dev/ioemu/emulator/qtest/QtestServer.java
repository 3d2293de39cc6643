package dev.ioemu.emulator.qtest;

import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.emulator.chardev.Connection;
import dev.ioemu.emulator.machine.GpioPins;
import dev.ioemu.emulator.machine.Machine;
import dev.ioemu.emulator.machine.QomDevice;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * QEMU's qtest protocol server (shared/spec/qtest.md §2-§4): one request per line, split on
 * single spaces, one reply line each ({@code OK …}, {@code FAIL …}, {@code ERR …}), plus
 * {@code IRQ raise N}/{@code IRQ lower N} lines for intercepted pins whenever their level changes —
 * before the reply of the request that caused the change, or between requests when an I/O
 * completion raises an IRQ.
 *
 * <p>Where QEMU 7.2 aborts on malformed input, this server answers {@code FAIL …} and keeps going
 * (emulator/QTEST.md lists every divergence).
 *
 * <p>Threads: {@link #serve} runs on the machine thread and executes each request while holding
 * the machine's monitor. IRQ observers run on whichever thread set the pin (machine thread or a
 * block I/O thread); all output goes through {@link #send}, which is serialised on
 * {@code outputLock} so IRQ lines and replies never interleave within a line.
 */
public final class QtestServer {
    /** Largest buffer a read/write/b64 request may name; QEMU would g_malloc it or abort. */
    static final long MAX_TRANSFER = 64L << 20;
    /** Largest memset; keeps address arithmetic inside signed longs. */
    static final long MAX_MEMSET = 1L << 32;
    /** Longest request line: a {@code write} of {@link #MAX_TRANSFER} bytes in hex, plus its words. */
    static final int MAX_LINE = (int) (2 * MAX_TRANSFER + 4096);
    /** libqtest's IRQ table size; pins beyond it are never reported by QEMU either. */
    private static final int MAX_IRQ = 256;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final Machine machine;
    private final boolean qtestAccelerator;
    private final QtestLog log;
    private final int maxLine;

    private final Object outputLock = new Object();
    private OutputStream out;                              // guarded by outputLock; null when closed
    private final int[] irqLevels = new int[MAX_IRQ];   // last level reported, guarded by outputLock
    private QomDevice intercepted;                         // machine thread only

    /**
     * @param qtestAccelerator whether {@code -accel qtest} is active: only then do
     *                         {@code clock_step}/{@code clock_set} exist (QEMU's rule)
     */
    public QtestServer(Machine machine, boolean qtestAccelerator, QtestLog log) {
        this(machine, qtestAccelerator, log, MAX_LINE);
    }

    /** As the public constructor, with a smaller line limit for tests. */
    QtestServer(Machine machine, boolean qtestAccelerator, QtestLog log, int maxLine) {
        this.machine = machine;
        this.qtestAccelerator = qtestAccelerator;
        this.log = log;
        this.maxLine = maxLine;
    }

    /**
     * Serves one connection until its input ends. End of input only logs CLOSED: as in QEMU,
     * nothing here ends the process.
     */
    public void serve(Connection connection) throws IOException {
        open(connection.out());
        try {
            InputStream in = connection.in();
            ByteArrayOutputStream line = new ByteArrayOutputStream(128);
            boolean overlong = false;   // discarding the rest of a line longer than MAX_LINE
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        if (overlong) {
                            log.received("(line longer than " + maxLine + " bytes)");
                            send("FAIL line too long (expected: at most " + maxLine + " bytes)");
                            overlong = false;
                        } else {
                            line.write(buf, start, i - start);
                            handle(line.toString(StandardCharsets.ISO_8859_1));
                        }
                        line.reset();
                        start = i + 1;
                    }
                }
                if (!overlong && line.size() + (n - start) > maxLine) {
                    // A client that never sends a newline must not exhaust the heap.
                    overlong = true;
                    line = new ByteArrayOutputStream(128);
                }
                if (!overlong) {
                    line.write(buf, start, n - start);
                }
            }
        } catch (IOException e) {
            // A reset connection ends the session like EOF does.
        } finally {
            synchronized (outputLock) {
                out = null;
            }
            log.closed();
        }
    }

    /** The chardev "opened" event: replies go to {@code output}; reported IRQ levels are forgotten. */
    void open(OutputStream output) {
        synchronized (outputLock) {
            out = output;
            java.util.Arrays.fill(irqLevels, 0);
        }
        log.opened();
    }

    /** Processes one request line (without its newline) and sends the reply. */
    public void handle(String line) {
        log.received(line);
        if (TraceEvent.QTEST_COMMAND.enabled) {
            Trace.emit(TraceEvent.QTEST_COMMAND, line);
        }
        String reply;
        try {
            synchronized (machine) {
                reply = execute(line.split(" ", -1));
            }
        } catch (QtestFailure f) {
            reply = "FAIL " + f.getMessage();
        } catch (RuntimeException e) {
            // A device bug must not take the process down; the client sees what happened.
            org.slf4j.LoggerFactory.getLogger(QtestServer.class).error("qtest request '{}' failed", line, e);
            reply = "FAIL internal error: " + e;
        }
        if (reply != null) {
            send(reply);
        }
    }

    /** Sends one line to the client and the log; dropped if no client is connected. */
    void send(String text) {
        synchronized (outputLock) {
            log.sent(text);
            if (out == null) {
                return;
            }
            try {
                out.write((text + "\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (IOException e) {
                out = null;   // the client went away; serve() sees the end of input next
            }
        }
    }

    /**
     * Observer for intercepted pins: report changes against the last reported level. Levels are
     * compared as ints, as QEMU does, so 1 then 5 reports two raises.
     */
    private void pinSet(int pin, int level) {
        if (pin >= MAX_IRQ) {
            return;
        }
        synchronized (outputLock) {
            if (irqLevels[pin] != level) {
                irqLevels[pin] = level;
                send("IRQ " + (level != 0 ? "raise " : "lower ") + pin);
            }
        }
    }

    private String execute(String[] w) throws QtestFailure {
        String cmd = w[0];
        if (w.length == 1 && cmd.isEmpty()) {
            throw new QtestFailure("empty line (expected: a command)");
        }
        switch (cmd) {
            case "outb": return out(w, 1);
            case "outw": return out(w, 2);
            case "outl": return out(w, 4);
            case "inb": return in(w, 1);
            case "inw": return in(w, 2);
            case "inl": return in(w, 4);
            case "writeb": return writeN(w, 1);
            case "writew": return writeN(w, 2);
            case "writel": return writeN(w, 4);
            case "writeq": return writeN(w, 8);
            case "readb": return readN(w, 1);
            case "readw": return readN(w, 2);
            case "readl": return readN(w, 4);
            case "readq": return readN(w, 8);
            case "read": return read(w);
            case "write": return write(w);
            case "b64read": return b64read(w);
            case "b64write": return b64write(w);
            case "memset": return memset(w);
            case "endianness": return "OK little";
            case "irq_intercept_in": return intercept(w, true);
            case "irq_intercept_out": return intercept(w, false);
            case "set_irq_in": return setIrqIn(w);
            case "module_load":
                arg(w, 2, "NAME");
                return "FAIL";   // no loadable modules in ioemu
            case "clock_step":
                if (qtestAccelerator) {
                    return clockStep(w);
                }
                break;
            case "clock_set":
                if (qtestAccelerator) {
                    return clockSet(w);
                }
                break;
            default:
                break;
        }
        return "FAIL Unknown command '" + cmd + "'";
    }

    private static String arg(String[] w, int i, String name) throws QtestFailure {
        if (i >= w.length) {
            throw new QtestFailure(w[0] + ": missing argument " + name);
        }
        return w[i];
    }

    private static int port(String[] w) throws QtestFailure {
        long port = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        if (Long.compareUnsigned(port, 0xffff) > 0) {
            throw new QtestFailure(w[0] + ": port " + w[1] + " out of range (expected: 0 to 0xffff)");
        }
        return (int) port;
    }

    private String out(String[] w, int size) throws QtestFailure {
        int port = port(w);
        long value = QtestNumbers.u64(arg(w, 2, "VALUE"), "VALUE");
        machine.ioBus().write(port, size, (int) value);
        return "OK";
    }

    private String in(String[] w, int size) throws QtestFailure {
        int port = port(w);
        int value = machine.ioBus().read(port, size);
        return String.format("OK 0x%04x", Integer.toUnsignedLong(value));
    }

    private String writeN(String[] w, int size) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        long value = QtestNumbers.u64(arg(w, 2, "VALUE"), "VALUE");
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        machine.addressSpace().write(addr, b, 0, size);
        return "OK";
    }

    private String readN(String[] w, int size) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (b[i] & 0xffL) << (8 * i);
        }
        return String.format("OK 0x%016x", value);
    }

    private static int transferSize(String[] w, int i, boolean zeroAllowed) throws QtestFailure {
        long size = QtestNumbers.u64(arg(w, i, "SIZE"), "SIZE");
        if (size == 0 && !zeroAllowed) {
            throw new QtestFailure(w[0] + ": SIZE must be > 0");
        }
        if (Long.compareUnsigned(size, MAX_TRANSFER) > 0) {
            throw new QtestFailure(w[0] + ": SIZE " + w[i] + " too large (expected: at most " + MAX_TRANSFER + ")");
        }
        return (int) size;
    }

    private String read(String[] w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, false);
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        char[] reply = new char[5 + 2 * size];
        "OK 0x".getChars(0, 5, reply, 0);
        for (int i = 0; i < size; i++) {
            reply[5 + 2 * i] = HEX[(b[i] >> 4) & 0xf];
            reply[6 + 2 * i] = HEX[b[i] & 0xf];
        }
        return new String(reply);
    }

    private String write(String[] w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        String data = arg(w, 3, "DATA");
        if (data.length() < 3) {
            return "ERR invalid argument size";
        }
        byte[] b = new byte[size];
        // QEMU skips the first two characters ("0x") unchecked; a byte needs both of its digits,
        // otherwise it is zero.
        for (int i = 0; i < size && 2 * i + 4 <= data.length(); i++) {
            int hi = Character.digit(data.charAt(2 * i + 2), 16);
            int lo = Character.digit(data.charAt(2 * i + 3), 16);
            if (hi < 0 || lo < 0) {
                throw new QtestFailure("write: invalid hex digit in DATA at byte " + i);
            }
            b[i] = (byte) (hi << 4 | lo);
        }
        machine.addressSpace().write(addr, b, 0, size);
        return "OK";
    }

    private String b64read(String[] w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        return "OK " + Base64.getEncoder().encodeToString(b);
    }

    private String b64write(String[] w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        String data = arg(w, 3, "B64_DATA");
        if (data.length() < 3) {
            return "ERR invalid argument size";
        }
        byte[] decoded;
        try {
            // GLib's decoder skips characters outside the alphabet; the MIME decoder does too.
            decoded = Base64.getMimeDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw new QtestFailure("b64write: invalid base64 data (" + e.getMessage() + ")");
        }
        if (decoded.length != size) {
            log.sent("b64write: data length mismatch (told " + size + ", found " + decoded.length + ")");
        }
        // QEMU master writes min(decoded, SIZE); 7.2 writes SIZE bytes, some past the decoded data.
        machine.addressSpace().write(addr, decoded, 0, Math.min(decoded.length, size));
        return "OK";
    }

    private String memset(String[] w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        long size = QtestNumbers.u64(arg(w, 2, "SIZE"), "SIZE");
        long value = QtestNumbers.u64(arg(w, 3, "VALUE"), "VALUE");
        if (Long.compareUnsigned(size, MAX_MEMSET) > 0) {
            throw new QtestFailure("memset: SIZE " + w[2] + " too large (expected: at most " + MAX_MEMSET + ")");
        }
        machine.addressSpace().fill(addr, size, (byte) value);
        return "OK";
    }

    private String intercept(String[] w, boolean inputs) throws QtestFailure {
        String path = arg(w, 1, "QOM-PATH");
        QomDevice dev = machine.resolve(path);
        if (dev == null) {
            return "FAIL Unknown device";
        }
        if (inputs && w.length > 2) {
            return "FAIL Interception of named in-GPIOs not yet supported";
        }
        if (intercepted != null) {
            return intercepted == dev ? "OK" : "FAIL IRQ intercept already enabled";
        }
        intercepted = dev;
        GpioPins pins = inputs ? dev.inputs() : dev.outputs();
        pins.observe(this::pinSet);
        return "OK";
    }

    private String setIrqIn(String[] w) throws QtestFailure {
        String path = arg(w, 1, "QOM-PATH");
        String name = arg(w, 2, "NAME");
        int num = QtestNumbers.i32(arg(w, 3, "NUM"), "NUM");
        int level = QtestNumbers.i32(arg(w, 4, "LEVEL"), "LEVEL");
        QomDevice dev = machine.resolve(path);
        if (dev == null) {
            return "FAIL Unknown device";
        }
        if (!name.equals("unnamed-gpio-in")) {
            throw new QtestFailure("set_irq_in: GPIO list '" + name + "' not found (expected: unnamed-gpio-in)");
        }
        if (num < 0 || num >= dev.inputs().count()) {
            throw new QtestFailure("set_irq_in: pin " + num + " out of range (expected: 0 to "
                    + (dev.inputs().count() - 1) + ")");
        }
        dev.inputs().set(num, level);
        return "OK";
    }

    private String clockStep(String[] w) throws QtestFailure {
        // Completions of block I/O running on host threads become visible first, so the reply
        // (and the IRQ lines before it) do not depend on host timing.
        machine.drain();
        long now;
        if (w.length > 1) {
            long ns = QtestNumbers.i64(w[1], "NS");
            long target = machine.clock().now() + ns;
            now = machine.clock().advanceTo(target);
        } else {
            long deadline = machine.clock().nextDeadline();
            now = deadline < 0 ? machine.clock().now() : machine.clock().advanceTo(deadline);
        }
        machine.drain();
        return "OK " + now;
    }

    private String clockSet(String[] w) throws QtestFailure {
        long ns = QtestNumbers.i64(arg(w, 1, "NS"), "NS");
        machine.drain();
        long now = machine.clock().advanceTo(ns);
        machine.drain();
        return "OK " + now;
    }

}
