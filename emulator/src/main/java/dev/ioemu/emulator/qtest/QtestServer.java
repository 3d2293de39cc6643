package dev.ioemu.emulator.qtest;

import dev.ioemu.devices.block.InFlightIo;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.devices.bus.GpioPins;
import dev.ioemu.devices.chardev.ChardevWriter;
import dev.ioemu.emulator.machine.Machine;
import dev.ioemu.emulator.machine.QomDevice;

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
 * the machine's monitor. IRQ listeners run on whichever thread set the pin (machine thread or a
 * block I/O thread) and only queue their line; one {@link ChardevWriter} thread per connection
 * writes replies and IRQ lines in the order they were queued (under {@code outputLock}), so a
 * slow client never blocks a device or an I/O thread. The serving thread waits for each reply
 * to be written before it reads the next request, as QEMU does.
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
    private ChardevWriter writer;                          // guarded by outputLock; null when closed
    private final int[] irqLevels = new int[MAX_IRQ];   // last level reported, guarded by outputLock
    /** The thread executing a line, or null; guarded by outputLock. */
    private Thread executing;
    /** IRQ lines raised by other threads while a line executes, sent after its reply; guarded by outputLock. */
    private final java.util.List<String> deferredIrqLines = new java.util.ArrayList<>();
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
            byte[] line = new byte[65536];   // the current line; grows up to maxLine
            int length = 0;
            boolean overlong = false;        // discarding the rest of a line longer than maxLine
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                int start = 0;
                int newline;
                while ((newline = ByteSearch.indexOf(buf, start, n, (byte) '\n')) >= 0) {
                    if (overlong) {
                        log.received("(line longer than " + maxLine + " bytes)");
                        send("FAIL line too long (expected: at most " + maxLine + " bytes)");
                        overlong = false;
                    } else {
                        line = append(line, length, buf, start, newline - start);
                        length += newline - start;
                        handle(line, length);
                    }
                    length = 0;
                    if (line.length > (1 << 20)) {
                        line = new byte[65536];   // do not keep a huge write's buffer for small requests
                    }
                    start = newline + 1;
                }
                if (!overlong && (long) length + (n - start) > maxLine) {
                    // A client that never sends a newline must not exhaust the heap.
                    overlong = true;
                    line = new byte[65536];
                    length = 0;
                }
                if (!overlong) {
                    line = append(line, length, buf, start, n - start);
                    length += n - start;
                }
            }
        } catch (IOException e) {
            // A reset connection ends the session like EOF does.
        } finally {
            synchronized (outputLock) {
                if (writer != null) {
                    writer.close();   // what was queued still goes out
                    writer = null;
                }
            }
            log.closed();
        }
    }

    /** Appends {@code src[off..off+len)} after {@code length} bytes of {@code line}, growing it. */
    private static byte[] append(byte[] line, int length, byte[] src, int off, int len) {
        byte[] out = line;
        if (length + len > out.length) {
            out = java.util.Arrays.copyOf(line, Math.max(2 * out.length, length + len));
        }
        System.arraycopy(src, off, out, length, len);
        return out;
    }

    /** The chardev "opened" event: replies go to {@code output}; reported IRQ levels are forgotten. */
    void open(OutputStream output) {
        synchronized (outputLock) {
            if (writer != null) {
                writer.close();
            }
            writer = new ChardevWriter(output, "qtest-writer");
            java.util.Arrays.fill(irqLevels, 0);
        }
        log.opened();
    }

    /**
     * Processes one request line (without its newline) and sends the reply. Replies are Strings,
     * or for bulk data byte arrays that already end with the newline.
     */
    public void handle(String line) {
        byte[] bytes = line.getBytes(StandardCharsets.ISO_8859_1);
        handle(bytes, bytes.length);
    }

    private void handle(byte[] line, int length) {
        // The determinism rule (QTEST.md "Deterministic replies"): block requests the previous
        // lines started finish, and their completions run, before this line executes.
        InFlightIo.awaitSettled();
        if (log.enabled() || TraceEvent.QTEST_COMMAND.enabled) {
            String text = new String(line, 0, length, StandardCharsets.ISO_8859_1);
            log.received(text);
            if (TraceEvent.QTEST_COMMAND.enabled) {
                Trace.emit(TraceEvent.QTEST_COMMAND, text);
            }
        }
        synchronized (outputLock) {
            executing = Thread.currentThread();
        }
        Object reply;
        try {
            synchronized (machine) {
                reply = execute(new QtestWords(line, length));
            }
        } catch (QtestFailure f) {
            reply = "FAIL " + f.getMessage();
        } catch (RuntimeException e) {
            // A device bug must not take the process down; the client sees what happened.
            org.slf4j.LoggerFactory.getLogger(QtestServer.class).error("qtest request '{}' failed",
                    new String(line, 0, Math.min(length, 200), StandardCharsets.ISO_8859_1), e);
            reply = "FAIL internal error: " + e;
        }
        byte[] bytes = reply instanceof byte[] b ? b : (reply + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ChardevWriter.Ticket written;
        synchronized (outputLock) {
            written = queue(bytes);
            executing = null;
            for (String irq : deferredIrqLines) {
                post(irq);
            }
            deferredIrqLines.clear();
        }
        // Wait for the reply outside the lock: an IRQ listener never waits for a slow client.
        if (written != null) {
            written.await();
        }
    }

    /** Sends one line to the client and the log; dropped if no client is connected. */
    void send(String text) {
        send((text + "\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Sends one line given as bytes ending with its newline, so a reply is one write (one wake-up
     * of the client), e.g. a 175 KB b64read reply.
     */
    private void send(byte[] line) {
        ChardevWriter.Ticket written;
        synchronized (outputLock) {
            written = queue(line);
        }
        if (written != null) {
            written.await();
        }
    }

    /** Logs and queues one line; null if no client is connected (a client that went away drops it). */
    private ChardevWriter.Ticket queue(byte[] line) {
        assert Thread.holdsLock(outputLock);
        if (log.enabled()) {
            log.sent(new String(line, 0, line.length - 1, StandardCharsets.ISO_8859_1));
        }
        return writer == null ? null : writer.post(line);
    }

    /** Queues a line (an IRQ notification) behind everything sent so far; never blocks. */
    private void post(String text) {
        assert Thread.holdsLock(outputLock);
        if (log.enabled()) {
            log.sent(text);
        }
        if (writer != null) {
            writer.post((text + "\n").getBytes(StandardCharsets.ISO_8859_1));
        }
    }

    /**
     * The machine's drain inside a line (clock_step, clock_set): the completions it waited for are
     * part of this line, so their IRQ lines go out now, before the reply.
     */
    private void drainAndReportIrqs() {
        machine.drain();
        synchronized (outputLock) {
            for (String irq : deferredIrqLines) {
                post(irq);
            }
            deferredIrqLines.clear();
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
                String line = "IRQ " + (level != 0 ? "raise " : "lower ") + pin;
                if (executing != null && executing != Thread.currentThread()) {
                    // A completion on an I/O thread while a line executes: QEMU runs it after the
                    // line's reply, so its IRQ line follows that reply (QTEST.md "Deterministic replies").
                    deferredIrqLines.add(line);
                } else {
                    post(line);
                }
            }
        }
    }

    private Object execute(QtestWords w) throws QtestFailure {
        String cmd = w.word(0);
        if (w.count() == 1 && cmd.isEmpty()) {
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

    private static String arg(QtestWords w, int i, String name) throws QtestFailure {
        need(w, i, name);
        return w.word(i);
    }

    private static void need(QtestWords w, int i, String name) throws QtestFailure {
        if (i >= w.count()) {
            throw new QtestFailure(w.word(0) + ": missing argument " + name);
        }
    }

    private static int port(QtestWords w) throws QtestFailure {
        long port = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        if (Long.compareUnsigned(port, 0xffff) > 0) {
            throw new QtestFailure(w.word(0) + ": port " + w.word(1) + " out of range (expected: 0 to 0xffff)");
        }
        return (int) port;
    }

    private String out(QtestWords w, int size) throws QtestFailure {
        int port = port(w);
        long value = QtestNumbers.u64(arg(w, 2, "VALUE"), "VALUE");
        machine.ioBus().write(port, size, (int) value);
        return "OK";
    }

    private String in(QtestWords w, int size) throws QtestFailure {
        int port = port(w);
        int value = machine.ioBus().read(port, size);
        return "OK 0x" + QtestNumbers.hex(Integer.toUnsignedLong(value), 4);
    }

    private String writeN(QtestWords w, int size) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        long value = QtestNumbers.u64(arg(w, 2, "VALUE"), "VALUE");
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        machine.addressSpace().write(addr, b, 0, size);
        return "OK";
    }

    private String readN(QtestWords w, int size) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (b[i] & 0xffL) << (8 * i);
        }
        return "OK 0x" + QtestNumbers.hex(value, 16);
    }

    private static int transferSize(QtestWords w, int i, boolean zeroAllowed) throws QtestFailure {
        long size = QtestNumbers.u64(arg(w, i, "SIZE"), "SIZE");
        if (size == 0 && !zeroAllowed) {
            throw new QtestFailure(w.word(0) + ": SIZE must be > 0");
        }
        if (Long.compareUnsigned(size, MAX_TRANSFER) > 0) {
            throw new QtestFailure(w.word(0) + ": SIZE " + w.word(i) + " too large (expected: at most " + MAX_TRANSFER + ")");
        }
        return (int) size;
    }

    private byte[] read(QtestWords w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, false);
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        byte[] reply = new byte[5 + 2 * size + 1];
        reply[reply.length - 1] = '\n';
        reply[0] = 'O';
        reply[1] = 'K';
        reply[2] = ' ';
        reply[3] = '0';
        reply[4] = 'x';
        for (int i = 0; i < size; i++) {
            reply[5 + 2 * i] = (byte) HEX[(b[i] >> 4) & 0xf];
            reply[6 + 2 * i] = (byte) HEX[b[i] & 0xf];
        }
        return reply;
    }

    private String write(QtestWords w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        need(w, 3, "DATA");
        int dataLength = w.length(3);
        if (dataLength < 3) {
            return "ERR invalid argument size";
        }
        byte[] line = w.bytes();
        int data = w.start(3);
        byte[] b = new byte[size];
        // QEMU skips the first two characters ("0x") unchecked; a byte needs both of its digits,
        // otherwise it is zero.
        for (int i = 0; i < size && 2 * i + 4 <= dataLength; i++) {
            int hi = Character.digit(line[data + 2 * i + 2], 16);
            int lo = Character.digit(line[data + 2 * i + 3], 16);
            if (hi < 0 || lo < 0) {
                throw new QtestFailure("write: invalid hex digit in DATA at byte " + i);
            }
            b[i] = (byte) (hi << 4 | lo);
        }
        machine.addressSpace().write(addr, b, 0, size);
        return "OK";
    }

    private byte[] b64read(QtestWords w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        byte[] b = new byte[size];
        machine.addressSpace().read(addr, b, 0, size);
        byte[] encoded = Base64.getEncoder().encode(b);
        byte[] reply = new byte[3 + encoded.length + 1];
        reply[reply.length - 1] = '\n';
        reply[0] = 'O';
        reply[1] = 'K';
        reply[2] = ' ';
        System.arraycopy(encoded, 0, reply, 3, encoded.length);
        return reply;
    }

    private String b64write(QtestWords w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        int size = transferSize(w, 2, true);
        need(w, 3, "B64_DATA");
        if (w.length(3) < 3) {
            return "ERR invalid argument size";
        }
        byte[] decoded = decodeBase64(w.bytes(), w.start(3), w.length(3));
        if (decoded.length != size && log.enabled()) {
            log.sent("b64write: data length mismatch (told " + size + ", found " + decoded.length + ")");
        }
        // QEMU master writes min(decoded, SIZE); 7.2 writes SIZE bytes, some past the decoded data.
        machine.addressSpace().write(addr, decoded, 0, Math.min(decoded.length, size));
        return "OK";
    }

    /**
     * Strict base64 first (the common case, and fast); GLib's decoder skips characters outside
     * the alphabet, which the MIME decoder does too, so that is the fallback.
     */
    private static byte[] decodeBase64(byte[] line, int start, int length) throws QtestFailure {
        java.nio.ByteBuffer src = java.nio.ByteBuffer.wrap(line, start, length);
        try {
            return toArray(Base64.getDecoder().decode(src));
        } catch (IllegalArgumentException strict) {
            try {
                return toArray(Base64.getMimeDecoder().decode(java.nio.ByteBuffer.wrap(line, start, length)));
            } catch (IllegalArgumentException e) {
                throw new QtestFailure("b64write: invalid base64 data (" + e.getMessage() + ")");
            }
        }
    }

    private static byte[] toArray(java.nio.ByteBuffer b) {
        if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.remaining() == b.array().length) {
            return b.array();
        }
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private String memset(QtestWords w) throws QtestFailure {
        long addr = QtestNumbers.u64(arg(w, 1, "ADDR"), "ADDR");
        long size = QtestNumbers.u64(arg(w, 2, "SIZE"), "SIZE");
        long value = QtestNumbers.u64(arg(w, 3, "VALUE"), "VALUE");
        if (Long.compareUnsigned(size, MAX_MEMSET) > 0) {
            throw new QtestFailure("memset: SIZE " + w.word(2) + " too large (expected: at most " + MAX_MEMSET + ")");
        }
        machine.addressSpace().fill(addr, size, (byte) value);
        return "OK";
    }

    private String intercept(QtestWords w, boolean inputs) throws QtestFailure {
        String path = arg(w, 1, "QOM-PATH");
        QomDevice dev = machine.resolve(path);
        if (dev == null) {
            return "FAIL Unknown device";
        }
        if (inputs && w.count() > 2) {
            return "FAIL Interception of named in-GPIOs not yet supported";
        }
        if (intercepted != null) {
            return intercepted == dev ? "OK" : "FAIL IRQ intercept already enabled";
        }
        intercepted = dev;
        GpioPins pins = inputs ? dev.inputs() : dev.outputs();
        pins.addListener(this::pinSet);
        return "OK";
    }

    private String setIrqIn(QtestWords w) throws QtestFailure {
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

    private String clockStep(QtestWords w) throws QtestFailure {
        // Completions of block I/O running on host threads become visible first, so the reply
        // (and the IRQ lines before it) do not depend on host timing.
        drainAndReportIrqs();
        long now;
        if (w.count() > 1) {
            long ns = QtestNumbers.i64(w.word(1), "NS");
            long target = machine.clock().nanos() + ns;
            now = machine.clock().advanceTo(target);
        } else {
            long deadline = machine.clock().nextDeadline();
            now = deadline < 0 ? machine.clock().nanos() : machine.clock().advanceTo(deadline);
        }
        drainAndReportIrqs();
        return "OK " + now;
    }

    private String clockSet(QtestWords w) throws QtestFailure {
        long ns = QtestNumbers.i64(arg(w, 1, "NS"), "NS");
        drainAndReportIrqs();
        long now = machine.clock().advanceTo(ns);
        drainAndReportIrqs();
        return "OK " + now;
    }

}
