package dev.ioemu.tools.trace;

/**
 * A guest I/O request seen in a trace, whichever layer logged it: one place decides which events
 * are requests, so summary, sizes and plot agree.
 *
 * @param micros the time, or {@link TraceRecord#NO_TIME}
 * @param path   {@code INT 13h}, {@code IDE PIO}, {@code IDE DMA} (guest-side paths) or
 *               {@code block} (the block layer beneath them all)
 * @param op     {@code read}, {@code write}, {@code flush}, {@code discard}, {@code write-zeroes}
 * @param drive  as {@link TraceRecord#drive()}
 * @param lba    first sector, or -1 (flush)
 * @param bytes  bytes asked for
 * @param ret    0 or the byte count on success, negative errno or a BIOS status on failure
 * @param failed true if the request failed
 */
record IoOp(long micros, String path, String op, String drive, long lba, long bytes, long ret, boolean failed) {
    static final int SECTOR = 512;

    /** True for the guest-side paths (not the block layer they all reach). */
    boolean guestPath() {
        return !path.equals("block");
    }

    /** The request {@code r} describes, or null if it is no request. */
    static IoOp of(TraceRecord r) {
        long t = r.micros();
        switch (r.event()) {
            case "int13_disk_op" -> {
                int ah = (int) r.num("ah", -1);
                String op = switch (ah) {
                    case 0x02, 0x42 -> "read";
                    case 0x03, 0x43 -> "write";
                    case 0x04, 0x44 -> "verify";
                    default -> null;
                };
                if (op == null) {
                    return null;
                }
                long status = r.num("status", 0);
                long done = r.num("done", 0);
                return new IoOp(t, "INT 13h", op, r.drive(), r.num("lba", -1), done * SECTOR, status, status != 0);
            }
            case "ide_sector_read", "ide_sector_write" -> {
                String op = r.event().endsWith("read") ? "read" : "write";
                return new IoOp(t, "IDE PIO", op, r.drive(), r.num("sector", -1), r.num("nsectors", 0) * SECTOR, 0,
                        false);
            }
            case "ide_dma_cb" -> {
                String op;
                if (r.has("write")) {
                    op = r.num("write", 0) != 0 ? "write" : "read";
                } else {
                    String cmd = String.valueOf(r.str("dma_cmd"));
                    op = cmd.contains("WRITE") ? "write" : cmd.contains("TRIM") ? "discard" : "read";
                }
                long ret = r.num("ret", 0);
                long n = r.num("nsectors", 0);
                return n <= 0 ? null : new IoOp(t, "IDE DMA", op, r.drive(), r.num("sector", -1), n * SECTOR, ret, ret < 0);
            }
            case "blk_read", "blk_write", "blk_discard", "blk_write_zeroes" -> {
                long ret = r.num("ret", 0);
                String op = r.event().substring(4).replace('_', '-');
                return new IoOp(t, "block", op, r.drive(), r.num("offset", 0) / SECTOR, r.num("bytes", 0), ret, ret < 0);
            }
            case "blk_flush" -> {
                long ret = r.num("ret", 0);
                return new IoOp(t, "block", "flush", r.drive(), -1, 0, ret, ret < 0);
            }
            default -> {
                return null;
            }
        }
    }
}
