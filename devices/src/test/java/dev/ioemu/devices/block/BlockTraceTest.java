package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.devices.trace.Trace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every request is traced with offset, length, mode, result and latency when {@code blk_*} is
 * on, and counted in {@link BlockStats} (the query-blockstats vocabulary) either way.
 */
@ExtendWith(NoLeakedBuffers.class)
class BlockTraceTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream sink = new ByteArrayOutputStream();

    @AfterEach
    void restoreTracing() {
        Trace.disableAll();
        Trace.setOutput(System.err);
    }

    @Test
    void everyRequestKindEmitsItsEventWithModeResultAndLatency() throws Exception {
        Path file = TestImages.randomImage(dir, "t.img", 1 << 20, 1);
        Trace.setOutput(new PrintStream(sink, true, StandardCharsets.UTF_8));
        Trace.enable("blk_*");
        DriveOptions options = DriveOptions.parse("file=" + file + ",cache=none,x-align=4096,discard=unmap,"
                + "inject-error.0.iotype=read,inject-error.0.sector=1000,inject-error.0.errno=EIO");
        try (BlockDevice dev = BlockDevices.open(options)) {
            assertEquals(700, dev.write(100, ByteBuffer.allocate(700)));
            assertEquals(4096, dev.read(0, ByteBuffer.allocate(4096)));
            assertEquals(-Errno.EIO, dev.read(1000 * 512, ByteBuffer.allocate(512)));
            assertEquals(0, dev.flush());
            assertEquals(0, dev.discard(8192, 4096));
            assertEquals(0, dev.writeZeroes(16384, 4096));
        }
        String trace = sink.toString(StandardCharsets.UTF_8);
        for (String expected : List.of(
                ":blk_open image " + file + " mode none readonly 0 size 1048576 request_align 4096",
                ":blk_rmw image " + file + " offset 100 bytes 700 aligned_offset 0 aligned_bytes 4096",
                ":blk_write image " + file + " mode none offset 100 bytes 700 ret 700 lat_ns ",
                ":blk_bounce image " + file + " offset 0 bytes 4096 reason heap buffer",
                ":blk_read image " + file + " mode none offset 0 bytes 4096 ret 4096 lat_ns ",
                ":blk_inject_error image " + file + " op read offset 512000 errno 5",
                ":blk_host_flush image " + file + " generation 1 ret 0 lat_ns ",
                ":blk_flush image " + file + " mode none ret 0 lat_ns ",
                ":blk_discard image " + file + " mode none offset 8192 bytes 4096 ret 0 lat_ns ",
                ":blk_write_zeroes image " + file + " mode none offset 16384 bytes 4096 ret 0 lat_ns ")) {
            assertTrue(trace.contains(expected), "missing '" + expected + "' in:\n" + trace);
        }
    }

    @Test
    void statsCountOperationsBytesAndFailures() throws Exception {
        Path file = TestImages.randomImage(dir, "s.img", 1 << 20, 2);
        try (BlockDevice dev = BlockDevices.open(DriveOptions.parse("file=" + file
                + ",inject-error.0.iotype=write,inject-error.0.once=on,inject-error.0.after=2"))) {
            for (int i = 0; i < 4; i++) {
                dev.write(i * 512L, ByteBuffer.allocate(512));
            }
            dev.read(0, ByteBuffer.allocate(2048));
            dev.flush();
            BlockStats s = dev.stats();
            assertEquals(3, s.operations(BlockStats.Kind.WRITE));
            assertEquals(1, s.failed(BlockStats.Kind.WRITE));
            assertEquals(3 * 512, s.bytes(BlockStats.Kind.WRITE));
            assertEquals(2048, s.bytes(BlockStats.Kind.READ));
            assertEquals(1, s.operations(BlockStats.Kind.FLUSH));
            assertTrue(s.totalTimeNanos(BlockStats.Kind.WRITE) > 0);
        }
    }
}
