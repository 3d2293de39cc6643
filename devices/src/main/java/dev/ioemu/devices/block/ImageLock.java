package dev.ioemu.devices.block;

import dev.ioemu.devices.host.LibC;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.host.Fcntl;
import com.sun.jna.LastErrorException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QEMU-compatible image locking with open-file-description (OFD) locks on QEMU's exact bytes
 * (shared/spec/block.md §7), so ioemu, QEMU and qemu-img refuse each other correctly.
 *
 * <p>For permission bit i, byte {@code 100+i} is read-locked while we hold the permission and
 * byte {@code 200+i} while we refuse to share it. A read-write disk holds CONSISTENT_READ|WRITE
 * (bytes 100, 101) and does not share WRITE (byte 201), exactly as a QEMU IDE disk. A read-only
 * open holds CONSISTENT_READ (byte 100) and shares everything, as {@code qemu-io -r} and
 * {@code qemu-img info} do, so it coexists with a writer.
 *
 * <p>After locking our bytes we test the others with F_OFD_GETLK and a write-lock request: a
 * byte another open file description holds means a conflict. Our own locks never conflict with
 * our own tests, while a second open() of the same file — even in this process — does.
 *
 * <p>Owned by the {@link RawImage} whose fd it locks; released when that fd closes.
 */
final class ImageLock {
    private static final Logger LOG = LoggerFactory.getLogger(ImageLock.class);

    static final int PERM_CONSISTENT_READ = 0x01;
    static final int PERM_WRITE = 0x02;
    static final int PERM_WRITE_UNCHANGED = 0x04;
    static final int PERM_RESIZE = 0x08;
    static final int PERM_ALL = 0x0F;
    static final int BASE_HELD = 100;
    static final int BASE_UNSHARED = 200;

    /** QEMU's permission names, by bit (its lock errors name them). */
    static final List<String> PERM_NAMES = List.of("consistent read", "write", "write unchanged", "resize");

    private static volatile Boolean ofdSupported;

    private ImageLock() {
    }

    /** Held and unshared permission sets for a disk opened read-write or read-only. */
    static int heldPermissions(boolean readOnly) {
        return readOnly ? PERM_CONSISTENT_READ : PERM_CONSISTENT_READ | PERM_WRITE;
    }

    static int unsharedPermissions(boolean readOnly) {
        return readOnly ? 0 : PERM_WRITE;
    }

    /**
     * Locks the bytes for our permissions on {@code fd} and checks nobody else conflicts.
     *
     * @throws BlockOpenException 'Failed to get "write" lock' (someone refuses to share what we
     *         want) or 'Failed to get shared "write" lock' (someone holds what we refuse to share)
     */
    static void acquire(int fd, String file, boolean readOnly, LockingMode mode) throws BlockOpenException {
        acquire(fd, file, heldPermissions(readOnly), unsharedPermissions(readOnly), mode);
    }

    /**
     * Locks the bytes for {@code held} and {@code unshared} (PERM_* sets) on {@code fd} and checks
     * nobody else conflicts; the general form behind {@link #acquire(int, String, boolean, LockingMode)}.
     * Image creation holds WRITE|RESIZE and refuses to share RESIZE (§7.1); a copy source (qemu-img
     * convert) holds CONSISTENT_READ and refuses to share WRITE and RESIZE.
     */
    static void acquire(int fd, String file, int held, int unshared, LockingMode mode) throws BlockOpenException {
        if (mode == LockingMode.OFF) {
            return;
        }
        boolean ofd = ofdSupported();
        if (!ofd && mode == LockingMode.AUTO) {
            return;
        }
        if (!ofd) {
            LOG.warn("{}: OFD locks are not supported; using POSIX locks, which may be lost unexpectedly", file);
        }
        int setCmd = ofd ? Fcntl.F_OFD_SETLK : Fcntl.F_SETLK;
        int getCmd = ofd ? Fcntl.F_OFD_GETLK : Fcntl.F_GETLK;
        Fcntl.Flock flock = new Fcntl.Flock();
        for (int bit = 0; bit < PERM_NAMES.size(); bit++) {
            int perm = 1 << bit;
            if ((held & perm) != 0) {
                lockByte(fd, setCmd, flock, BASE_HELD + bit);
            }
            if ((unshared & perm) != 0) {
                lockByte(fd, setCmd, flock, BASE_UNSHARED + bit);
            }
        }
        String hint = "Is another process using the image [" + file + "]?";
        for (int bit = 0; bit < PERM_NAMES.size(); bit++) {
            int perm = 1 << bit;
            if ((held & perm) != 0 && lockedByOthers(fd, getCmd, flock, BASE_UNSHARED + bit)) {
                throw new BlockOpenException("Failed to get \"" + PERM_NAMES.get(bit) + "\" lock", hint, Errno.EAGAIN);
            }
        }
        for (int bit = 0; bit < PERM_NAMES.size(); bit++) {
            int perm = 1 << bit;
            if ((unshared & perm) != 0 && lockedByOthers(fd, getCmd, flock, BASE_HELD + bit)) {
                throw new BlockOpenException("Failed to get shared \"" + PERM_NAMES.get(bit) + "\" lock", hint,
                        Errno.EAGAIN);
            }
        }
    }

    private static void lockByte(int fd, int cmd, Fcntl.Flock flock, int offset) throws BlockOpenException {
        try {
            LibC.fcntl(fd, cmd, flock.set(Fcntl.F_RDLCK, offset, 1).address());
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            throw new BlockOpenException("Failed to lock byte " + offset + ": " + Errno.name(errno),
                    "Use locking=off if the filesystem cannot lock (e.g. NFSv3 without lockd)", errno);
        }
    }

    private static boolean lockedByOthers(int fd, int cmd, Fcntl.Flock flock, int offset) throws BlockOpenException {
        try {
            LibC.fcntl(fd, cmd, flock.set(Fcntl.F_WRLCK, offset, 1).address());
            return flock.type() != Fcntl.F_UNLCK;
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            throw new BlockOpenException("Failed to check byte " + offset + ": " + Errno.name(errno), "", errno);
        }
    }

    /** Probed once, as QEMU does: an F_OFD_GETLK on the null device. */
    static boolean ofdSupported() {
        Boolean known = ofdSupported;
        if (known != null) {
            return known;
        }
        boolean works;
        int fd = -1;
        try {
            fd = LibC.open("/dev/null", Fcntl.O_RDWR | Fcntl.O_CLOEXEC, 0);
            LibC.fcntl(fd, Fcntl.F_OFD_GETLK, new Fcntl.Flock().set(Fcntl.F_WRLCK, 0, 0).address());
            works = true;
        } catch (LastErrorException e) {
            works = false;
        } finally {
            if (fd >= 0) {
                LibC.close(fd);
            }
        }
        ofdSupported = works;
        return works;
    }
}
