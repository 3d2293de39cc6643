package dev.ioemu.emulator.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.devices.block.BlkDebug;
import dev.ioemu.bios.Int13Disk;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.emulator.machine.BlockInfo;
import dev.ioemu.emulator.testing.FakeMachine;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HMP through QMP as QEMU's ide-test drives it: {@code qemu-io ide0-hd0 "break flush_to_os A"},
 * {@code "resume A"}, and qemu-io's plain commands, on a drive opened from
 * {@code -drive file=blkdebug::IMAGE}.
 */
class HumanMonitorTest {
    @TempDir
    Path dir;

    private final FakeMachine machine = new FakeMachine(true);
    private final HumanMonitor hmp = new HumanMonitor(machine);
    private BlockDevice block;

    @BeforeEach
    void openDrive() throws Exception {
        Path img = dir.resolve("d.img");
        Files.write(img, new byte[1 << 20]);
        block = BlockDevices.open(DriveOptions.parse("file=blkdebug::" + img));
        machine.blocks.add(new BlockInfo("ide0-hd0", "/machine/unattached/ide0-0", false, img.toString(), false,
                "raw", block.cacheMode(), block.size(), block.stats(), block, Int13Disk.FirmwareWrites.SYNC));
    }

    @AfterEach
    void close() {
        block.close();
    }

    @Test
    void breakpointHoldsAFlushUntilResume() throws Exception {
        assertEquals("wrote 512/512 bytes at offset 512\r\n", hmp.execute("qemu-io ide0-hd0 \"write -P 0x5a 512 512\""));
        assertEquals("", hmp.execute("qemu-io ide0-hd0 \"break flush_to_os A\""));
        CompletableFuture<Integer> flush = CompletableFuture.supplyAsync(block::flush);
        assertEquals("", hmp.execute("qemu-io ide0-hd0 \"wait_break A\""));
        assertTrue(BlkDebug.find(block).isSuspended("A"));
        assertFalse(flush.isDone());
        assertEquals("", hmp.execute("qemu-io ide0-hd0 \"resume A\""));
        assertEquals(0, flush.get(10, TimeUnit.SECONDS));
        assertEquals("Could not resume request: No such file or directory\r\n",
                hmp.execute("qemu-io ide0-hd0 \"resume A\""));
        assertEquals("Could not remove breakpoint A: No such file or directory\r\n",
                hmp.execute("qemu-io ide0-hd0 \"remove_break A\""));
        assertEquals("Could not set breakpoint: No such file or directory\r\n",
                hmp.execute("qemu-io ide0-hd0 \"break no_such_event B\""));
    }

    @Test
    void plainQemuIoCommandsReadWriteAndFlushTheDrive() {
        assertEquals("wrote 4096/4096 bytes at offset 8192\r\n", hmp.execute("qemu-io ide0-hd0 \"write -P 0x11 8k 4k\""));
        assertEquals("read 4096/4096 bytes at offset 8192\r\n", hmp.execute("qemu-io ide0-hd0 \"read -P 0x11 8k 4k\""));
        assertEquals("Pattern verification failed at offset 8192, 4096 bytes\r\n",
                hmp.execute("qemu-io ide0-hd0 \"read -P 0x22 8k 4k\""));
        assertEquals("", hmp.execute("qemu-io ide0-hd0 flush"));
        ByteBuffer b = ByteBuffer.allocate(1);
        assertEquals(1, block.read(8192, b));
        assertEquals(0x11, b.get(0));
    }

    @Test
    void badInputGetsQemusMessagesNotExceptions() {
        assertEquals("Error: Cannot find device='nope' nor node-name='nope'\r\n",
                hmp.execute("qemu-io nope \"flush\""));
        assertEquals("command \"frobnicate\" not found\r\n", hmp.execute("qemu-io ide0-hd0 \"frobnicate\""));
        assertEquals("unterminated string\r\n", hmp.execute("qemu-io ide0-hd0 \"flush"));
        assertEquals("qemu-io: expected: qemu-io [-d] DEVICE \"COMMAND\"\r\n", hmp.execute("qemu-io"));
        assertEquals("non-numeric length argument -- x\r\n", hmp.execute("qemu-io ide0-hd0 \"read 0 x\""));
        assertEquals("bad argument count to break, expected: break event tag\r\n",
                hmp.execute("qemu-io ide0-hd0 \"break flush_to_os\""));
        assertEquals("VM status: paused (prelaunch)\r\n", hmp.execute("info status"));
    }

    /** QEMU 7.2's paragraph without a node name, and the disk's firmware-writes setting after the cache mode. */
    @Test
    void infoBlockShowsTheCacheModeAndFirmwareWrites() {
        assertEquals("ide0-hd0: " + dir.resolve("d.img") + " (raw)\r\n"
                + "    Attached to:      /machine/unattached/ide0-0\r\n"
                + "    Cache mode:       writeback\r\n"
                + "    Firmware writes:  sync\r\n", hmp.execute("info block"));
    }

    @Test
    void hmpArgumentsFollowQemusQuoting() {
        assertEquals(List.of("ide0-hd0", "break flush_to_os A"),
                HumanMonitor.hmpArguments(" ide0-hd0  \"break flush_to_os A\""));
        assertEquals(List.of("a\"b\\c"), HumanMonitor.hmpArguments("\"a\\\"b\\\\c\""));
        assertThrows(IllegalArgumentException.class, () -> HumanMonitor.hmpArguments("\"\\q\""));
    }
}
