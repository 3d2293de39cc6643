package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** fw_cfg's I/O interface as libqos and QEMU 7.2 use it (shared/spec/qtest.md §6). */
class FwCfgTest {
    private final IoPortBus bus = new IoPortBus();

    FwCfgTest() {
        bus.map(0x510, 2, new FwCfg(128L << 20));
    }

    private long readItem(int key, int bytes) {
        bus.write(0x510, 2, key);
        long v = 0;
        for (int i = 0; i < bytes; i++) {
            v |= (long) bus.read(0x511, 1) << (8 * i);
        }
        return v;
    }

    @Test
    void signatureIsSelectedAtPowerOn() {
        assertEquals('Q', bus.read(0x510, 1), "an 8-bit read of the selector port reads data too");
        assertEquals('E', bus.read(0x511, 1));
        assertEquals(0x554d4551L, readItem(FwCfg.KEY_SIGNATURE, 4));
    }

    @Test
    void ramSizeIsLittleEndian64Bit() {
        assertEquals(0x08000000L, readItem(FwCfg.KEY_RAM_SIZE, 8));
        assertEquals(0, bus.read(0x511, 1), "past the end reads 0");
    }

    @Test
    void cpuCountsAndUnknownKeys() {
        assertEquals(1, readItem(FwCfg.KEY_NB_CPUS, 2));
        assertEquals(1, readItem(FwCfg.KEY_MAX_CPUS, 2));
        assertEquals(0, readItem(0x1234, 4));
    }

    /** The file directory as SeaBIOS walks it: u32 BE count, then 64-byte entries (seabios.md §6.2). */
    private java.util.Map<String, int[]> directory() {
        bus.write(0x510, 2, FwCfg.KEY_FILE_DIR);
        int count = 0;
        for (int i = 0; i < 4; i++) {
            count = count << 8 | bus.read(0x511, 1);
        }
        java.util.Map<String, int[]> files = new java.util.LinkedHashMap<>();
        for (int f = 0; f < count; f++) {
            byte[] e = new byte[64];
            for (int i = 0; i < 64; i++) {
                e[i] = (byte) bus.read(0x511, 1);
            }
            var b = java.nio.ByteBuffer.wrap(e);
            int size = b.getInt();
            int key = b.getShort() & 0xffff;
            String name = new String(e, 8, 56, java.nio.charset.StandardCharsets.US_ASCII).replaceAll("\\x00+$", "");
            files.put(name, new int[] {size, key});
        }
        return files;
    }

