package dev.ioemu.devices.chardev;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where a character device's bytes go and come from — QEMU's chardev backends that ioemu
 * supports, as data: the process's stdio, nothing ({@code null}), a file, or a unix/tcp socket as
 * client or server. {@link #open()} yields a {@link ChardevEndpoint}; front ends ({@code -qtest},
 * {@code -mon}/{@code -qmp}) and, later, device back ends ({@code -serial}, {@code -debugcon})
 * read and write its {@link Connection}s and never know which backend it is.
 */
public sealed interface ChardevBackend {
    /** Opens the backend. Client sockets connect here, so a missing peer fails at start-up. */
    ChardevEndpoint open() throws IOException;

    /** The process's stdin/stdout (one connection). */
    record Stdio() implements ChardevBackend {
        @Override
        public ChardevEndpoint open() {
            return ChardevEndpoint.single(new Connection(new FileInputStream(FileDescriptor.in),
                    new FileOutputStream(FileDescriptor.out), () -> { }));
        }
    }

    /** Discards output, never has input. */
    record Null() implements ChardevBackend {
        @Override
        public ChardevEndpoint open() {
            return ChardevEndpoint.single(new Connection(InputStream.nullInputStream(),
                    OutputStream.nullOutputStream(), () -> { }));
        }
    }

    /**
     * Output to a file (created, truncated unless {@code append}), as QEMU's {@code file} backend
     * with {@code path=}; input, if {@code input} is not null, from another file.
     */
    record File(Path path, Path input, boolean append) implements ChardevBackend {
        @Override
        public ChardevEndpoint open() throws IOException {
            OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            InputStream in;
            try {
                in = input == null ? InputStream.nullInputStream() : Files.newInputStream(input);
            } catch (IOException e) {
                out.close();
                throw e;
            }
            return ChardevEndpoint.single(new Connection(in, out, () -> {
                try (in; out) {
                    out.flush();
                }
            }));
        }
    }

    /** A unix-domain socket: connect to {@code path}, or listen there and accept clients one after another. */
    record UnixSocket(Path path, boolean server) implements ChardevBackend {
        @Override
        public ChardevEndpoint open() throws IOException {
            return server ? ChardevEndpoint.unixServer(path) : ChardevEndpoint.single(ChardevEndpoint.unixClient(path));
        }
    }

    /** A TCP socket: connect to {@code host:port}, or listen there and accept clients one after another. */
    record TcpSocket(String host, int port, boolean server) implements ChardevBackend {
        @Override
        public ChardevEndpoint open() throws IOException {
            return server ? ChardevEndpoint.tcpServer(host, port)
                    : ChardevEndpoint.single(ChardevEndpoint.tcpClient(host, port));
        }
    }
}
