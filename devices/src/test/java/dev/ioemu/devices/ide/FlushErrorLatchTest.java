package dev.ioemu.devices.ide;

import static dev.ioemu.devices.ide.Ata.CMD_FLUSH_CACHE;
import static dev.ioemu.devices.ide.Ata.ERR_ABRT;
import static dev.ioemu.devices.ide.Ata.STATUS_DRDY;
import static dev.ioemu.devices.ide.Ata.STATUS_ERR;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.FaultInjection;
import dev.ioemu.devices.block.RawImage;
import dev.ioemu.devices.host.Errno;

import java.io.RandomAccessFile;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A flush error injected once from the drive options ({@code inject-error.0.iotype=flush,once=on})
 * stands for a failed fdatasync, so IDE FLUSH CACHE obeys the block layer's one rule
 * (shared/spec/block.md §5.3, QEMU's {@code page_cache_inconsistent}): on a buffered image every
 * later FLUSH CACHE fails too (ERR/ABRT), the way the INT 13h path already saw it; with O_DIRECT
 * there is no page cache to be inconsistent and the next flush may succeed.
 */
class FlushErrorLatchTest {
    @TempDir
    Path dir;

    BlockDevice open(CacheMode mode) throws Exception {
        Path image = dir.resolve("latch.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        return BlockDevices.open(DriveOptions.parse("file=" + image + ",cache=" + mode.optionName()
                + ",inject-error.0.iotype=flush,inject-error.0.errno=EIO,inject-error.0.once=on"));
    }

    int flushCache(AtaTestDriver ata) {
        ata.command(CMD_FLUSH_CACHE);
        ata.awaitNotBusy();
        return ata.status();
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK", "WRITETHROUGH", "FADVISE"})
    void aOnceInjectedFlushErrorFailsEveryLaterFlushCacheOnABufferedImage(CacheMode mode) throws Exception {
        try (BlockDevice dev = open(mode)) {
            AtaTestDriver ata = new AtaTestDriver();
            try {
                ata.ide.attach(0, 0, IdeDriveConfig.disk(dev));
                ata.driver.writeSectorsPio(8, new byte[512]);
                assertEquals(STATUS_DRDY | STATUS_ERR, flushCache(ata), "the injected flush error");
                assertEquals(ERR_ABRT, ata.error());
                for (int i = 0; i < 3; i++) {
                    assertEquals(STATUS_DRDY | STATUS_ERR, flushCache(ata), "flush " + (i + 2) + " after the failed one");
                    assertEquals(ERR_ABRT, ata.error());
                }
                assertEquals(Errno.EIO, ((RawImage) ((FaultInjection) dev).inner()).stickyFlushError());
                assertEquals(1, ((FaultInjection) dev).injectedErrors(), "injected once; the rest is the latch");
                // A write that owes its own flush (writethrough) or the next flush is refused alike.
                ata.driver.setLba28(9, 1);
                ata.command(Ata.CMD_WRITE_SECTORS);
                ata.awaitNotBusy();
                for (int w = 0; w < 256; w++) {
                    ata.outw(PiixIde.PRIMARY_COMMAND_BASE, 0);
                }
                ata.awaitNotBusy();
                int st = ata.status();
                assertEquals(mode == CacheMode.WRITETHROUGH ? STATUS_DRDY | STATUS_ERR : STATUS_DRDY, st & (STATUS_DRDY | STATUS_ERR),
                        "a write after the latch: its own fdatasync fails in writethrough");
                assertEquals(STATUS_DRDY | STATUS_ERR, flushCache(ata), "and FLUSH CACHE still fails");
            } finally {
                ata.close();
            }
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"NONE", "DIRECTSYNC"})
    void withODirectTheNextFlushCacheSucceeds(CacheMode mode) throws Exception {
        try (BlockDevice dev = open(mode)) {
            AtaTestDriver ata = new AtaTestDriver();
            try {
                ata.ide.attach(0, 0, IdeDriveConfig.disk(dev));
                ata.driver.writeSectorsPio(8, new byte[512]);
                assertEquals(STATUS_DRDY | STATUS_ERR, flushCache(ata), "the injected flush error");
                assertEquals(STATUS_DRDY, flushCache(ata) & ~0x10, "O_DIRECT: nothing latched");
                assertEquals(0, ((RawImage) ((FaultInjection) dev).inner()).stickyFlushError());
            } finally {
                ata.close();
            }
        }
    }

    @ParameterizedTest(name = "cache={0}")
    @EnumSource(value = CacheMode.class, names = {"WRITEBACK"})
    void theBlockLayerAloneLatchesIt(CacheMode mode) throws Exception {
        try (BlockDevice dev = open(mode)) {
            assertEquals(-Errno.EIO, dev.flush());
            assertEquals(-Errno.EIO, dev.flush(), "sticky below the device model too");
        }
    }
}
