package dev.ioemu.devices.chardev;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An opened chardev ({@link ChardevBackend#open()}) that yields connections: a client socket
 * connects once at start-up (QEMU's {@code unix:PATH} without {@code server}, what libqtest
 * expects); a server socket accepts one client after another; stdio, null and file are a single
 * connection.
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

    static ChardevEndpoint single(Connection c) {
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

    static Connection unixClient(Path path) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw new IOException("Failed to connect to '" + path + "': " + e.getMessage(), e);
        }
        return new Connection(ChannelStreams.input(ch), ChannelStreams.output(ch), ch);
    }

    static Connection tcpClient(String host, int port) throws IOException {
        SocketChannel ch = SocketChannel.open();
        try {
            ch.connect(new InetSocketAddress(host, port));
        } catch (IOException e) {
            ch.close();
            throw new IOException("Failed to connect to '" + host + ":" + port + "': " + e.getMessage(), e);
        }
        return new Connection(ChannelStreams.input(ch), ChannelStreams.output(ch), ch);
    }

    static ChardevEndpoint unixServer(Path path) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path), 1);
        return server(server, path);
    }

    static ChardevEndpoint tcpServer(String host, int port) throws IOException {
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
