package dev.ioemu.devices.chardev;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One open byte stream of a chardev (a connected socket, stdin/stdout, a file). The input is read
 * by one thread; the output is written by one thread at a time — producers on several threads
 * (qtest replies and asynchronous IRQ lines) go through a {@link ChardevWriter}.
 */
public record Connection(InputStream in, OutputStream out, Closeable closer) implements Closeable {
    @Override
    public void close() throws IOException {
        closer.close();
    }
}
