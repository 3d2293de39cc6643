package dev.ioemu.devices.chardev;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChardevBackendTest {
    @TempDir
    Path dir;

    @Test
    void fileBackendWritesOneConnectionToTheFileAndTruncatesUnlessAppending() throws Exception {
        Path out = dir.resolve("serial.log");
        Files.writeString(out, "old\n");
        try (ChardevEndpoint ep = new ChardevBackend.File(out, null, false).open()) {
            Connection c = ep.next();
            c.out().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, c.in().read(), "no input file: end of input at once");
            assertNull(ep.next(), "a file is one connection");
            c.close();
        }
        assertEquals("hello\n", Files.readString(out));
        try (ChardevEndpoint ep = new ChardevBackend.File(out, null, true).open()) {
            Connection c = ep.next();
            c.out().write("again\n".getBytes(StandardCharsets.US_ASCII));
            c.close();
        }
        assertEquals("hello\nagain\n", Files.readString(out));
    }

    @Test
    void fileBackendReadsItsInputFile() throws Exception {
        Path in = dir.resolve("in.txt");
        Files.writeString(in, "abc");
        try (ChardevEndpoint ep = new ChardevBackend.File(dir.resolve("o"), in, false).open()) {
            Connection c = ep.next();
            assertEquals("abc", new String(c.in().readAllBytes(), StandardCharsets.US_ASCII));
            c.close();
        }
    }

    @Test
    void nullBackendDiscardsOutputAndHasNoInput() throws Exception {
        try (ChardevEndpoint ep = new ChardevBackend.Null().open()) {
            Connection c = ep.next();
            c.out().write(new byte[100]);
            assertEquals(-1, c.in().read());
        }
    }

    @Test
    void socketBackendsConnectAtOpenAndServeOverAServerSocket() throws Exception {
        Path sock = dir.resolve("s.sock");
        IOException e = assertThrows(IOException.class, () -> new ChardevBackend.UnixSocket(sock, false).open());
        assertTrue(e.getMessage().startsWith("Failed to connect to '" + sock + "'"), e.getMessage());
        try (ChardevEndpoint server = new ChardevBackend.UnixSocket(sock, true).open();
             ChardevEndpoint client = new ChardevBackend.UnixSocket(sock, false).open()) {
            Connection toServer = client.next();
            Connection atServer = server.next();
            toServer.out().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            byte[] got = new byte[5];
            assertEquals(5, atServer.in().readNBytes(got, 0, 5));
            assertEquals("ping\n", new String(got, StandardCharsets.US_ASCII));
            toServer.close();
            atServer.close();
        }
    }
}
