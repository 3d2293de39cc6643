package dev.ioemu.tools;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ioemu.tools.trace.TraceTool;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of the tools' file inputs (issue 14), in process: ioemu-trace on mutated and
 * truncated trace logs, ioemu-img info/map on images whose MBR, EBR chain, GPT or qcow2-looking
 * header bytes are mutated. Each run must end within the time bound with status 0 or 1 (or 2 for
 * usage), and print no Java exception or stack trace. {@code -Dioemu.fuzz.seed=N} replays,
 * {@code -Dioemu.fuzz.ops=N} sets the trace logs (images: a fifth of it).
 */
class ToolInputFuzzTest {
    static final long SEED = Long.getLong("ioemu.fuzz.seed", 20261207L);
    static final int INPUTS = Integer.getInteger("ioemu.fuzz.ops", 500);
    /** ioemu-img opens and lock-checks each image (a /proc walk): a fifth as many, three runs each. */
    static final int IMAGES = Math.max(1, INPUTS / 5);
    static final long BOUND_NANOS = 10_000_000_000L;
    static final int SECTOR = 512;

    @TempDir
    Path dir;

    record Run(int status, String out, String err) {
    }

    interface Tool {
        int run(String[] args, PrintStream out, PrintStream err);
    }

    static Run run(Tool tool, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int status;
        try {
            status = tool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
        } catch (RuntimeException | Error e) {
            throw new AssertionError(String.join(" ", args) + ": " + e, e);
        }
        long took = System.nanoTime() - t0;
        assertTrue(took < BOUND_NANOS, String.join(" ", args) + " took " + took / 1_000_000 + " ms");
        Run r = new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        for (String text : List.of(r.out(), r.err())) {
            assertFalse(text.contains("Exception") || text.contains("\tat ") || text.contains("java."),
                    String.join(" ", args) + ": " + text);
        }
        assertTrue(status >= 0 && status <= 2, String.join(" ", args) + ": status " + status + " " + r.err());
        return r;
    }

    static byte[] mutate(Random rnd, byte[] in, int hotStart, int hotEnd) {
        byte[] b = in.clone();
        int edits = 1 + rnd.nextInt(8);
        for (int e = 0; e < edits; e++) {
            int at = hotStart + rnd.nextInt(Math.max(1, hotEnd - hotStart));
            switch (rnd.nextInt(5)) {
                case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> b[at] = (byte) rnd.nextInt(256);
                case 2 -> b[at] = (byte) (rnd.nextBoolean() ? 0xFF : 0x00);
                case 3 -> {
                    // a 32-bit field set to an edge value
                    int v = new int[] {0, 1, -1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE}[rnd.nextInt(6)];
                    int p = Math.min(at & ~3, b.length - 4);
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(p, v);
                }
                default -> {
                    int p = Math.min(at, b.length - 1);
                    b[p] = b[Math.max(0, p - 16 * (1 + rnd.nextInt(4)))];
                }
            }
        }
        return b;
    }

    // ---- ioemu-trace ----

    static final String[] TRACE = {
            "1@100.000000:blk_write image d.img mode fadvise offset 8192 bytes 512 ret 512 lat_ns 10",
            "1@100.000100:blk_flush image d.img mode fadvise ret 0 lat_ns 10",
            "1@100.000200:int13_sync image d.img lba 16 bytes 512 synced 1 ret 0 lat_ns 100",
            "1@100.000300:int13_disk_op dl 0x80 ah 0x03 lba 16 count 1 buf 0x8000 status 0x00 done 1",
            "1@100.001000:int13_disk_op dl 0x80 ah 0x43 lba 17 count 3 buf 0x8200 status 0x00 done 3",
            "1@100.002000:ide_dma_cb bus 0 ret 0 sector 2048 nsectors 64 write 1",
            "1@100.003000:ide_flush bus 0 unit 0 ret 0",
            "1@100.003100:blk_flush image d.img mode fadvise ret 0 lat_ns 10",
            "1@100.004000:ide_sector_write bus 0 unit 0 sector 4096 nsectors 1",
            "1@100.005000:blk_read image d.img mode fadvise offset 0 bytes 4096 ret 4096 lat_ns 2000",
            "12345@1701234567.123456:ide_ioport_write IDE PIO wr @ 0x1f7 (Command) val 0xc8; bus 0x55d0 IDEState 0x55d0",
    };

    @Test
    void ioemuTraceSurvivesMutatedAndTruncatedLogs() throws Exception {
        Random rnd = new Random(SEED);
        byte[] log = (String.join("\n", TRACE) + "\n").getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("t.log");
        int ok = 0;
        int refused = 0;
        for (int i = 0; i < INPUTS; i++) {
            byte[] b;
            switch (rnd.nextInt(4)) {
                case 0 -> b = java.util.Arrays.copyOf(log, rnd.nextInt(log.length + 1));   // truncated
                case 1 -> {
                    // lines repeated, reordered and with huge numbers
                    List<String> lines = new ArrayList<>();
                    for (int k = 0; k < 1 + rnd.nextInt(30); k++) {
                        String l = TRACE[rnd.nextInt(TRACE.length)];
                        if (rnd.nextBoolean()) {
                            l = l.replaceFirst("\\d+", rnd.nextBoolean() ? "99999999999999999999999" : "-1");
                        }
                        lines.add(l);
                    }
                    b = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
                }
                default -> b = mutate(rnd, log, 0, log.length);
            }
            Files.write(file, b);
            for (String cmd : new String[] {"summary", "latency", "sizes", "timeline"}) {
                Run r = run(TraceTool::run, cmd, file.toString());
                if (r.status() == 0) {
                    ok++;
                } else {
                    refused++;
                    assertTrue(!r.err().isBlank(), "a refusal says why: " + cmd);
                }
            }
            Run d = run(TraceTool::run, "diff", file.toString(), file.toString());
            assertTrue(d.status() == 0, "a log equals itself: " + d.err());
        }
        System.out.printf("ToolInputFuzzTest ioemu-trace: seed %d, %d logs x 5 commands (%d answered, %d refused)%n",
                SEED, INPUTS, ok, refused);
    }

