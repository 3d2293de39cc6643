package dev.ioemu.tools.trace;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ioemu-trace's views, run as a user runs them: arguments, log files, printed output, exit status. */
class TraceToolTest {
    @TempDir
    Path dir;

    private record Result(int status, String out, String err) { }

    private Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = TraceTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path log(String name, String... lines) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n");
        return p;
    }

    /** QEMU 7.2's own lines for a PIO write, a FLUSH CACHE and a READ DMA (from -trace 'ide_*' -msg timestamp=on). */
    private static final String[] QEMU_LINES = {
            "2001@1796672711.865713:ide_reset IDEstate 0x5636a0ffbc38",
            "2001@1796672711.900000:ide_ioport_write IDE PIO wr @ 0x1f7 (Command); val 0x30; bus 0x5636a0ffbbb0 IDEState 0x5636a0ffbc38",
            "2001@1796672711.900010:ide_exec_cmd IDE exec cmd: bus 0x5636a0ffbbb0; state 0x5636a0ffbc38; cmd 0x30",
            "2001@1796672711.901000:ide_sector_write sector=16 nsectors=1",
            "2001@1796672711.902000:ide_exec_cmd IDE exec cmd: bus 0x5636a0ffbbb0; state 0x5636a0ffbc38; cmd 0xe7",
            "2001@1796672711.903000:ide_dma_cb IDEState 0x5636a0ffbc38; sector_num=2048 n=64 cmd=DMA WRITE",
            "2001@1796672711.904000:ide_dma_cb IDEState 0x5636a0ffbc38; sector_num=4096 n=8 cmd=DMA READ",
            "2001@1796672711.905000:bmdma_reset ",
    };

    @Nested
    class Summary {
        @Test
        void readsQemusOwnLogTimedOrNot() throws Exception {
            Result r = run("summary", log("qemu.log", QEMU_LINES).toString());
            assertEquals(0, r.status, r.err);
            assertTrue(r.out.contains("trace: 8 lines, 8 events\n"), r.out);
            assertTrue(r.out.matches("(?s).*IDE PIO +ide +LBA 16 +flushed by guest FLUSH CACHE after 1\\.000 ms\n.*"), r.out);
            assertTrue(r.out.matches("(?s).*IDE DMA +ide +LBA 2048-2111 +NOT FLUSHED\n.*"), r.out);
            assertTrue(r.out.contains("30h WRITE_SECTORS                    1"), r.out);
            assertTrue(r.out.contains("E7h FLUSH_CACHE                      1"), r.out);
            assertTrue(r.out.contains("IDE DMA read         4096 bytes in 1 requests"), r.out);
            assertTrue(r.out.contains("IDE DMA write        32768 bytes in 1 requests"), r.out);
            assertTrue(r.out.contains("warning: the seed's bug: 1 writes (64 sectors) were never followed by a successful flush"), r.out);
            String untimed = String.join("\n", Arrays.stream(QEMU_LINES).map(l -> l.substring(l.indexOf(':') + 1)).toList());
            Result u = run("summary", log("untimed.log", untimed).toString());
            assertTrue(u.out.contains("trace: 8 lines, 8 events\n"), u.out);
            assertTrue(u.out.matches("(?s).*\\? +IDE PIO +ide +LBA 16 +flushed by guest FLUSH CACHE\n.*"), u.out);
        }

        @Test
        void countsCommandsFunctionsErrorsAndBytesByPath() throws Exception {
            Result r = run("summary", log("t.log",
                    "1@10.000000:ide_exec_cmd bus 0 unit 0 cmd 0xca (WRITE_DMA)",
                    "1@10.000100:ide_dma_cb bus 0 ret 4096 sector 100 nsectors 8 write 1",
                    "1@10.000200:ide_exec_cmd bus 0 unit 0 cmd 0xc6 (SET_MULTIPLE_MODE)",
                    "1@10.000210:ide_cmd_complete bus 0 unit 0 cmd 0xc6 status 0x51 error 0x04 lat_ns 100",
                    "1@10.000300:int13_disk_op dl 0x80 ah 0x42 lba 5 count 2 buf 0x7c00 status 0x00 done 2",
                    "1@10.000400:int13_disk_op dl 0x80 ah 0x42 lba 99999 count 1 buf 0x7c00 status 0x01 done 0",
                    "1@10.000500:ide_sector_read bus 0 unit 0 sector 7 nsectors 1",
                    "1@10.000600:blk_write image d.img mode none offset 0 bytes 512 ret -28 lat_ns 50").toString());
            assertEquals(0, r.status);
            assertTrue(r.out.contains("C6h SET_MULTIPLE_MODE                1 (1 with ERR)"), r.out);
            assertTrue(r.out.contains("CAh WRITE_DMA                        1\n"), r.out);
            assertTrue(r.out.contains("AH=42h extended read                 2 (1 failed)"), r.out);
            assertTrue(r.out.contains("INT 13h read         1024 bytes in 1 requests"), r.out);
            assertTrue(r.out.contains("IDE PIO read         512 bytes in 1 requests"), r.out);
            assertTrue(r.out.contains("IDE DMA write        4096 bytes in 1 requests"), r.out);
            assertTrue(r.out.matches("(?s).*\n  ATA command ended with ERR +1\n.*"), r.out);
            assertTrue(r.out.matches("(?s).*\n  INT 13h returned an error status +1\n.*"), r.out);
            assertTrue(r.out.matches("(?s).*\n  blk_write failed +1\n.*"), r.out);
            assertTrue(r.out.contains("e.g. line 4: ide_cmd_complete"), r.out);
        }

        @Test
        void warnsOfFailedFlushesResetsDuringIoAndFirmwareWritesInTheHostCache() throws Exception {
            Result r = run("summary", log("t.log",
                    "1@5.000000:int13_drive image /x/a.img firmware_writes cache",
                    "1@5.000100:int13_disk_op dl 0x80 ah 0x03 lba 16 count 1 buf 0x8000 status 0x00 done 1",
                    "1@5.000200:bmdma_cmd_writeb bus 0 val 0x09",
                    "1@5.000300:system_reset_request source i8042",
                    "1@5.000400:blk_flush image /x/a.img mode writeback ret -5 lat_ns 10").toString());
            assertTrue(r.out.contains("warning: 1 flushes failed"), r.out);
            assertTrue(r.out.contains("    line 5: blk_flush image /x/a.img mode writeback ret -5 lat_ns 10"), r.out);
            assertTrue(r.out.contains("warning: 1 guest resets while I/O was in flight:"), r.out);
            assertTrue(r.out.contains("line 4: system_reset_request source i8042 while bus-master DMA on ide0 was in flight"), r.out);
            assertTrue(r.out.contains("warning: /x/a.img has firmware-writes=cache"), r.out);
            assertTrue(r.out.contains("warning: 1 of 1 firmware (INT 13h) writes were left in the host cache"), r.out);
            assertTrue(r.out.contains("warning: the seed's bug: 1 writes (1 sectors)"), r.out);
        }

        @Test
        void aResetWithNothingInFlightIsNoWarning() throws Exception {
            Result r = run("summary", log("t.log",
                    "1@5.000200:bmdma_cmd_writeb bus 0 val 0x09",
                    "1@5.000250:bmdma_cmd_writeb bus 0 val 0x00",
                    "1@5.000300:ide_reset bus 0 kind srst").toString());
            assertFalse(r.out.contains("resets while I/O"), r.out);
        }
    }

    @Test
    void malformedTruncatedAndOverlongLinesAreSkippedAndCounted() throws Exception {
        Path p = dir.resolve("bad.log.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(("1@1.000000:ide_sector_write bus 0 unit 0 sector 1 nsectors 1\n"
                    + "1@1.000001:ide_sector_write bus 0 unit 0 sec\n"          // cut short
                    + "x".repeat(200_000) + "\n"                              // not a line anyone wrote
                    + "\u0000\u00ff garbage\n"
                    + "1@1.000002:some_future_event a 1\n"                    // unknown but well-formed
                    + "1@1.000003:ide_sector_write bus 0 unit 0 sector 2 nsectors 1").getBytes(StandardCharsets.ISO_8859_1));
        }
        Result r = run("summary", p.toString());
        assertEquals(0, r.status, r.err);
        assertTrue(r.out.contains("trace: 6 lines, 3 events (3 lines not in the trace format) (1 events of no known catalogue)"),
                r.out);
        assertTrue(r.out.contains("total IDE PIO        2 sectors in 2 requests"), r.out);
    }

    @Test
    void latencyGivesPercentilesPerOperationAndDrive() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 100; i++) {
            sb.append(String.format("1@1.%06d:blk_write image /i/a.img mode none offset 0 bytes 4096 ret 4096 lat_ns %d%n",
                    i, i * 10_000));
        }
        sb.append("1@2.000000:blk_flush image /i/b.img mode none ret 0 lat_ns 3000000\n");
        Result r = run("latency", log("l.log", sb.toString()).toString());
        assertEquals(0, r.status);
        assertTrue(r.out.matches("(?s).*block write +a\\.img +100 +49\\d\\.\\d +89\\d\\.\\d +98\\d\\.\\d +1000\\.0\n.*"), r.out);
        assertTrue(r.out.matches("(?s).*block flush +b\\.img +1 +3000\\.0 +3000\\.0 +3000\\.0 +3000\\.0\n.*"), r.out);
        Result only = run("latency", "--drive", "b.*", dir.resolve("l.log").toString());
        assertFalse(only.out.contains("a.img"), only.out);
        Result qemu = run("latency", log("q.log", QEMU_LINES).toString());
        assertTrue(qemu.out.contains("no event with a latency field"), qemu.out);
    }

    @Test
    void histogramPercentilesStayWithinTwoPercentOfExact() {
        Random rnd = new Random(20261207);
        Histogram h = new Histogram();
        long[] values = new long[50_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (long) Math.exp(rnd.nextDouble() * 20);
            h.add(values[i]);
        }
        Arrays.sort(values);
        for (double q : new double[] {0.5, 0.9, 0.99}) {
            long exact = values[(int) Math.ceil(q * values.length) - 1];
            assertTrue(Math.abs(h.percentile(q) - exact) <= exact * 0.02 + 1, q + ": " + h.percentile(q) + " vs " + exact);
        }
        assertEquals(values[values.length - 1], h.max());
    }

    @Test
    void sizesHistogramPerPathAndDrive() throws Exception {
        Result r = run("sizes", log("s.log",
                "1@1.000000:ide_dma_cb bus 0 ret 65536 sector 0 nsectors 128 write 0",
                "1@1.000001:ide_dma_cb bus 0 ret 65536 sector 128 nsectors 128 write 0",
                "1@1.000002:ide_dma_cb bus 0 ret 4096 sector 9 nsectors 8 write 1").toString());
        assertTrue(r.out.matches("(?s).*IDE DMA read +ide0 +2 +131072 +65536 +65536 +65536\n.*"), r.out);
        assertTrue(r.out.matches("(?s).*IDE DMA write +ide0 +1 +4096 +4096 +4096 +4096\n.*"), r.out);
        assertTrue(r.out.matches("(?s).*\\[ +65536, +131072\\) #{40} 2\n.*"), r.out);
    }

    @Test
    void timelineFiltersByDriveEventAndWindow() throws Exception {
        Path p = log("t.log",
                "1@1.000000:ide_exec_cmd bus 0 unit 0 cmd 0xc8 (READ_DMA)",
                "1@1.001000:ide_exec_cmd bus 1 unit 0 cmd 0xa0 (PACKET)",
                "1@1.002000:ide_dma_cb bus 0 ret 512 sector 1 nsectors 1 write 0",
                "1@1.500000:ide_exec_cmd bus 0 unit 0 cmd 0xe7 (FLUSH_CACHE)");
        Result r = run("timeline", "--drive", "ide0*", "--event", "ide_exec_cmd", "--to", "100ms", p.toString());
        assertEquals("     +0.000000 s  ide_exec_cmd             ide0.0       bus 0 unit 0 cmd 0xc8 (READ_DMA)\n", r.out);
        Result w = run("timeline", "--from", "1ms", "--to", "0.002", p.toString());
        assertEquals(2, w.out.lines().count(), w.out);
    }

    @Test
    void diffShowsTheFirstDivergenceWithContext() throws Exception {
        Path a = log("a.log", QEMU_LINES);
        Path b = log("b.log",
                "7@1.000000:ide_ioport_write IDE PIO wr @ 0x7 (Command); val 0x30; bus 0",
                "7@1.000001:ide_exec_cmd bus 0 unit 0 cmd 0x30 (WRITE_SECTORS)",
                "7@1.000002:ide_sector_write bus 0 unit 0 sector 16 nsectors 1",
                "7@1.000003:ide_exec_cmd bus 0 unit 0 cmd 0xea (FLUSH_CACHE_EXT)",
                "7@1.000004:ide_dma_cb bus 0 ret 0 sector 2048 nsectors 64 write 1",
                "7@1.000005:ide_dma_cb bus 0 ret 0 sector 4096 nsectors 8 write 0");
        Result r = run("diff", "--context", "1", a.toString(), b.toString());
        assertEquals(1, r.status, r.out);
        assertTrue(r.out.contains("comparing 4 event types both traces have: ide_dma_cb ide_exec_cmd ide_ioport_write ide_sector_write"), r.out);
        assertTrue(r.out.contains("only in A (not compared): bmdma_reset ide_reset"), r.out);
        assertTrue(r.out.contains("first divergence at compared event #4: cmd 0xe7 vs 0xea"), r.out);
        assertTrue(r.out.contains("  A line 4        ide_sector_write sector=16 nsectors=1\n"
                + "  B line 3        ide_sector_write bus 0 unit 0 sector 16 nsectors 1\n"
                + "> A line 5        ide_exec_cmd"), r.out);
        Path same = log("c.log", Files.readAllLines(b).stream().map(l -> l.replace("0xea (FLUSH_CACHE_EXT)", "0xe7 (FLUSH_CACHE)"))
                .toArray(String[]::new));
        Result ok = run("diff", a.toString(), same.toString());
        assertEquals(0, ok.status, ok.out);
        assertTrue(ok.out.contains("no divergence: 6 events agree"), ok.out);
    }

    @Test
    void plotWritesOneSelfContainedHtmlFile() throws Exception {
        Path out = dir.resolve("p.html");
        Result r = run("plot", "-o", out.toString(), log("q.log", QEMU_LINES).toString());
        assertEquals(0, r.status, r.err);
        String html = Files.readString(out);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        // The SVG namespace is a name, not a fetch; anything else that could reach the network is refused.
        assertFalse(html.replace("'http://www.w3.org/2000/svg'", "")
                .matches("(?s).*(src=|href=|https?:|@import|url\\(|<link|<iframe).*"), "no external resources");
        assertTrue(html.contains("\"name\":\"IDE DMA ide\""), html);
    }

    @Test
    void badArgumentsAreOneLineErrors() throws Exception {
        assertEquals(2, run().status);
        Result r = run("sumary", "x.log");
        assertEquals(2, r.status);
        assertEquals("ioemu-trace: unknown command 'sumary' (expected: summary, latency, sizes, timeline, diff, plot)\n", r.err);
        assertEquals(2, run("timeline", "--from", "soon", "x.log").status);
        assertEquals(2, run("diff", "a.log").status);
        assertEquals(2, run("latency", "--bogus", "a.log").status);
        Result missing = run("summary", dir.resolve("nope.log").toString());
        assertEquals(1, missing.status);
        assertEquals("ioemu-trace: " + dir.resolve("nope.log") + ": No such file or directory\n", missing.err);
        assertTrue(run("--help").out.startsWith("usage: ioemu-trace summary LOG..."));
    }
}
