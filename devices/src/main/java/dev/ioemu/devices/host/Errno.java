package dev.ioemu.devices.host;

/** Linux x86-64 errno values the block layer reports (shared/spec/block.md §10), with names. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOTSUP = EOPNOTSUPP;
    public static final int ENOMEDIUM = 123;
    public static final int ECANCELED = 125;

    private Errno() {
    }

    /** "EIO" for 5 or -5; "errno 77" for values without a name here. */
    public static String name(int errno) {
        int e = Math.abs(errno);
        return switch (e) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EFAULT -> "EFAULT";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case ENODEV -> "ENODEV";
            case EISDIR -> "EISDIR";
            case EINVAL -> "EINVAL";
            case ENOTTY -> "ENOTTY";
            case EFBIG -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case EROFS -> "EROFS";
            case ENOSYS -> "ENOSYS";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case ENOMEDIUM -> "ENOMEDIUM";
            case ECANCELED -> "ECANCELED";
            default -> "errno " + e;
        };
    }

    /**
     * The C library's message for 5 or -5 ("Input/output error"), as QEMU and qemu-img print
     * it; {@link #name} for values without one here.
     */
    public static String strerror(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "Operation not permitted";
            case ENOENT -> "No such file or directory";
            case EIO -> "Input/output error";
            case ENOMEM -> "Cannot allocate memory";
            case EACCES -> "Permission denied";
            case EISDIR -> "Is a directory";
            case EINVAL -> "Invalid argument";
            case EFBIG -> "File too large";
            case ENOSPC -> "No space left on device";
            case EROFS -> "Read-only file system";
            case EOPNOTSUPP -> "Operation not supported";
            case ENXIO -> "No such device or address";
            case ENODEV -> "No such device";
            case EBUSY -> "Device or resource busy";
            case EAGAIN -> "Resource temporarily unavailable";
            case 20 -> "Not a directory";                     // ENOTDIR
            case 36 -> "File name too long";                  // ENAMETOOLONG
            case 40 -> "Too many levels of symbolic links";   // ELOOP
            default -> name(errno);
        };
    }

    /** Parses "EIO", "eio" or "5" (as used by -drive inject-error options); -1 if unknown. */
    public static int parse(String text) {
        String t = text.trim().toUpperCase();
        if (t.matches("\\d+")) {
            return Integer.parseInt(t);
        }
        for (int e = 1; e < 200; e++) {
            if (name(e).equals(t)) {
                return e;
            }
        }
        return -1;
    }
}
