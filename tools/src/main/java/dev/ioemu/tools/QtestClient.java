package dev.ioemu.tools;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A qtest client over an emulator's stdin/stdout ({@code -qtest stdio}), the way QEMU's libqtest
 * talks to QEMU (shared/spec/qtest.md §2-§4): one request per line, one reply line, with
 * asynchronous {@code IRQ raise/lower N} lines consumed into a level table.
 */
public final class QtestClient implements Closeable {
    private final Process process;
    private final BufferedReader in;
    private final OutputStream out;
    private final boolean[] irqLevel = new boolean[256];
    private final List<String> irqEvents = new ArrayList<>();
    private Consumer<String> transcript = line -> { };

    private QtestClient(Process process) {
        this.process = process;
        this.in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
        this.out = process.getOutputStream();
    }

    /** Starts {@code command} (which must include {@code -qtest stdio}); its stderr is inherited. */
    public static QtestClient start(List<String> command) throws IOException {
        return start(command, ProcessBuilder.Redirect.INHERIT);
    }

    /** Starts {@code command} (which must include {@code -qtest stdio}) with its stderr sent to {@code stderr}. */
    public static QtestClient start(List<String> command, ProcessBuilder.Redirect stderr) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectError(stderr);
        return new QtestClient(pb.start());
    }

    /** Receives every request ("> …") and reply ("< …") line, for a readable transcript. */
    public void setTranscript(Consumer<String> transcript) {
        this.transcript = transcript;
    }

    /** Sends one request line and returns its reply line ("OK …", "FAIL …" or "ERR …"). */
    public String command(String line) throws IOException {
        transcript.accept("> " + line);
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        while (true) {
            String reply = in.readLine();
            if (reply == null) {
                throw new IOException("emulator closed the qtest stream after: " + line);
            }
            transcript.accept("< " + reply);
            if (reply.startsWith("IRQ raise ") || reply.startsWith("IRQ lower ")) {
                int n = Integer.parseInt(reply.substring(10).trim());
                irqLevel[n & 0xFF] = reply.startsWith("IRQ raise");
                irqEvents.add(reply);
                continue;
            }
            return reply;
        }
    }

    private long okValue(String line) throws IOException {
        String reply = command(line);
        if (!reply.startsWith("OK ")) {
            throw new IOException("'" + line + "' failed: " + reply);
        }
        return Long.decode(reply.substring(3).trim());
    }

    private void ok(String line) throws IOException {
        String reply = command(line);
        if (!reply.startsWith("OK")) {
            throw new IOException("'" + line + "' failed: " + reply);
        }
    }

    public int inb(int port) throws IOException { return (int) okValue(String.format("inb 0x%x", port)); }
    public int inw(int port) throws IOException { return (int) okValue(String.format("inw 0x%x", port)); }
    public int inl(int port) throws IOException { return (int) okValue(String.format("inl 0x%x", port)); }
    public void outb(int port, int v) throws IOException { ok(String.format("outb 0x%x 0x%x", port, v & 0xFF)); }
    public void outw(int port, int v) throws IOException { ok(String.format("outw 0x%x 0x%x", port, v & 0xFFFF)); }
    public void outl(int port, int v) throws IOException { ok(String.format("outl 0x%x 0x%x", port, v)); }
    public void writel(long addr, int v) throws IOException { ok(String.format("writel 0x%x 0x%x", addr, v)); }

    /** Writes guest memory with {@code b64write}. */
    public void memwrite(long addr, byte[] data) throws IOException {
        ok(String.format("b64write 0x%x 0x%x %s", addr, data.length,
                java.util.Base64.getEncoder().encodeToString(data)));
    }

    /** Reads guest memory with {@code b64read}. */
    public byte[] memread(long addr, int size) throws IOException {
        String reply = command(String.format("b64read 0x%x 0x%x", addr, size));
        if (!reply.startsWith("OK ")) {
            throw new IOException("b64read failed: " + reply);
        }
        return java.util.Base64.getDecoder().decode(reply.substring(3).trim());
    }

    /** The last reported level of intercepted IRQ {@code n}, after flushing pending IRQ lines (libqtest's inb 0x0 trick). */
    public boolean irq(int n) throws IOException {
        command("inb 0x0");
        return irqLevel[n & 0xFF];
    }

    /** IRQ lines seen so far, in order. */
    public List<String> irqEvents() {
        return irqEvents;
    }

    /** Ends the emulator as libqtest does (SIGTERM) and returns its exit status. */
    public int terminate() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the emulator", e);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
