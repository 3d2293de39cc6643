package dev.ioemu.emulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@code -blockdev driver=nbd} in QEMU's keys (shared/spec/nbd.md §2.1) becomes the NBD URI the block layer opens. */
class BlockdevNbdTest {
    private static String file(String line, String id) throws UsageException {
        VmConfig c = CommandLine.parse(line.split(" "));
        return c.drives().stream().filter(d -> id.equals(d.id())).findFirst().orElseThrow().options().get("file");
    }

    @Test
    void nbdNodesDirectAndUnderRaw() throws Exception {
        assertEquals("nbd+unix:///disk0?socket=/run/d.sock&x-reconnect-delay=10&x-open-timeout=30",
                file("-blockdev driver=nbd,node-name=d0,server.type=unix,server.path=/run/d.sock,export=disk0,"
                        + "reconnect-delay=10,open-timeout=30 -device ide-hd,drive=d0", "d0"));
        assertEquals("nbd://10.0.0.1:10809/disk0",
                file("-blockdev driver=raw,node-name=d1,file.driver=nbd,file.server.type=inet,"
                        + "file.server.host=10.0.0.1,file.server.port=10809,file.export=disk0 -device ide-hd,drive=d1",
                        "d1"));
    }

    @Test
    void tlsAndUnknownKeysAreRefusedInOneLine() {
        UsageException tls = assertThrows(UsageException.class, () -> CommandLine.parse(("-blockdev driver=nbd,"
                + "node-name=d0,server.type=inet,server.host=h,server.port=1,tls-creds=tls0").split(" ")));
        assertEquals("-blockdev driver=nbd,node-name=d0,server.type=inet,server.host=h,server.port=1,tls-creds=tls0: "
                + "tls-creds: 'tls0' (expected: no tls-creds; NBD over TLS is not supported)", tls.getMessage());
        UsageException unknown = assertThrows(UsageException.class, () -> CommandLine.parse(
                "-blockdev driver=nbd,node-name=d0,server.type=unix,server.path=/s,x-dirty-bitmap=b".split(" ")));
        assertEquals("-blockdev driver=nbd,node-name=d0,server.type=unix,server.path=/s,x-dirty-bitmap=b: "
                + "Parameter 'x-dirty-bitmap' is unexpected", unknown.getMessage());
    }
}