    private byte[] readBytes(int key, int n) {
        bus.write(0x510, 2, key);
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) bus.read(0x511, 1);
        }
        return out;
    }

    @Test
    void fileDirectoryListsTheFilesSeaBiosReadsInNameOrder() {
        var files = directory();
        assertEquals(java.util.List.of("bootorder", "etc/boot-fail-wait", "etc/e820"), java.util.List.copyOf(files.keySet()));
        assertEquals(0x20, files.get("bootorder")[1], "keys from 0x20 in name order");
        assertEquals(0, files.get("bootorder")[0], "an empty boot order: SeaBIOS's defaults");
        int[] wait = files.get("etc/boot-fail-wait");
        assertEquals(4, wait[0], "an integer file is 1, 2, 4 or 8 bytes");
        assertEquals(0xffffffffL, readItem(wait[1], 4), "QEMU's default: wait forever");
    }

    @Test
    void e820FileDescribesTheRam() {
        int[] e820 = directory().get("etc/e820");
        assertEquals(20, e820[0], "128 MiB: one 20-byte entry");
        var b = java.nio.ByteBuffer.wrap(readBytes(e820[1], 20)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, b.getLong());
        assertEquals(128L << 20, b.getLong());
        assertEquals(E820Table.TYPE_RAM, b.getInt());
    }

    @Test
    void e820ListsRamAboveFourGibAsItsOwnEntry() {
        var b = java.nio.ByteBuffer.wrap(E820Table.ram(6L << 30, 3L << 30).bytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals(40, b.capacity());
        assertEquals(0, b.getLong());
        assertEquals(3L << 30, b.getLong());
        assertEquals(E820Table.TYPE_RAM, b.getInt());
        assertEquals(1L << 32, b.getLong());
        assertEquals(3L << 30, b.getLong());
        assertEquals(E820Table.TYPE_RAM, b.getInt());
    }

    @Test
    void bootMenuIsOffSoSeaBiosDoesNotWait() {
        assertEquals(0, readItem(FwCfg.KEY_BOOT_MENU, 2));
        assertEquals(0, readItem(FwCfg.KEY_ARCH_E820_TABLE, 4), "no legacy e820 reservations");
    }

    /** DMA as SeaBIOS drives it: a big-endian descriptor in RAM, its address written to 0x518. */
    @org.junit.jupiter.api.Nested
    class Dma {
        private final dev.ioemu.devices.bus.RamBlock ram = dev.ioemu.devices.bus.RamBlock.allocate("ram", 1 << 20);
        private final dev.ioemu.devices.bus.AddressSpace space = new dev.ioemu.devices.bus.AddressSpace();
        private final FwCfg fwCfg = new FwCfg(128L << 20);
        private final IoPortBus dmaBus = new IoPortBus();

        Dma() {
            space.mapRam("ram", 0, ram, 0, 1 << 20);
            fwCfg.enableDma(space);
            dmaBus.map(0x510, 2, fwCfg);
            dmaBus.map(0x514, 8, fwCfg.dmaPort());
        }

        @org.junit.jupiter.api.AfterEach
        void release() {
            ram.close();
        }

        /** Runs one descriptor at 0x1000; returns its control word afterwards. */
        private int transfer(int control, int length, long address) {
            byte[] d = java.nio.ByteBuffer.allocate(16).putInt(control).putInt(length).putLong(address).array();
            space.write(0x1000, d, 0, d.length);
            dmaBus.write(0x514, 4, 0);
            dmaBus.write(0x518, 4, Integer.reverseBytes(0x1000));
            return Integer.reverseBytes(space.readDword(0x1000));
        }

        @Test
        void idAdvertisesDmaAndTheRegistersReadTheSignature() {
            dmaBus.write(0x510, 2, FwCfg.KEY_ID);
            assertEquals(3, dmaBus.read(0x511, 1), "ID = 3 as QEMU 7.2");
            assertEquals('Q', dmaBus.read(0x514, 1));
            assertEquals('G', dmaBus.read(0x51b, 1));
        }

        @Test
        void selectAndReadCopiesTheItemThenZerosAndClearsControl() {
            space.fill(0x2000, 16, (byte) 0xee);
            assertEquals(0, transfer(FwCfg.KEY_SIGNATURE << 16 | FwCfg.DMA_CTL_SELECT | FwCfg.DMA_CTL_READ, 6, 0x2000));
            byte[] got = new byte[7];
            space.read(0x2000, got, 0, got.length);
            assertArrayEquals(new byte[] {'Q', 'E', 'M', 'U', 0, 0, (byte) 0xee}, got, "past the end: zeros; beyond length untouched");
        }

        @Test
        void skipThenReadContinuesWhereTheSkipEnded() {
            assertEquals(0, transfer(FwCfg.KEY_SIGNATURE << 16 | FwCfg.DMA_CTL_SELECT | FwCfg.DMA_CTL_SKIP, 2, 0));
            assertEquals(0, transfer(FwCfg.DMA_CTL_READ, 2, 0x3000));
            assertEquals('M', space.readByte(0x3000));
            assertEquals('U', space.readByte(0x3001));
        }

        @Test
        void writesAndBuffersOutsideRamReportAnError() {
            assertEquals(FwCfg.DMA_CTL_ERROR, transfer(FwCfg.DMA_CTL_WRITE, 4, 0x2000), "items are read-only");
            assertEquals(FwCfg.DMA_CTL_ERROR, transfer(FwCfg.DMA_CTL_READ, 16, 0xfff00000L), "buffer not in RAM");
        }
    }

    @Test
    void wideAccessesMatchQemu() {
        bus.write(0x510, 2, FwCfg.KEY_RAM_SIZE);
        assertEquals(0, bus.read(0x510, 2), "16-bit selector reads are invalid: 0, no side effect");
        assertEquals(0xff00, bus.read(0x511, 2), "data byte then the unmapped port 0x512");
        bus.write(0x511, 1, 0x55);
        assertEquals(0x00, bus.read(0x511, 1), "data writes are ignored");
    }
}
