package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Statx;
import dev.ioemu.devices.host.LinuxFs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The O_DIRECT alignment rules of shared/spec/block.md §3.2/§3.4, with the kernel replaced by a
 * scripted one: statx wins when present, trial reads are QEMU's list, "1 byte works" means 4096,
 * and a host where nothing works is refused with the cache.direct=off hint.
 */
@ExtendWith(NoLeakedBuffers.class)
class AlignmentProbeTest {
    static final Statx NO_INFO = new Statx(0, LinuxFs.S_IFREG, 0, 0, 0, 0);
    static final AlignedBufferPool POOL = new AlignedBufferPool(AlignedBufferPool.Settings.DEFAULT);


    /** A host that accepts reads whose length and address are multiples of the given values. */
    static AlignmentProbe.TrialRead host(int request, int memory) {
        return (fd, address, length, offset) ->
                length % request == 0 && address % memory == 0 ? length : -Errno.EINVAL;
    }

    @Test
    void statxDioAlignIsUsedWhenTheKernelReportsIt() throws Exception {
        Statx st = new Statx(Statx.STATX_DIOALIGN, LinuxFs.S_IFREG, 0, 4, 512, 0);
        AlignmentProbe.Alignment a = AlignmentProbe.probe(-1, "f", st, 0, host(4096, 4096), POOL);
        assertEquals(512, a.request());
        assertEquals(512, a.memory(), "memory alignment is at least 512");
        assertEquals("statx", a.source());
    }

    @Test
    void trialReadsFindTheSmallestWorkingLength() throws Exception {
        AlignmentProbe.Alignment a = AlignmentProbe.probe(-1, "f", NO_INFO, 0, host(2048, 1024), POOL);
        assertEquals(2048, a.request());
        assertEquals(1024, a.memory());
    }

    @Test
    void oneByteWorkingMeansTheProbeLearnedNothingSo4096IsUsed() throws Exception {
        AlignmentProbe.Alignment a = AlignmentProbe.probe(-1, "f", NO_INFO, 0, host(1, 1), POOL);
        assertEquals(4096, a.request());
    }

    @Test
    void errorsOtherThanEinvalCountAsSuccessSoAFailingDiskStillProbes() throws Exception {
        AlignmentProbe.TrialRead failing = (fd, address, length, offset) -> length < 512 ? -Errno.EINVAL : -Errno.EIO;
        assertEquals(512, AlignmentProbe.probe(-1, "f", NO_INFO, 0, failing, POOL).request());
    }

    @Test
    void aHostWhereNoAlignmentWorksIsRefusedWithTheHint() {
        AlignmentProbe.TrialRead never = (fd, address, length, offset) -> -Errno.EINVAL;
        BlockOpenException e = assertThrows(BlockOpenException.class,
                () -> AlignmentProbe.probe(-1, "disk.img", NO_INFO, 0, never, POOL));
        assertEquals("Could not find working O_DIRECT alignment for disk.img", e.reason());
        assertEquals("Try cache.direct=off (e.g. cache=writeback or cache=fadvise)", e.hint());
    }

    @Test
    void aForcedAlignmentRaisesButNeverLowersTheHostsAlignment() throws Exception {
        Statx st = new Statx(Statx.STATX_DIOALIGN, LinuxFs.S_IFREG, 0, 512, 1024, 0);
        assertEquals(4096, AlignmentProbe.probe(-1, "f", st, 4096, host(1, 1), POOL).request());
        BlockOpenException e = assertThrows(BlockOpenException.class,
                () -> AlignmentProbe.probe(-1, "f", st, 512, host(1, 1), POOL));
        assertEquals("x-align: 512 (expected: a power of two between the host's 1024 and 4096)", e.reason());
    }
}
