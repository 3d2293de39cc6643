package dev.ioemu.emulator.chardev;

import dev.ioemu.devices.chardev.ChardevEndpoint;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.emulator.cli.ChardevSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChardevEndpointTest {
    @TempDir
    Path dir;

    private static void echoOneLine(Connection c) throws IOException {
        byte[] buf = new byte[64];
        int n = c.in().read(buf);
        c.out().write(buf, 0, n);
        c.out().flush();
    }

    @Test
    void unixServerAcceptsOneClientAfterAnotherAndUnlinksOnClose() throws Exception {
        Path sock = dir.resolve("qmp.sock");
        ChardevEndpoint ep = Chardevs.backend(new ChardevSpec(ChardevSpec.Kind.UNIX, null, sock.toString(), null, 0,
                true, false)).open();
        for (int i = 0; i < 2; i++) {
            CompletableFuture<Connection> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return ep.next();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                client.connect(UnixDomainSocketAddress.of(sock));
                Connection c = accepted.get(10, TimeUnit.SECONDS);
                Channels.newOutputStream(client).write("hello\n".getBytes(StandardCharsets.US_ASCII));
                echoOneLine(c);
                byte[] back = new byte[6];
                assertEquals(6, Channels.newInputStream(client).readNBytes(back, 0, 6));
                assertEquals("hello\n", new String(back, StandardCharsets.US_ASCII));
                c.close();
            }
        }
        ep.close();
        assertFalse(Files.exists(sock));
        assertNull(ep.next(), "a closed server yields no more connections");
    }

    @Test
    void tcpClientConnectsOnceThenHasNoMoreConnections() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ChardevEndpoint ep = Chardevs.backend(new ChardevSpec(ChardevSpec.Kind.TCP, null, null,
                    InetAddress.getLoopbackAddress().getHostAddress(), server.getLocalPort(), false, true)).open();
            try (Socket peer = server.accept()) {
                Connection c = ep.next();
                peer.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
                echoOneLine(c);
                InputStream in = peer.getInputStream();
                assertEquals("ping\n", new String(in.readNBytes(5), StandardCharsets.US_ASCII));
                assertNull(ep.next());
                c.close();
            }
        }
    }

    @Test
    void readerAndWriterDoNotBlockEachOther() throws Exception {
        Path sock = dir.resolve("q.sock");
        try (var listener = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(sock));
            Connection c = Chardevs.backend(new ChardevSpec(ChardevSpec.Kind.UNIX, null, sock.toString(), null, 0,
                    false, true)).open().next();
            try (SocketChannel peer = listener.accept()) {
                // A thread blocked reading must not stop another thread writing (IRQ lines are
                // written by I/O threads while the qtest thread waits for the next request).
                CompletableFuture<Integer> reader = CompletableFuture.supplyAsync(() -> {
                    try {
                        return c.in().read();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(100);
                OutputStream out = c.out();
                out.write("IRQ raise 14\n".getBytes(StandardCharsets.US_ASCII));
                byte[] got = new byte[13];
                assertEquals(13, Channels.newInputStream(peer).readNBytes(got, 0, 13));
                assertFalse(reader.isDone());
                Channels.newOutputStream(peer).write('x');
                assertEquals('x', reader.get(10, TimeUnit.SECONDS));
                c.close();
            }
        }
    }

    @Test
    void clientToAMissingSocketFailsNamingThePath() {
        IOException e = assertThrows(IOException.class, () -> Chardevs.backend(new ChardevSpec(
                ChardevSpec.Kind.UNIX, null, dir.resolve("none.sock").toString(), null, 0, false, true)).open());
        assertTrue(e.getMessage().startsWith("Failed to connect to '" + dir.resolve("none.sock") + "'"), e.getMessage());
    }
}
