package dev.ioemu.tests.crash;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.writelog.WriteLogFormat;
import dev.ioemu.tools.ImgTool;
import dev.ioemu.tools.IoTool;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash model of {@code ioemu-img crashcheck} on hand-written logs (each case one rule of
 * WriteLogFormat / issue 14), the recorder through {@code ioemu-io --write-log}, and the tool's
 * answers to bad input.
 */
class CrashCheckModelTest {
    static final int SIZE = 64 * 1024;

    @TempDir
    Path dir;

    /** Builds a log and its side file: the host's pwrite data and h-old contents. */
    final class LogBuilder {
        final List<String> lines = new ArrayList<>();
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        long seq;
        long id;

        LogBuilder(String cache) {
            lines.add(WriteLogFormat.MAGIC + " " + WriteLogFormat.VERSION);
            add("open", "image=disk.img size=" + SIZE + " cache=" + cache + " direct=0 dsync=0");
        }

        void add(String tag, String fields) {
            lines.add(tag + " " + (++seq) + (fields.isEmpty() ? "" : " " + fields));
        }

        /** A guest write of one sector of {@code fill} at {@code sector}; returns its id (not yet done). */
        long guestWrite(int sector, int fill) {
            byte[] b = sector(fill);
            add("g-req", "id=" + (++id) + " kind=write off=" + sector * 512 + " len=512 h="
                    + String.format("%016x", WriteLogFormat.hash(b, 0, 512)));
            return id;
        }

        void hostWrite(int sector, int fill, boolean dsync) {
            long at = data.size();
            data.writeBytes(new byte[512]);   // h-old: the image was zeros
            add("h-old", "off=" + sector * 512 + " len=512 data=" + at);
            at = data.size();
            data.writeBytes(sector(fill));
            add("h-pwrite", "off=" + sector * 512 + " len=512 ret=512 data=" + at + " direct=0 dsync="
                    + (dsync ? 1 : 0));
        }

        void done(long requestId, int ret) {
            add("g-done", "id=" + requestId + " ret=" + ret);
        }

        long flushRequest() {
            add("g-req", "id=" + (++id) + " kind=flush off=0 len=0");
            return id;
        }

        void sync(int ret) {
            add("h-sync-begin", "call=fdatasync");
            add("h-sync", "call=fdatasync ret=" + ret);
        }

        /** Write + ack + flush whose host sync returns {@code syncRet} and whose guest sees {@code flushRet}. */
        void writeAndFlush(int sector, int fill, int syncRet, int flushRet) {
            long w = guestWrite(sector, fill);
            hostWrite(sector, fill, false);
            done(w, 512);
            long f = flushRequest();
            sync(syncRet);
            done(f, flushRet);
        }

        Path save(String name) throws IOException {
            add("close", "");
            Path log = dir.resolve(name);
            Files.write(log, lines);
            Files.write(Path.of(log + WriteLogFormat.DATA_SUFFIX), data.toByteArray());
            return log;
        }
    }

    static byte[] sector(int fill) {
        byte[] b = new byte[512];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    Path zeroImage() throws IOException {
        Path img = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        return img;
    }

    record Run(int exit, String out, String err) {
    }

    static Run img(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = ImgTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Run check(Path log, String... options) throws IOException {
        List<String> a = new ArrayList<>(List.of("crashcheck"));
        a.addAll(List.of(options));
        a.add(log.toString());
        a.add(zeroImage().toString());
        return img(a.toArray(String[]::new));
    }

    @Nested
    class CrashModel {
        @Test
        void aWriteFlushedByACompletedSyncIsInEveryState() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(3, 0xaa, 0, 0);
            Run r = check(b.save("ok.log"));
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("states failing: 0"), r.out());
        }

        @Test
        void aFlushTheGuestSawCompleteButWhoseSyncFailedLosesTheWrite() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(3, 0xaa, -5, 0);
            Run r = check(b.save("lie.log"));
            assertEquals(2, r.exit(), r.out());
            assertTrue(r.out().contains("sector 3 (offset 1536) lacks write id 1"), r.out());
        }

