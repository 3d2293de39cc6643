package dev.ioemu.emulator.chardev;

import dev.ioemu.emulator.cli.ChardevSpec;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A chardev backend that yields connections: a client socket connects once at start-up (QEMU's
 * {@code unix:PATH} without {@code server}, what libqtest expects); a server socket accepts one
 * client after another; stdio is a single connection on the process's stdin/stdout.
 */
public abstract class ChardevEndpoint implements AutoCloseable {
    /**
     * The next connection: blocks until a client arrives for a server socket; null when there
     * will be no more (a client socket or stdio after its first connection).
     */
    public abstract Connection next() throws IOException;

    @Override
    public void close() throws IOException {
    }

    /**
     * Opens {@code spec}. Client sockets connect here, so a missing peer is reported at start-up
     * as QEMU does ("Failed to connect to 'PATH'").
     */
    public static ChardevEndpoint open(ChardevSpec spec) throws IOException {
        return switch (spec.kind()) {
            case STDIO -> single(new Connection(new FileInputStream(FileDescriptor.in),
                    new FileOutputStream(FileDescriptor.out), () -> { }));
            case NULL -> single(new Connection(InputStream.nullInputStream(), OutputStream.nullOutputStream(), () -> { }));
            case UNIX -> spec.server() ? unixServer(Path.of(spec.path())) : single(unixClient(Path.of(spec.path())));
            case TCP -> spec.server() ? tcpServer(spec.host(), spec.port()) : single(tcpClient(spec.host(), spec.port()));
        };
    }

    private static ChardevEndpoint single(Connection c) {
        return new ChardevEndpoint() {
            private Connection pending = c;

            @Override
            public synchronized Connection next() {
                Connection out = pending;
                pending = null;
                return out;
            }
        };
    }

    private static Connection unixClient(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw new IOException("Failed to connect to '" + path + "': " + e.getMessage(), e);
        }
        return new Connection(ChannelStreams.input(ch), ChannelStreams.output(ch), ch);
    }

    private static Connection tcpClient(String host, int port) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.connect(new InetSocketAddress(host, port));
        } catch (IOException e) {
            ch.close();
            throw new IOException("Failed to connect to '" + host + ":" + port + "': " + e.getMessage(), e);
        }
        return new Connection(ChannelStreams.input(ch), ChannelStreams.output(ch), ch);
    }

    private static ChardevEndpoint unixServer(Path path) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path), 1);
        return server(server, path);
    }

    private static ChardevEndpoint tcpServer(String host, int port) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(host, port), 1);
        return server(server, null);
    }

    private static ChardevEndpoint server(ServerSocketChannel server, Path unlinkOnClose) {
        return new ChardevEndpoint() {
            @Override
            public Connection next() throws IOException {
                if (!server.isOpen()) {
                    return null;
                }
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (java.nio.channels.ClosedChannelException e) {
                    return null;
                }
                return new Connection(ChannelStreams.input(ch), ChannelStreams.output(ch), ch);
            }

            @Override
            public void close() throws IOException {
                server.close();
                if (unlinkOnClose != null) {
                    Files.deleteIfExists(unlinkOnClose);
                }
            }
        };
    }
}