    // ---- ioemu-img ----

    /** An MBR with a primary partition and an extended one holding a two-link EBR chain. */
    static byte[] mbrImage() {
        byte[] img = new byte[64 * SECTOR];
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        entry(b, 446, 0x80, 0x83, 2048, 4096);
        entry(b, 462, 0x00, 0x05, 8, 40);          // extended at LBA 8
        b.putShort(510, (short) 0xAA55);
        entry(b, 8 * SECTOR + 446, 0, 0x83, 2, 4);   // logical 1 (relative to its EBR)
        entry(b, 8 * SECTOR + 462, 0, 0x05, 16, 10); // next EBR at 8 + 16
        b.putShort(8 * SECTOR + 510, (short) 0xAA55);
        entry(b, 24 * SECTOR + 446, 0, 0x83, 2, 4);
        b.putShort(24 * SECTOR + 510, (short) 0xAA55);
        return img;
    }

    static void entry(ByteBuffer b, int at, int boot, int type, long start, long count) {
        b.put(at, (byte) boot);
        b.put(at + 4, (byte) type);
        b.putInt(at + 8, (int) start);
        b.putInt(at + 12, (int) count);
    }

    /** A protective MBR, a GPT header with its CRCs, and two partition entries (1 MiB disk). */
    static byte[] gptImage() {
        byte[] img = new byte[64 * SECTOR];
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
        entry(b, 446, 0, 0xEE, 1, 2047);
        b.putShort(510, (short) 0xAA55);
        int h = SECTOR;
        b.put(h, "EFI PART".getBytes(StandardCharsets.US_ASCII));
        b.putInt(h + 8, 0x00010000);
        b.putInt(h + 12, 92);
        b.putLong(h + 24, 1);
        b.putLong(h + 32, 2047);
        b.putLong(h + 40, 34);
        b.putLong(h + 48, 2014);
        b.putLong(h + 72, 2);
        b.putInt(h + 80, 128);
        b.putInt(h + 84, 128);
        for (int p = 0; p < 2; p++) {
            int e = 2 * SECTOR + p * 128;
            b.putLong(e, 0x4433221100112233L + p);   // type GUID (non-zero)
            b.putLong(e + 16, 0x1234 + p);
            b.putLong(e + 32, 34 + p * 100);
            b.putLong(e + 40, 133 + p * 100);
        }
        CRC32 entries = new CRC32();
        entries.update(img, 2 * SECTOR, 128 * 128);
        b.putInt(h + 88, (int) entries.getValue());
        CRC32 header = new CRC32();
        header.update(img, h, 92);
        b.putInt(h + 16, (int) header.getValue());
        return img;
    }

    /** The first bytes of a qcow2 header: ioemu opens images as raw, whatever they look like. */
    static byte[] qcow2LookingImage() {
        byte[] img = new byte[64 * SECTOR];
        ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0, 0x514649FB);
        b.putInt(4, 3);
        b.putInt(20, 16);
        b.putLong(24, 1 << 20);
        b.putInt(36, 1);
        b.putLong(40, 0x30000);
        return img;
    }

    @Test
    void ioemuImgInfoAndMapSurviveMutatedPartitionTablesAndHeaders() throws Exception {
        Random rnd = new Random(SEED);
        byte[][] bases = {mbrImage(), gptImage(), qcow2LookingImage()};
        int[][] hot = {{0, 25 * SECTOR}, {0, 3 * SECTOR}, {0, 128}};
        Path file = dir.resolve("i.img");
        int runs = 0;
        for (int i = 0; i < IMAGES; i++) {
            int k = rnd.nextInt(bases.length);
            byte[] b = mutate(rnd, bases[k], hot[k][0], hot[k][1]);
            if (k == 1 && rnd.nextBoolean()) {
                // keep the header CRC right so the damage reaches the fields behind it
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                int size = Math.max(0, Math.min(bb.getInt(SECTOR + 12), SECTOR));
                bb.putInt(SECTOR + 16, 0);
                CRC32 c = new CRC32();
                c.update(b, SECTOR, size);
                bb.putInt(SECTOR + 16, (int) c.getValue());
            }
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(0);
                f.write(b);
                f.setLength(rnd.nextInt(4) == 0 ? b.length + rnd.nextInt(SECTOR) : 1 << 20);
            }
            run(ImgTool::run, "info", file.toString());
            run(ImgTool::run, "info", "--output=json", file.toString());
            run(ImgTool::run, "map", file.toString());
            runs += 3;
        }
        // a file shorter than one sector, and an empty one
        for (int len : new int[] {0, 1, 511}) {
            Files.write(file, new byte[len]);
            Run r = run(ImgTool::run, "info", file.toString());
            assertTrue(r.status() == 0 || !r.err().isBlank(), r.toString());
            runs++;
        }
        System.out.printf("ToolInputFuzzTest ioemu-img: seed %d, %d runs of info/info json/map on mutated MBR, GPT and"
                + " qcow2-looking headers%n", SEED, runs);
        if (runs == 0) {
            fail("nothing ran");
        }
    }
}
