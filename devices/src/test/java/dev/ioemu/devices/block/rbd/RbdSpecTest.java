package dev.ioemu.devices.block.rbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.devices.block.CacheMode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** QEMU 7.2's rbd filename syntax ({@code block/rbd.c} {@code qemu_rbd_parse_filename}), escaping included. */
class RbdSpecTest {
    @Test
    void poolImageSnapshotConfUserAndCephOptions() {
        RbdSpec s = RbdSpec.parse("rbd:vms/disk0@base:conf=/etc/ceph/c.conf:id=libvirt:rbd_cache_max_dirty=0");
        assertEquals("vms", s.pool());
        assertEquals("", s.namespace());
        assertEquals("disk0", s.image());
        assertEquals("base", s.snapshot());
        assertEquals("/etc/ceph/c.conf", s.conf());
        assertEquals("libvirt", s.user());
        assertEquals(Map.of("rbd_cache_max_dirty", "0"), s.options());
        assertEquals("vms/disk0@base", s.displayName());
    }

    @Test
    void theShortestFormHasNoSnapshotConfOrUser() {
        RbdSpec s = RbdSpec.parse("rbd:rbd/img");
        assertEquals("img", s.image());
        assertNull(s.snapshot());
        assertNull(s.conf());
        assertNull(s.user());
        assertTrue(s.options().isEmpty());
    }

    @Test
    void aSecondSlashSeparatesTheNamespace() {
        RbdSpec s = RbdSpec.parse("rbd:pool/tenant/img:conf=/c");
        assertEquals("tenant", s.namespace());
        assertEquals("img", s.image());
        assertEquals("/c", s.conf());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rbd:p/a\\:b|a:b",        // an escaped ':' stays in the name
        "rbd:p/a\\\\b|a\\b",      // an escaped backslash
        "rbd:p/a\\/b|a/b",        // an escaped '/' is no namespace separator
        "rbd:p/a\\=b|a=b",
    })
    void aBackslashKeepsTheNextCharacter(String file, String image) {
        assertEquals(image, RbdSpec.parse(file).image());
    }

    @Test
    void anEscapedColonInTheConfPathStaysInIt() {
        assertEquals("/tmp/a:b/ceph.conf", RbdSpec.parse("rbd:p/i:conf=/tmp/a\\:b/ceph.conf").conf());
    }

    @Test
    void anAtSignInAConfPathIsNoSnapshot() {
        RbdSpec s = RbdSpec.parse("rbd:p/i:conf=/home/a@b/ceph.conf");
        assertEquals("i", s.image());
        assertNull(s.snapshot());
        assertEquals("/home/a@b/ceph.conf", s.conf());
    }

    @Test
    void toFilenameParsesBack() {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("client_mount_timeout", "5");
        RbdSpec s = new RbdSpec("p:1", "ns", "i@x/y", "s=1", "/d:e/ceph.conf", "u", options);
        assertEquals(s, RbdSpec.parse(s.toFilename()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rbd:justapool|rbd: Pool name is required",
        "rbd:p/|rbd: image is empty",
        "rbd:/img|rbd: pool is empty",
        "rbd:p/i:conf|rbd: conf option conf has no value",
        "rbd:p/i@|rbd: snapshot is empty",
    })
    void malformedFilenamesAreOneLineNamingTheProblem(String file, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RbdSpec.parse(file));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void onlyRbdColonIsRbd() {
        assertTrue(RbdSpec.isRbd("rbd:p/i"));
        assertFalse(RbdSpec.isRbd("rbd.img"));
        assertFalse(RbdSpec.isRbd("/var/rbd:x"));
    }

    /** QEMU's qemu_rbd_connect: rbd_cache unless the mode opens the image directly (BDRV_O_NOCACHE). */
    @ParameterizedTest
    @CsvSource({"writeback,true", "writethrough,true", "unsafe,true", "fadvise,true", "none,false",
        "directsync,false"})
    void cacheModesMapToRbdCacheAsQemuMapsThem(String mode, boolean rbdCache) {
        assertEquals(rbdCache, RbdBlockDevice.rbdCacheFor(CacheMode.parse(mode)));
    }
}
