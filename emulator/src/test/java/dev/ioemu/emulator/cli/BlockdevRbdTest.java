package dev.ioemu.emulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code -blockdev driver=rbd} (QEMU's BlockdevOptionsRbd keys) becomes the drive's {@code file=rbd:…}. */
class BlockdevRbdTest {
    private static Map<String, String> drive(String line, String id) throws UsageException {
        VmConfig c = CommandLine.parse(line.split(" "));
        return c.drives().stream().filter(d -> id.equals(d.id())).findFirst().orElseThrow().options();
    }

    @Test
    void poolImageSnapshotConfAndUserBecomeQemusFilename() throws Exception {
        Map<String, String> d = drive("-blockdev driver=rbd,node-name=d0,pool=vms,image=disk:0,snapshot=s1,"
                + "conf=/etc/ceph/ceph.conf,user=libvirt,read-only=on", "d0");
        assertEquals("rbd:vms/disk\\:0@s1:conf=/etc/ceph/ceph.conf:id=libvirt", d.get("file"));
        assertEquals("on", d.get("readonly"));
    }

    @Test
    void aNamespaceGoesBetweenPoolAndImage() throws Exception {
        assertEquals("rbd:p/tenant/i", drive("-blockdev driver=rbd,node-name=d,pool=p,namespace=tenant,image=i "
                + "-device ide-hd,drive=d", "d").get("file"));
    }

    @Test
    void aMissingImageOrAnUnknownKeyIsRefused() {
        UsageException e = assertThrows(UsageException.class,
                () -> CommandLine.parse("-blockdev driver=rbd,node-name=d,pool=p".split(" ")));
        assertTrue(e.getMessage().contains("rbd: image is empty"), e.getMessage());
        e = assertThrows(UsageException.class,
                () -> CommandLine.parse("-blockdev driver=rbd,node-name=d,pool=p,image=i,key-secret=s".split(" ")));
        assertTrue(e.getMessage().contains("Parameter 'key-secret' is unexpected"), e.getMessage());
    }
}
