package dev.ioemu.tools.trace;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The summary tells each write's path and fate from the events ioemu writes, in their order. */
class TraceSummaryTest {
    private static String summary(String... lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TraceSummary.summarise(List.of(lines), new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void eachWriteGetsItsPathAndWhoFlushedIt() {
        String s = summary(
                "1@100.000000:blk_write image d.img mode fadvise offset 8192 bytes 512 ret 512 lat_ns 10",
                "1@100.000100:blk_flush image d.img mode fadvise ret 0 lat_ns 10",
                "1@100.000200:int13_sync image d.img lba 16 bytes 512 synced 1 ret 0 lat_ns 100",
                "1@100.000300:int13_disk_op dl 0x80 ah 0x03 lba 16 count 1 buf 0x8000 status 0x00 done 1",
                "1@100.001000:int13_disk_op dl 0x80 ah 0x43 lba 17 count 3 buf 0x8200 status 0x00 done 3",
                "1@100.002000:ide_dma_cb bus 0 ret 0 sector 2048 nsectors 64 write 1",
                "1@100.003000:ide_flush bus 0 unit 0 ret 0",
                "1@100.003100:blk_flush image d.img mode fadvise ret 0 lat_ns 10",
                "1@100.004000:ide_sector_write bus 0 unit 0 sector 4096 nsectors 1",
                "not a trace line");
        assertTrue(s.contains("trace: 10 lines, 9 events (1 lines not in the trace format)"), s);
        assertTrue(s.matches("(?s).*INT 13h AH=03h drive 80h +LBA 16 +flushed by the BIOS, before INT 13h returned\n.*"), s);
        assertTrue(s.matches("(?s).*INT 13h AH=43h drive 80h +LBA 17-19 +flushed by guest FLUSH CACHE after 2\\.100 ms\n.*"), s);
        assertTrue(s.matches("(?s).*IDE DMA +ide0 +LBA 2048-2111 +flushed by guest FLUSH CACHE after 1\\.100 ms\n.*"), s);
        assertTrue(s.matches("(?s).*IDE PIO +ide0\\.0 +LBA 4096 +NOT FLUSHED\n.*"), s);
        assertTrue(s.contains("flushes: 2 (0 failed)"), s);
    }

    @Test
    void aFailedFlushLeavesWritesUnflushedAndAFlushAtExitIsTheHosts() {
        String s = summary(
                "1@5.000000:int13_disk_op dl 0x80 ah 0x43 lba 40 count 2 buf 0x8000 status 0x00 done 2",
                "1@5.000100:blk_flush image d.img mode writeback ret -5 lat_ns 10",
                "1@5.001000:vm_state_change running 0 reason guest-shutdown",
                "1@5.001500:blk_flush image d.img mode writeback ret 0 lat_ns 10");
        assertTrue(s.contains("flushes: 2 (1 failed)"), s);
        assertTrue(s.contains("firmware writes: 1, durable before the guest went on: 0"), s);
        assertTrue(s.matches("(?s).*LBA 40-41 +flushed by host, at VM exit after 1\\.500 ms\n.*"), s);
    }

    @Test
    void cachedFirmwareWritesAreWarnedAbout() {
        String s = summary(
                "1@5.000000:int13_drive image a.img firmware_writes sync",
                "1@5.000000:int13_drive image b.img firmware_writes cache");
        assertTrue(s.contains("warning: b.img has firmware-writes=cache"), s);
        assertTrue(!s.contains("warning: a.img"), s);
    }

    @Test
    void badArgumentsAreAOneLineError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, TraceTool.run(new String[] {"sum"}, System.out, e));
        assertEquals(1, TraceTool.run(new String[] {"summary", "/nonexistent/trace.log"}, System.out, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("/nonexistent/trace.log: No such file or directory"));
    }
}
