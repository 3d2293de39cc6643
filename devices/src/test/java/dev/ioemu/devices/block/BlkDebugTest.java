package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's blkdebug driver over a raw image (block/blkdebug.c): the config file QEMU's IDE and AHCI
 * tests write (libqos {@code prepare_blkdebug_script}), state changes, sector-selected errors and
 * breakpoints with resume/remove, driven through {@link BlockDevices#open} as the emulator opens a
 * {@code -drive file=blkdebug:CONFIG:IMAGE}.
 */
@ExtendWith(NoLeakedBuffers.class)
class BlkDebugTest {
    @TempDir
    Path dir;

    private Path image() throws Exception {
        return TestImages.randomImage(dir, "d.img", 1 << 20, 7);
    }

    private Path config(String text) throws Exception {
        Path f = dir.resolve("rules.cfg");
        Files.writeString(f, text);
        return f;
    }

    private BlockDevice open(String spec) throws Exception {
        return BlockDevices.open(DriveOptions.parse(spec));
    }

    /** libqos prepare_blkdebug_script(path, "flush_to_disk"), byte for byte. */
    static final String RETRY_FLUSH_RULES = "[inject-error]\nevent = \"flush_to_disk\"\nerrno = \"5\"\n"
            + "state = \"1\"\nimmediately = \"off\"\nonce = \"on\"\n[set-state]\nevent = \"flush_to_disk\"\n"
            + "new_state = \"2\"\n";

    @Nested
    class RulesFile {
        @Test
        void theFirstDirtyFlushFailsOnceWithEioThenTheRetrySucceeds() throws Exception {
            Path img = image();
            try (BlockDevice dev = open("file=blkdebug:" + config(RETRY_FLUSH_RULES) + ":" + img)) {
                BlkDebug dbg = BlkDebug.find(dev);
                assertNotNull(dbg);
                assertEquals(0, dev.flush(), "clean: no flush events, no error");
                assertEquals(512, dev.write(512, ByteBuffer.allocate(512)));
                assertEquals(-Errno.EIO, dev.flush());
                assertEquals(2, dbg.state(), "set-state ran on flush_to_disk");
                assertEquals(0, dev.flush(), "the once-rule is gone: the retried flush succeeds");
                assertEquals(512, dev.write(0, ByteBuffer.allocate(512)));
                assertEquals(0, dev.flush(), "the rule fired in state 1 only");
                assertEquals(1, dev.stats().failed(BlockStats.Kind.FLUSH));
            }
        }

        @Test
        void aSectorRuleFailsOnlyRequestsContainingThatSector() throws Exception {
            Path cfg = config("# comment\n[inject-error]\nevent = \"read_aio\"\niotype = \"read\"\nsector = \"8\"\n");
            try (BlockDevice dev = open("file=blkdebug:" + cfg + ":" + image())) {
                assertEquals(512, dev.read(0, ByteBuffer.allocate(512)));
                assertEquals(-Errno.EIO, dev.read(8 * 512, ByteBuffer.allocate(512)));
                assertEquals(-Errno.EIO, dev.read(7 * 512, ByteBuffer.allocate(1024)));
                assertEquals(512, dev.write(8 * 512, ByteBuffer.allocate(512)), "iotype=read only");
            }
        }

        @Test
        void badConfigFilesAreRefusedWithFileAndLine() throws Exception {
            Path img = image();
            Path bad = config("[inject-error]\nevent = \"no_such_event\"\n");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> open("file=blkdebug:" + bad + ":" + img));
            assertTrue(e.getMessage().startsWith(bad + ":1: event: 'no_such_event'"), e.getMessage());
            Path unknownKey = config("[set-state]\nevent = \"read_aio\"\nfoo = \"1\"\n");
            e = assertThrows(IllegalArgumentException.class, () -> open("file=blkdebug:" + unknownKey + ":" + img));
            assertTrue(e.getMessage().contains("Invalid parameter 'foo'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> open("file=blkdebug:" + dir.resolve("missing.cfg") + ":" + img));
            assertTrue(e.getMessage().startsWith("Could not read blkdebug config file"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> open("file=blkdebug:" + img));
            assertTrue(e.getMessage().contains("expected: blkdebug:[CONFIG]:IMAGE"), e.getMessage());
        }

        @Test
        void inlineRulesWorkLikeFileRules() throws Exception {
            try (BlockDevice dev = open("file=" + image() + ",blkdebug.inject-error.0.event=write_aio,"
                    + "blkdebug.inject-error.0.errno=28,blkdebug.inject-error.0.once=on")) {
                assertEquals(-Errno.ENOSPC, dev.write(0, ByteBuffer.allocate(512)));
                assertEquals(512, dev.write(0, ByteBuffer.allocate(512)));
            }
        }
    }

    @Nested
    class Breakpoints {
        @Test
        void aFlushWaitsAtItsBreakpointUntilResumed() throws Exception {
            try (BlockDevice dev = open("file=blkdebug::" + image())) {
                BlkDebug dbg = BlkDebug.find(dev);
                assertEquals(512, dev.write(0, ByteBuffer.allocate(512)));
                assertEquals(0, dbg.addBreakpoint("flush_to_os", "A"));
                CompletableFuture<Integer> flush = CompletableFuture.supplyAsync(dev::flush);
                assertTrue(dbg.awaitSuspended("A", 10, TimeUnit.SECONDS));
                assertFalse(flush.isDone(), "held at the breakpoint");
                assertEquals(0, dbg.resume("A"));
                assertEquals(0, flush.get(10, TimeUnit.SECONDS));
                assertFalse(dbg.isSuspended("A"));
                assertEquals(-Errno.ENOENT, dbg.resume("A"), "nothing left to resume");
            }
        }

        @Test
        void removeBreakReleasesHeldRequestsAndDisarms() throws Exception {
            try (BlockDevice dev = open("file=blkdebug::" + image())) {
                BlkDebug dbg = BlkDebug.find(dev);
                assertEquals(0, dbg.addBreakpoint("read_aio", "R"));
                CompletableFuture<Integer> read = CompletableFuture.supplyAsync(
                        () -> dev.read(0, ByteBuffer.allocate(512)));
                assertTrue(dbg.awaitSuspended("R", 10, TimeUnit.SECONDS));
                assertEquals(0, dbg.removeBreakpoint("R"));
                assertEquals(512, read.get(10, TimeUnit.SECONDS));
                assertEquals(-Errno.ENOENT, dbg.removeBreakpoint("R"));
                assertFalse(dbg.awaitSuspended("R", 1, TimeUnit.MILLISECONDS), "no breakpoint armed");
            }
        }

        @Test
        void unknownEventsAreRefusedWithEnoent() throws Exception {
            try (BlockDevice dev = open("file=blkdebug::" + image())) {
                assertEquals(-Errno.ENOENT, BlkDebug.find(dev).addBreakpoint("flush_to_nowhere", "A"));
            }
        }

        @Test
        void aHeldRequestOnAnIoThreadCountsAsSettled() throws Exception {
            try (BlockDevice dev = open("file=blkdebug::" + image());
                 BlockAio aio = new BlockAio(dev, "blkdebug-test")) {
                BlkDebug dbg = BlkDebug.find(dev);
                assertEquals(0, dbg.addBreakpoint("read_aio", "R"));
                CompletableFuture<Integer> done = new CompletableFuture<>();
                aio.read(0, ByteBuffer.allocate(512), done::complete);
                assertTrue(InFlightIo.awaitSettled(10, TimeUnit.SECONDS), "parked requests do not block settling");
                assertTrue(dbg.isSuspended("R"));
                assertEquals(0, dbg.resume("R"));
                assertEquals(512, done.get(10, TimeUnit.SECONDS));
                assertTrue(InFlightIo.awaitSettled(10, TimeUnit.SECONDS));
                assertEquals(0, InFlightIo.unsettled());
            }
        }
    }
}
