package dev.ioemu.devices.block.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A server that accepts and then says nothing fails the open after the handshake timeout, never hangs it. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NbdHandshakeTimeoutTest {
    @TempDir
    Path dir;

    @Test
    void aSilentServerFailsTheHandshakeInsteadOfHangingIt() throws Exception {
        Path sock = dir.resolve("silent.sock");
        int saved = NbdConnection.handshakeTimeoutSeconds;
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(sock));
            NbdConnection.handshakeTimeoutSeconds = 1;
            Thread accept = new Thread(() -> {
                try (SocketChannel c = listener.accept()) {
                    Thread.sleep(10_000);
                } catch (Exception e) {
                    // the client gave up: that is the point
                }
            });
            accept.setDaemon(true);
            accept.start();
            NbdException e = assertThrows(NbdException.class,
                    () -> NbdConnection.open(new NbdUri(null, 0, sock.toString(), "", 0, 0), null));
            assertEquals("NBD handshake with 'unix:" + sock + "' failed: no answer within 1 s", e.getMessage());
        } finally {
            NbdConnection.handshakeTimeoutSeconds = saved;
        }
    }
}
