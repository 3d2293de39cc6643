package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import org.junit.jupiter.api.Test;

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

    @Test
    void wideAccessesMatchQemu() {
        bus.write(0x510, 2, FwCfg.KEY_RAM_SIZE);
        assertEquals(0, bus.read(0x510, 2), "16-bit selector reads are invalid: 0, no side effect");
        assertEquals(0xff00, bus.read(0x511, 2), "data byte then the unmapped port 0x512");
        bus.write(0x511, 1, 0x55);
        assertEquals(0x00, bus.read(0x511, 1), "data writes are ignored");
    }
}
