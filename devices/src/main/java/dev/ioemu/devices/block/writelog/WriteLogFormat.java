package dev.ioemu.devices.block.writelog;

/**
 * The write log's format, version 1: what {@link WriteLog} writes and {@link WriteLogReader} reads
 * (issue 14, "Crash-consistency simulator"; the idea is Linux's dm-log-writes). Two files:
 * <ul>
 *   <li>{@code PATH}: UTF-8 text, one record per line, in the order the events happened (one lock
 *       orders them; a record is written after its syscall returned, so the line order is the
 *       completion order);</li>
 *   <li>{@code PATH.data}: the bytes the records' {@code data=} fields point at, concatenated.</li>
 * </ul>
 * The first line is {@code ioemu-write-log 1}. Every other line is {@code TAG SEQ key=value…}:
 * SEQ counts records from 1; numbers are decimal, hashes 16 hex digits; a path is percent-encoded
 * (space, '%', '=' and control characters as %XX). Tags:
 * <pre>
 * open SEQ image=PATH size=BYTES cache=MODE direct=0|1 dsync=0|1   the image was opened (first record)
 * g-req SEQ id=N kind=write|zeroes|discard|flush off=BYTES len=BYTES [fua=1] [h=H,H,…]
 *                      the guest (IDE, INT 13h, ioemu-io: whoever uses the block device) asked;
 *                      h = FNV-1a 64 of each piece of a write cut at 512-byte sector boundaries;
 *                      fua=1: the guest's write cache is off, so a successful completion says the
 *                      data is durable (ATA with WCE off; writethrough and directsync)
 * g-done SEQ id=N ret=R           the guest was told R (bytes ≥ 0 or -errno); flush: 0 or -errno
 * h-old SEQ off=BYTES len=BYTES data=POS   the file's contents before the first write to this range
 *                      (read just before that pwrite), so any state can be rebuilt from the image
 *                      as it was before or after the run
 * h-pwrite SEQ off=BYTES len=BYTES ret=R data=POS direct=0|1 dsync=0|1
 *                      one pwrite(2) as issued to the file; ret bytes at POS were written
 *                      (data=- when it failed)
 * h-fallocate SEQ mode=M off=BYTES len=BYTES ret=R   fallocate(2); M: 1 KEEP_SIZE, 2 PUNCH_HOLE,
 *                      16 ZERO_RANGE (bits, as in linux/falloc.h)
 * h-ioctl SEQ req=BLKDISCARD|BLKZEROOUT off=BYTES len=BYTES ret=R
 * h-ftruncate SEQ size=BYTES ret=R
 * h-sync-begin SEQ call=fdatasync|fsync
 * h-sync SEQ call=fdatasync|fsync ret=R   the call returned R (0 or -errno)
 * h-fadvise SEQ off=BYTES len=BYTES advice=dontneed ret=R   (R: 0 or -error number)
 * close SEQ                       the image was closed (the log is complete)
 * </pre>
 * A reader ignores keys it does not know, so a later version can add keys; a new tag or a changed
 * meaning raises the version.
 */
public final class WriteLogFormat {
    /** The first line of a version-1 log. */
    public static final String MAGIC = "ioemu-write-log";
    public static final int VERSION = 1;
    /** The side file's name: the log's name plus this suffix. */
    public static final String DATA_SUFFIX = ".data";
    /** Guest writes are hashed per piece within one 512-byte sector. */
    public static final int SECTOR = 512;

    public static final String OPEN = "open";
    public static final String GUEST_REQUEST = "g-req";
    public static final String GUEST_DONE = "g-done";
    public static final String HOST_OLD = "h-old";
    public static final String HOST_PWRITE = "h-pwrite";
    public static final String HOST_FALLOCATE = "h-fallocate";
    public static final String HOST_IOCTL = "h-ioctl";
    public static final String HOST_FTRUNCATE = "h-ftruncate";
    public static final String HOST_SYNC_BEGIN = "h-sync-begin";
    public static final String HOST_SYNC = "h-sync";
    public static final String HOST_FADVISE = "h-fadvise";
    public static final String CLOSE = "close";

    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private WriteLogFormat() {
    }

    /** FNV-1a, 64 bits, over {@code length} bytes of {@code data} from {@code offset}. */
    public static long hash(byte[] data, int offset, int length) {
        long h = FNV_OFFSET_BASIS;
        for (int i = offset; i < offset + length; i++) {
            h ^= data[i] & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    /** Percent-encodes space, '%', '=', ',' and control characters so a value is one token. */
    public static String encode(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c <= ' ' || c == '%' || c == '=' || c == ',' || c == 0x7f) {
                b.append('%').append(String.format("%02X", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The inverse of {@link #encode}. */
    public static String decode(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
