package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Statx;
import dev.ioemu.devices.host.LinuxFs;
import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the O_DIRECT alignment of an open image (shared/spec/block.md §3.2, §3.4): the request
 * alignment R (file offsets and lengths) and the memory alignment M (buffer addresses).
 *
 * <p>Sources, best first: statx {@code STATX_DIOALIGN} (Linux ≥ 6.1); {@code BLKSSZGET} for block
 * devices (R is at least the logical block size); and only when the kernel reports nothing,
 * trial reads at offset 0 with lengths {1, 512, 1024, 2048, 4096} and buffer offsets from an
 * aligned base, where the first length that does not fail with EINVAL wins and "1 works" means
 * the probe learned nothing, so 4096 is used (QEMU's rule; reads from holes lie). M is at least
 * 512. A forced alignment ({@code x-align=}) may raise R, never lower it below what the host
 * needs. If nothing works the open is refused — never a silent fallback to buffered I/O.
 */
final class AlignmentProbe {
    private static final Logger LOG = LoggerFactory.getLogger(AlignmentProbe.class);

    /** QEMU's probe list; 4096 is also the fallback when 1 byte "works". */
    static final int[] PROBE_SIZES = {1, 512, 1024, 2048, 4096};
    static final int MAX_ALIGNMENT = 4096;
    static final int MIN_MEMORY_ALIGNMENT = 512;

    /** The probe result; {@code source} says where R came from, for the log and messages. */
    record Alignment(int request, int memory, String source) {
    }

    /** A trial read: bytes read or -errno. Replaceable so tests can simulate hostile hosts. */
    interface TrialRead {
        long pread(int fd, long address, int length, long offset);
    }

    static final TrialRead LIBC_TRIAL_READ = (fd, address, length, offset) -> {
        try {
            return LibC.pread(fd, address, length, offset);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    };

    private AlignmentProbe() {
    }

    /**
     * @param forced 0 to use the host's alignment, else a power of two to use instead (tests use
     *               4096 to run the 4Kn paths on any host)
     * @throws BlockOpenException if no alignment works or the forced one is below the host's
     */
    static Alignment probe(int fd, String file, Statx st, int forced, TrialRead trial, AlignedBufferPool pool)
            throws BlockOpenException {
        int request = 0;
        int memory = 0;
        String source = "";
        if (st.hasDioAlign()) {
            request = st.dioOffsetAlign();
            memory = st.dioMemAlign();
            source = "statx";
        }
        if (st.isBlockDevice()) {
            int logical = blockSize(fd);
            if (logical > request) {
                request = logical;
                source = "BLKSSZGET";
            }
        }
        if (request == 0 || memory == 0) {
            ByteBuf buf = pool.acquire(2 * MAX_ALIGNMENT);
            try {
                long base = buf.memoryAddress();
                if (request == 0) {
                    request = probeRequestAlignment(fd, base, trial);
                    source = "trial reads";
                }
                if (request != 0 && memory == 0) {
                    memory = probeMemoryAlignment(fd, base, request, trial);
                }
            } finally {
                pool.release(buf);
            }
        }
        if (request == 0 || memory == 0) {
            throw new BlockOpenException("Could not find working O_DIRECT alignment for " + file,
                    "Try cache.direct=off (e.g. cache=writeback or cache=fadvise)", Errno.EINVAL);
        }
        if (Integer.bitCount(request) != 1 || request > MAX_ALIGNMENT) {
            throw new BlockOpenException("request alignment: " + request + " from " + source
                    + " (expected: a power of two ≤ " + MAX_ALIGNMENT + ")", "Try cache.direct=off", Errno.EINVAL);
        }
        memory = Math.min(Math.max(memory, MIN_MEMORY_ALIGNMENT), MAX_ALIGNMENT);
        if (forced != 0) {
            if (Integer.bitCount(forced) != 1 || forced < request || forced > MAX_ALIGNMENT) {
                throw new BlockOpenException("x-align: " + forced + " (expected: a power of two between the host's "
                        + request + " and " + MAX_ALIGNMENT + ")", "Omit x-align to use the host's alignment",
                        Errno.EINVAL);
            }
            request = forced;
            source = "x-align";
        }
        LOG.debug("{}: O_DIRECT alignment request {} memory {} ({})", file, request, memory, source);
        return new Alignment(request, memory, source);
    }

    private static int blockSize(int fd) throws BlockOpenException {
        Memory out = new Memory(4);
        try {
            LibC.ioctl(fd, LinuxFs.BLKSSZGET, Pointer.nativeValue(out));
            return out.getInt(0);
        } catch (LastErrorException e) {
            throw new BlockOpenException("BLKSSZGET failed: " + Errno.name(e.getErrorCode()), "", e.getErrorCode());
        }
    }

    /** First probe length that does not fail with EINVAL; other errors count as success. */
    private static int probeRequestAlignment(int fd, long alignedBase, TrialRead trial) {
        for (int size : PROBE_SIZES) {
            if (trial.pread(fd, alignedBase, size, 0) != -Errno.EINVAL) {
                // 1 byte working means the probe could not see the restriction (a hole, say).
                return size == 1 ? MAX_ALIGNMENT : size;
            }
        }
        return 0;
    }

    private static int probeMemoryAlignment(int fd, long alignedBase, int request, TrialRead trial) {
        for (int align : PROBE_SIZES) {
            if (trial.pread(fd, alignedBase + align, request, 0) != -Errno.EINVAL) {
                return align == 1 ? request : align;
            }
        }
        return 0;
    }
}
