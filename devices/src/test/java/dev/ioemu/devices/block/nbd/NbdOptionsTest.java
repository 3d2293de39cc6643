package dev.ioemu.devices.block.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.devices.block.DriveOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * QEMU's {@code driver=nbd} spelling (shared/spec/nbd.md §2.1) becomes the URI the backend opens,
 * in every form {@code -drive} takes it; TLS and file descriptors are refused in one line.
 */
class NbdOptionsTest {
    @Test
    void driverNbdOnADriveBecomesAUnixUriWithTheTimeouts() {
        DriveOptions o = DriveOptions.parse("driver=nbd,server.type=unix,server.path=/run/a b.sock,export=disk0,"
                + "reconnect-delay=10,open-timeout=30,if=ide,cache=none");
        assertEquals("nbd+unix:///disk0?socket=/run/a%20b.sock&x-reconnect-delay=10&x-open-timeout=30", o.file());
        NbdUri u = NbdUri.parse(o.file());
        assertEquals(new NbdUri(null, 0, "/run/a b.sock", "disk0", 10, 30), u);
    }

    @Test
    void fileDriverNbdUnderRawAndInetServers() {
        DriveOptions o = DriveOptions.parse("driver=raw,file.driver=nbd,file.server.type=inet,"
                + "file.server.host=127.0.0.1,file.server.port=10810,file.export=/d");
        assertEquals("nbd://127.0.0.1:10810//d", o.file());
        assertEquals(new NbdUri("127.0.0.1", 10810, null, "/d", 0, 0), NbdUri.parse(o.file()));
        assertEquals("nbd://[::1]:10809/", NbdOptions.toUri(Map.of("server.type", "inet", "server.host", "::1",
                "server.port", "10809")));
    }

    @Test
    void timeoutsNextToAUri() {
        DriveOptions o = DriveOptions.parse("file=nbd://h:1/e,file.reconnect-delay=5");
        assertEquals(new NbdUri("h", 1, null, "e", 5, 0), NbdUri.parse(o.file()));
    }

    @Test
    void refusalsAreOneClearLine() {
        assertMessage("tls-creds: 'tls0' (expected: no tls-creds; NBD over TLS is not supported)",
                "driver=nbd,server.type=inet,server.host=h,server.port=1,tls-creds=tls0");
        assertMessage("server.type: 'fd' (expected: inet or unix; a passed file descriptor is not supported)",
                "driver=nbd,server.type=fd");
        assertMessage("nbd: Parameter 'server.path' is missing", "driver=nbd,server.type=unix");
        assertMessage("server.port: 'x' (expected: a TCP port 1..65535)",
                "driver=nbd,server.type=inet,server.host=h,server.port=x");
        assertMessage("reconnect-delay: '-1' (expected: a whole number of seconds)",
                "driver=nbd,server.type=unix,server.path=/s,reconnect-delay=-1");
        assertMessage("nbd: Parameter 'server.host' is unexpected with server.type=unix",
                "driver=nbd,server.type=unix,server.path=/s,server.host=h");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NbdUri.parse("nbd+unix:///e?socket=/s&x-reconnect-delay=soon"));
        assertTrue(e.getMessage().contains("x-reconnect-delay=soon is not a number of seconds"), e.getMessage());
    }

    private static void assertMessage(String expected, String drive) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DriveOptions.parse(drive));
        assertEquals(expected, e.getMessage());
    }
}
