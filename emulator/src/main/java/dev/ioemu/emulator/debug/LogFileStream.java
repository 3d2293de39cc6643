package dev.ioemu.emulator.debug;

import dev.ioemu.devices.trace.LogFile;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The {@code -d} log's way into the one {@code -D} file: QEMU writes {@code -d} items and trace
 * events to the same file, so whole lines go to {@link LogFile}, which owns that file and keeps
 * lines from different threads whole.
 */
public final class LogFileStream extends OutputStream {
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            LogFile.println(line.toString(StandardCharsets.UTF_8));
            line.reset();
        } else {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    @Override
    public void flush() {
        LogFile.flush();
    }
}
