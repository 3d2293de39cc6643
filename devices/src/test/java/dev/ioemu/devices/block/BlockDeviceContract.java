package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlockDevice} must do, whatever its cache mode and alignment: byte-exact
 * round trips at any offset and length (1 byte to 1 MiB, across block and bounce-chunk
 * boundaries) from direct, heap and misaligned buffers; zeros past the end; and overlapping
 * unaligned writes from several threads ending as some serial order (shared/spec/block.md §4.2).
 *
 * <p>Implementations supply a fresh device over an image whose initial contents are
 * {@link #initialContents()}; the device stays open for the test and is closed by the
 * implementation.
 */
interface BlockDeviceContract {
    BlockDevice device();

    /** The image bytes the device was opened over (the test's model starts from these). */
    byte[] initialContents();

    /** The caller-buffer kinds every request shape is tried with. */
    enum BufferKind {
        DIRECT_ALIGNED, HEAP, DIRECT_MISALIGNED;

        ByteBuffer allocate(int length) {
            return switch (this) {
                case DIRECT_ALIGNED -> TestImages.alignedDirect(length);
                case HEAP -> ByteBuffer.allocate(length + 7).position(7).slice();
                case DIRECT_MISALIGNED -> TestImages.alignedDirect(length + 1).position(1).slice();
            };
        }
    }

    static void writeExactly(BlockDevice dev, long offset, byte[] data, BufferKind kind) {
        ByteBuffer b = kind.allocate(data.length);
        b.put(0, data);
        int r = dev.write(offset, b);
        assertEquals(data.length, r, "write " + data.length + " bytes at " + offset + " from " + kind);
        assertEquals(0, b.position(), "write must not move the caller's position");
    }

    static byte[] readExactly(BlockDevice dev, long offset, int length, BufferKind kind) {
        ByteBuffer b = kind.allocate(length);
        int r = dev.read(offset, b);
        assertEquals(length, r, "read " + length + " bytes at " + offset + " into " + kind);
        byte[] out = new byte[length];
        b.get(0, out);
        return out;
    }

    @Test
    default void seededRandomRoundTripsAreByteExactForEveryBufferKind() {
        BlockDevice dev = device();
        byte[] model = initialContents().clone();
        long seed = Long.getLong("ioemu.test.seed", 0x5EEDL);
        Random rnd = new Random(seed);
        int[] lengths = {1, 7, 511, 512, 513, 1000, 4095, 4096, 4097, 8192 + 3, 65536, 65536 + 512 + 1, 1 << 20};
        BufferKind[] kinds = BufferKind.values();
        for (int i = 0; i < 60; i++) {
            int length = i < lengths.length ? lengths[i] : 1 + rnd.nextInt(i % 5 == 0 ? 1 << 20 : 9000);
            long offset = rnd.nextInt(3) == 0 ? (long) rnd.nextInt(model.length / 4096) * 4096
                    : rnd.nextInt(model.length - length + 1);
            offset = Math.min(offset, model.length - length);
            byte[] data = new byte[length];
            rnd.nextBytes(data);
            BufferKind writeKind = kinds[i % kinds.length];
            BufferKind readKind = kinds[(i / kinds.length + i) % kinds.length];
            writeExactly(dev, offset, data, writeKind);
            System.arraycopy(data, 0, model, (int) offset, length);
            byte[] back = readExactly(dev, offset, length, readKind);
            assertArrayEquals(data, back, "seed " + seed + " step " + i + ": " + length + " bytes at " + offset
                    + " written from " + writeKind + ", read into " + readKind);
        }
        byte[] whole = readExactly(dev, 0, model.length, BufferKind.DIRECT_ALIGNED);
        assertTrue(Arrays.equals(model, whole), "seed " + seed + ": whole image differs from the model (neighbours "
                + "of a write were disturbed)");
    }

    @Test
    default void edgeCasesAtTheStartEndAndChunkBoundariesRoundTrip() {
        BlockDevice dev = device();
        byte[] model = initialContents().clone();
        long[][] cases = {
                {0, 1}, {model.length - 1, 1}, {511, 2}, {4095, 2}, {100, (1 << 20) + 1000},
                {(1 << 20) - 3, 6}, {model.length - 4097, 4097}, {4096, 1 << 20}, {1, (1 << 20) + 4094}};
        int value = 0x11;
        for (long[] c : cases) {
            for (BufferKind kind : BufferKind.values()) {
                byte[] data = TestImages.filled((int) c[1], value++);
                writeExactly(dev, c[0], data, kind);
                System.arraycopy(data, 0, model, (int) c[0], data.length);
                assertArrayEquals(data, readExactly(dev, c[0], (int) c[1], kind), c[1] + " bytes at " + c[0]);
            }
        }
        assertArrayEquals(model, readExactly(dev, 0, model.length, BufferKind.HEAP));
    }

    @Test
    default void readsPastTheEndReturnZerosForTheMissingPart() {
        BlockDevice dev = device();
        byte[] model = initialContents();
        int length = 8192;
        long offset = model.length - 100;
        for (BufferKind kind : BufferKind.values()) {
            byte[] got = readExactly(dev, offset, length, kind);
            assertArrayEquals(Arrays.copyOfRange(model, (int) offset, model.length), Arrays.copyOf(got, 100));
            assertArrayEquals(new byte[length - 100], Arrays.copyOfRange(got, 100, length), kind + ": tail not zero");
        }
    }

    @Test
    default void writesPastTheEndFailWithEinvalAndChangeNothing() {
        BlockDevice dev = device();
        byte[] model = initialContents();
        ByteBuffer b = ByteBuffer.allocate(512);
        assertEquals(-Errno.EINVAL, dev.write(model.length - 256, b));
        assertEquals(-Errno.EINVAL, dev.write(-1, b));
        assertEquals(model.length, dev.size());
        assertArrayEquals(model, readExactly(dev, 0, model.length, BufferKind.DIRECT_ALIGNED));
    }

    @Test
    default void concurrentOverlappingUnalignedWritesEqualSomeSerialOrder() throws Exception {
        BlockDevice dev = device();
        int threads = 4;
        int sectors = 16;
        int slot = 100;
        int slotLength = 80;
        // Write-through modes flush after every write; fewer rounds keep them quick.
        int rounds = dev.isWriteCacheEnabled() ? 60 : 8;
        // Thread t owns bytes [t*100+13, t*100+93) of every 512-byte sector: disjoint slots that
        // share every host block, so each write is a read-modify-write of a block the others patch.
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    ByteBuffer b = ByteBuffer.allocate(slotLength);
                    for (int round = 0; round < rounds; round++) {
                        Arrays.fill(b.array(), (byte) (id * 64 + round % 64));
                        for (int sector = 0; sector < sectors; sector++) {
                            assertEquals(slotLength, dev.write(sector * 512L + id * slot + 13, b));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        byte[] got = readExactly(dev, 0, sectors * 512, BufferKind.DIRECT_ALIGNED);
        byte[] model = initialContents();
        int lost = 0;
        String first = null;
        for (int pos = 0; pos < sectors * 512; pos++) {
            int inSector = pos % 512 - 13;
            int owner = inSector >= 0 ? inSector / slot : -1;
            boolean owned = owner >= 0 && owner < threads && inSector % slot < slotLength;
            byte expected = owned ? (byte) (owner * 64 + (rounds - 1) % 64) : model[pos];
            if (got[pos] != expected) {
                lost++;
                if (first == null) {
                    first = "byte " + pos + " (owner " + owner + "): expected " + expected + " got " + got[pos];
                }
            }
        }
        assertEquals(0, lost, "lost updates: " + lost + " bytes differ from every serial order; first at " + first);
    }

    @Test
    default void readModifyWritesNeverResurrectDataAnAlignedWriteOrZeroWriteReplaced() throws Exception {
        BlockDevice dev = device();
        int blocks = 4;
        int rounds = dev.isWriteCacheEnabled() ? 80 : 8;
        // Three writers share each 4 KiB block (block.md §4.2 hazards 2 and 3): whole-block
        // aligned writes (value 100+round), an unaligned patch of bytes [13, 113) (value round)
        // and an unaligned zero-write of bytes [2000, 2300). In any serial order the bytes
        // outside both slots hold the aligned writer's last value; a stale read-modify-write
        // would bring back an older one.
        ExecutorService pool = Executors.newFixedThreadPool(3);
        CyclicBarrier start = new CyclicBarrier(3);
        try {
            List<Future<?>> futures = new ArrayList<>();
            futures.add(pool.submit(() -> {
                start.await();
                ByteBuffer b = TestImages.alignedDirect(4096);
                for (int round = 0; round < rounds; round++) {
                    for (int i = 0; i < 4096; i++) {
                        b.put(i, (byte) (100 + round));
                    }
                    for (int blk = 0; blk < blocks; blk++) {
                        assertEquals(4096, dev.write(blk * 4096L, b));
                    }
                }
                return null;
            }));
            futures.add(pool.submit(() -> {
                start.await();
                ByteBuffer b = ByteBuffer.allocate(100);
                for (int round = 0; round < rounds; round++) {
                    Arrays.fill(b.array(), (byte) round);
                    for (int blk = 0; blk < blocks; blk++) {
                        assertEquals(100, dev.write(blk * 4096L + 13, b));
                    }
                }
                return null;
            }));
            futures.add(pool.submit(() -> {
                start.await();
                for (int round = 0; round < rounds; round++) {
                    for (int blk = 0; blk < blocks; blk++) {
                        assertEquals(0, dev.writeZeroes(blk * 4096L + 2000, 300));
                    }
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        byte aligned = (byte) (100 + rounds - 1);
        byte patch = (byte) (rounds - 1);
        byte[] got = readExactly(dev, 0, blocks * 4096, BufferKind.DIRECT_ALIGNED);
        for (int pos = 0; pos < got.length; pos++) {
            int in = pos % 4096;
            boolean inPatch = in >= 13 && in < 113;
            boolean inZeroes = in >= 2000 && in < 2300;
            String where = "byte " + pos + " (" + (inPatch ? "patch slot" : inZeroes ? "zero slot" : "aligned only") + ")";
            if (inPatch) {
                assertTrue(got[pos] == patch || got[pos] == aligned, where + ": " + got[pos]);
            } else if (inZeroes) {
                assertTrue(got[pos] == 0 || got[pos] == aligned, where + ": " + got[pos]);
            } else {
                assertEquals(aligned, got[pos], where + ": an older aligned write came back");
            }
        }
    }

    @Test
    default void writeZeroesAtUnalignedRangesReadsBackZerosAndKeepsNeighbours() {
        BlockDevice dev = device();
        byte[] model = initialContents().clone();
        long[][] cases = {{100, 50}, {4000, 200}, {511, 8194}, {8192, 65536}, {3, (1 << 20) + 5000}};
        for (long[] c : cases) {
            assertEquals(0, dev.writeZeroes(c[0], c[1]), "writeZeroes " + c[1] + " at " + c[0]);
            Arrays.fill(model, (int) c[0], (int) (c[0] + c[1]), (byte) 0);
        }
        assertArrayEquals(model, readExactly(dev, 0, model.length, BufferKind.DIRECT_ALIGNED));
    }

    @Test
    default void flushSucceedsAndDataSurvivesIt() {
        BlockDevice dev = device();
        byte[] data = TestImages.filled(3000, 0x5A);
        writeExactly(dev, 777, data, BufferKind.HEAP);
        assertEquals(0, dev.flush());
        assertEquals(0, dev.flush(), "a second flush with nothing written also succeeds");
        assertArrayEquals(data, readExactly(dev, 777, 3000, BufferKind.DIRECT_MISALIGNED));
    }
}
