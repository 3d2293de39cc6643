package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code -drive} option parsing as QEMU spells it (shared/spec/block.md §1, §6, §7). */
class DriveOptionsTest {
    @Test
    void defaultsAreQemus() {
        DriveOptions o = DriveOptions.parse("file=disk.img");
        assertEquals(CacheMode.WRITEBACK, o.cache());
        assertEquals(DiscardMode.IGNORE, o.discard());
        assertEquals(LockingMode.AUTO, o.locking());
        assertFalse(o.readOnly());
        assertEquals("raw", o.format());
        assertEquals(List.of(), o.injectErrors());
    }

    @Test
    void parsesEveryBlockKey() {
        DriveOptions o = DriveOptions.parse("file=a.img,format=raw,cache=none,readonly=on,discard=unmap,"
                + "locking=off,aio=threads,x-align=4096");
        assertEquals(CacheMode.NONE, o.cache());
        assertTrue(o.readOnly());
        assertEquals(DiscardMode.UNMAP, o.discard());
        assertEquals(LockingMode.OFF, o.locking());
        assertEquals(4096, o.forcedAlignment());
    }

    @Test
    void aDoubledCommaIsACommaInTheFileName() {
        assertEquals("a,b.img", DriveOptions.parse("file=a,,b.img,cache=unsafe").file());
    }

    @Test
    void frontEndKeysAreIgnoredAndUnknownKeysRejected() {
        DriveOptions o = DriveOptions.fromMap(Map.of("file", "x.img", "if", "ide", "index", "1", "media", "disk",
                "werror", "stop", "serial", "QM1"));
        assertEquals("x.img", o.file());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DriveOptions.parse("file=x.img,bogus=1"));
        assertTrue(e.getMessage().startsWith("drive option: 'bogus' (expected: "), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "file=x,cache=fast | cache: 'fast' (expected: writeback, none, writethrough, directsync, unsafe, fadvise)",
            "file=x,format=qcow2 | format: 'qcow2' (expected: raw)",
            "file=x,aio=native | aio: 'native' (expected: threads)",
            "cache=none | file: missing (expected: file=PATH)",
            "file=x,readonly=maybe | readonly: 'maybe' (expected: on or off)",
            "file=x,cache=writeback,x-align=4096 | x-align: 4096 with cache=writeback (expected: a cache mode with cache.direct=on; buffered I/O has no alignment)",
            "file=x,cache=none,x-align=3000 | x-align: 3000 (expected: a power of two ≤ 4096)",
            "file=x,inject-error.0.iotype=trim | iotype: 'trim' (expected: read, write, flush, discard, write-zeroes)",
            "file=x,inject-error.0.errno=EWHAT | inject-error.0.errno: 'EWHAT' (expected: a number or a name such as EIO, ENOSPC)",
            "file=x,inject-error.0.state=2 | drive option: 'inject-error.0.state' (expected: iotype, errno, sector, sectors, once, after)",
            "file=x,discard=maybe | discard: 'maybe' (expected: ignore, unmap)",
            "file=x,locking=sometimes | locking: 'sometimes' (expected: auto, on, off)",
    })
    void badValuesAreRejectedNamingTheValueAndWhatIsExpected(String options, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DriveOptions.parse(options));
        assertEquals(message, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "cache=none,cache.direct=off | WRITEBACK",
            "cache=writeback,cache.direct=on | NONE",
            "cache=writeback,cache.writeback=off | WRITETHROUGH",
            "cache.direct=on,cache.writeback=off | DIRECTSYNC",
            "cache.no-flush=on | UNSAFE",
            "cache=fadvise,cache.writeback=on | FADVISE",
    })
    void qemusCacheSwitchesSelectTheModeTheyDescribe(String switches, CacheMode expected) {
        assertEquals(expected, DriveOptions.parse("file=x," + switches).cache());
    }

    @Test
    void switchCombinationsWithoutAModeAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DriveOptions.parse("file=x,cache.direct=on,cache.no-flush=on"));
        assertTrue(e.getMessage().contains("(expected: a combination that one of the cache= modes names)"));
    }

    @Test
    void injectErrorRulesAreCollectedInIndexOrder() {
        DriveOptions o = DriveOptions.parse("file=x,inject-error.1.iotype=read,inject-error.0.iotype=flush,"
                + "inject-error.0.errno=5,inject-error.0.once=on,inject-error.0.after=3,inject-error.1.sector=16,"
                + "inject-error.1.errno=ENOSPC");
        assertEquals(List.of(new FaultInjection.Rule(FaultInjection.IoType.FLUSH, Errno.EIO, -1, 1, true, 3),
                        new FaultInjection.Rule(FaultInjection.IoType.READ, Errno.ENOSPC, 16, 1, false, 0)),
                o.injectErrors());
    }
}
