package dev.ioemu.emulator.chardev;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One open byte stream of a chardev (a connected socket, or stdin/stdout). The input is read by
 * one thread; the output may be written by several (qtest replies and asynchronous IRQ lines),
 * which callers serialise themselves.
 */
public record Connection(InputStream in, OutputStream out, Closeable closer) implements Closeable {
    @Override
    public void close() throws IOException {
        closer.close();
    }
}
