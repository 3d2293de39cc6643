package dev.ioemu.devices.chardev;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

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

    /**
     * A listening Unix socket at {@code path}, owner-only (0600) whatever the umask: connecting
     * needs write permission on the socket file, and whoever connects to a qtest or QMP socket
     * controls the VM. QEMU leaves the mode to the umask (0755 at umask 022, 0777 at 000).
     */
    static ChardevEndpoint unixServer(Path path) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path), 1);
            Files.setPosixFilePermissions(path, OWNER_ONLY);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server(server, path);
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

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