        @Test
        void aWriteThatReachedTheFileOnlyAfterTheSyncBeganIsNotCoveredByIt() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            long w = b.guestWrite(5, 0x11);
            b.done(w, 512);   // acknowledged early (a host that answers before writing)
            long f = b.flushRequest();
            b.add("h-sync-begin", "call=fdatasync");
            b.hostWrite(5, 0x11, false);
            b.add("h-sync", "call=fdatasync ret=0");
            b.done(f, 0);
            Run r = check(b.save("late.log"));
            assertEquals(2, r.exit(), r.out());
            assertTrue(r.out().contains("lacks write id 1"), r.out());
        }

        @Test
        void anODsyncWriteIsDurableWithoutASync() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            long w = b.guestWrite(7, 0x22);
            b.hostWrite(7, 0x22, true);
            b.done(w, 512);
            long f = b.flushRequest();
            b.done(f, 0);
            Run r = check(b.save("dsync.log"));
            assertEquals(0, r.exit(), r.out());
            assertTrue(r.out().contains("1 O_DSYNC"), r.out());
        }

        @Test
        void aFailedGuestFlushPromisesNothing() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(3, 0xaa, -5, -5);
            Run r = check(b.save("failed.log"));
            assertEquals(0, r.exit(), r.out());
            assertTrue(r.out().contains("1 failed; host"), r.out());
        }

        @Test
        void aLaterUnflushedWriteMayReplaceAFlushedOne() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(3, 0xaa, 0, 0);
            long w = b.guestWrite(3, 0xbb);
            b.hostWrite(3, 0xbb, false);
            b.done(w, 512);
            Run r = check(b.save("newer.log"));
            assertEquals(0, r.exit(), r.out());
        }

        @Test
        void aWriteAcknowledgedWithTheWriteCacheOffIsAPromiseByItself() throws IOException {
            LogBuilder b = new LogBuilder("writethrough");
            b.add("g-req", "id=1 kind=write off=512 len=512 fua=1 h="
                    + String.format("%016x", WriteLogFormat.hash(sector(0x33), 0, 512)));
            b.hostWrite(1, 0x33, false);
            b.done(1, 512);   // no sync at all: a host that forgot FUA
            b.id = 1;
            Run r = check(b.save("fua.log"));
            assertEquals(2, r.exit(), r.out());
            assertTrue(r.out().contains("acknowledged as durable with the write cache off"), r.out());
        }

        @Test
        void sameLogAndSeedGiveTheSameOutputAndTornSectorsMakeMoreStates() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            for (int i = 0; i < 4; i++) {
                long w = b.guestWrite(8 + i, 0x40 + i);
                b.done(w, 512);
            }
            // One pwrite of all four sectors, then a sync.
            long at = b.data.size();
            b.data.writeBytes(new byte[2048]);
            b.add("h-old", "off=4096 len=2048 data=" + at);
            at = b.data.size();
            for (int i = 0; i < 4; i++) {
                b.data.writeBytes(sector(0x40 + i));
            }
            b.add("h-pwrite", "off=4096 len=2048 ret=2048 data=" + at + " direct=0 dsync=0");
            long f = b.flushRequest();
            b.sync(0);
            b.done(f, 0);
            Path log = b.save("multi.log");
            Run torn = check(log, "--seed", "7");
            assertEquals(torn.out(), check(log, "--seed", "7").out());
            Run whole = check(log, "--torn", "none");
            assertEquals(0, torn.exit(), torn.out());
            // Before the sync: 2^4 subsets of the four sectors; whole: the write or not.
            assertTrue(torn.out().contains("states checked: 18"), torn.out());
            assertTrue(whole.out().contains("states checked: 4"), whole.out());
        }

        @Test
        void aCheckCommandJudgesEachStateImage() throws IOException {
            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(3, 0xaa, 0, 0);
            Path log = b.save("cmd.log");
            Run ok = check(log, "--check", "test -s {}");
            assertEquals(0, ok.exit(), ok.out() + ok.err());
            Run bad = check(log, "--check", "echo nope {}; exit 3");
            assertEquals(2, bad.exit(), bad.out());
            assertTrue(bad.out().contains("check command exited 3: nope "), bad.out());
        }
    }

    @Nested
    class Recorder {
        @Test
        void ioemuIoRecordsBothSidesAndTheLogReplays() throws IOException {
            for (String mode : List.of("writeback", "none", "fadvise", "unsafe")) {
                Path img = dir.resolve(mode + ".img");
                try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
                    f.setLength(1 << 20);
                }
                Path base = dir.resolve(mode + "-base.img");
                Files.copy(img, base);
                Path log = dir.resolve(mode + ".log");
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int exit = IoTool.run(new String[] {"--cache", mode, "--write-log", log.toString(),
                        "-c", "write -P 0x5a 4096 8k", "-c", "flush", "-c", "write -z 65536 64k",
                        "-c", "write -P 0x11 1000 100", "-c", "flush", img.toString()},
                        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
                assertEquals(0, exit, err.toString());
                String text = Files.readString(log);
                assertTrue(text.startsWith("ioemu-write-log 1\nopen 1 image="), text);
                assertTrue(text.contains(" cache=" + mode + " direct=" + (mode.equals("none") ? 1 : 0)), text);
                assertTrue(text.contains("kind=zeroes off=65536 len=65536"), text);
                assertTrue(text.contains("h-pwrite") && text.contains("h-old"), text);
                assertEquals(!mode.equals("unsafe"), text.contains("h-sync 1") || text.contains("call=fdatasync ret=0"),
                        text);
                assertEquals(mode.equals("fadvise"), text.contains("h-fadvise"), text);
                assertTrue(text.endsWith("\n") && text.contains("\nclose "), text);
                // Before or after the run, the same verdict.
                Run before = img("crashcheck", log.toString(), base.toString());
                Run after = img("crashcheck", log.toString(), img.toString());
                int expected = mode.equals("unsafe") ? 2 : 0;
                assertEquals(expected, before.exit(), before.out() + before.err());
                assertEquals(expected, after.exit(), after.out() + after.err());
                assertTrue(after.out().contains("IMAGE differs from the start"), after.out());
                assertFalse(after.out().contains("differs from the start in 0 "), after.out());
            }
        }

        @Test
        void aSecondDriveCannotShareALog() throws Exception {
            Path log = dir.resolve("shared.log");
            Path other = dir.resolve("other.img");
            Files.write(other, new byte[SIZE]);
            try (BlockDevice first = BlockDevices.open(DriveOptions.of(zeroImage().toString())
                    .withWriteLog(log.toString()))) {
                BlockOpenException e = assertThrows(BlockOpenException.class, () -> BlockDevices.open(
                        DriveOptions.of(other.toString()).withWriteLog(log.toString())));
                assertTrue(e.getMessage().contains("is in use by another drive"), e.getMessage());
                assertEquals(512, first.write(0, ByteBuffer.wrap(sector(1))), "the first drive still logs");
            }
            assertTrue(Files.readString(log).contains("g-req 2 id=1 kind=write off=0 len=512"));
        }

        @Test
        void aReadOnlyImageKeepsNoLog() throws IOException {
            Path img = zeroImage();
            Path log = dir.resolve("x.log");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = IoTool.run(new String[] {"-r", "--write-log", log.toString(), "-c", "read 0 512",
                    img.toString()}, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
            assertEquals(1, exit);
            assertTrue(err.toString().contains("x-write-log: '" + log + "' on a read-only image"), err.toString());
        }
    }

    @Nested
    class BadInput {
        @Test
        void eachMistakeIsOneLine() throws IOException {
            Path img = zeroImage();
            Path missing = dir.resolve("missing.log");
            Run r = img("crashcheck", missing.toString(), img.toString());
            assertEquals(1, r.exit());
            assertEquals("ioemu-img: crashcheck: write log '" + missing + "': no such file\n", r.err());

            Path garbage = dir.resolve("garbage.log");
            Files.writeString(garbage, "hello\n");
            Files.write(Path.of(garbage + ".data"), new byte[0]);
            r = img("crashcheck", garbage.toString(), img.toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("first line 'hello' (expected: 'ioemu-write-log 1')"), r.err());

            LogBuilder b = new LogBuilder("writeback");
            b.writeAndFlush(1, 1, 0, 0);
            Path spliced = b.save("spliced.log");
            List<String> lines = new ArrayList<>(Files.readAllLines(spliced));
            lines.remove(3);
            Files.write(spliced, lines);
            r = img("crashcheck", spliced.toString(), img.toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("the log is damaged or spliced"), r.err());

            Path small = dir.resolve("small.img");
            Files.write(small, new byte[4096]);
            r = img("crashcheck", b.save("ok.log").toString(), small.toString());
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("4096 bytes (expected: 65536"), r.err());

            for (String[] bad : List.of(new String[] {"--torn", "half"}, new String[] {"--check", "fsck"},
                    new String[] {"--samples", "-1"}, new String[] {"--bogus"}, new String[] {"--journal", "12"})) {
                List<String> a = new ArrayList<>(List.of("crashcheck"));
                a.addAll(List.of(bad));
                a.add("a.log");
                a.add("b.img");
                r = img(a.toArray(String[]::new));
                assertEquals(1, r.exit(), String.join(" ", bad));
                assertTrue(r.err().startsWith("ioemu-img: crashcheck: ") && r.err().lines().count() == 2, r.err());
            }
            r = img("crashcheck", "--help");
            assertEquals(0, r.exit());
            assertTrue(r.out().startsWith("Usage: ioemu-img crashcheck"), r.out());
        }
    }
}
