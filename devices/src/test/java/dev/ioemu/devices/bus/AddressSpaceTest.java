package dev.ioemu.devices.bus;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AddressSpaceTest {
    private final List<RamBlock> blocks = new ArrayList<>();

    private RamBlock block(String name, long size) {
        RamBlock b = RamBlock.allocate(name, size);
        blocks.add(b);
        return b;
    }

    @AfterEach
    void unmap() {
        blocks.forEach(RamBlock::close);
    }

    /** 64 KiB RAM at 0, a 4 KiB ROM at 0x10000 filled with 0xA5, unassigned above. */
    private AddressSpace small() {
        AddressSpace space = new AddressSpace();
        space.mapRam("ram", 0, block("ram", 0x10000), 0, 0x10000);
        RamBlock rom = block("rom", 0x1000);
        for (int i = 0; i < 0x1000; i++) {
            rom.chunks().get(0).buffer().put(i, (byte) 0xA5);
        }
        space.mapRom("rom", 0x10000, rom, 0, 0x1000);
        return space;
    }

    @Nested
    class Rom {
        @Test
        void guestWritesToRomAreDroppedAndReadsSeeTheRom() {
            AddressSpace space = small();
            space.writeDword(0x10000, 0x11223344);
            space.write(0x10ffe, new byte[] {1, 2, 3, 4}, 0, 4);
            assertEquals(0xA5A5A5A5, space.readDword(0x10000));
            byte[] b = new byte[4];
            space.read(0x10ffe, b, 0, 4);
            assertArrayEquals(new byte[] {(byte) 0xA5, (byte) 0xA5, 0, 0}, b);
            assertFalse(space.isRam(0x10000, 1));
            assertNull(space.ramSpan(0x10000, 16));
        }

        @Test
        void aWriteRunningFromRamIntoRomLandsOnlyInRam() {
            AddressSpace space = small();
            space.write(0xfffe, new byte[] {1, 2, 3, 4}, 0, 4);
            assertEquals(0x0201, space.readWord(0xfffe));
            assertEquals(0xA5A5, space.readWord(0x10000));
        }
    }

    @Nested
    class Unassigned {
        @Test
        void readsAreZeroAndWritesAreDroppedAsInQemu() {
            AddressSpace space = small();
            space.writeDword(0x20000, 0x11223344);
            assertEquals(0, space.readDword(0x20000));
            byte[] b = new byte[16];
            java.util.Arrays.fill(b, (byte) 0x77);
            space.read(0xfffffff0L, b, 0, 16);
            assertArrayEquals(new byte[16], b);
        }

        @Test
        void accessesCrossing2To64WrapToZeroLikeQemu() {
            AddressSpace space = small();
            // qtest: write 0xffffffffffffffff 4 0x01020304; read 0 4 -> 0x02030400
            space.write(-1L, new byte[] {1, 2, 3, 4}, 0, 4);
            byte[] b = new byte[4];
            space.read(0, b, 0, 4);
            assertArrayEquals(new byte[] {2, 3, 4, 0}, b);
            // read 0xfffffffffffffffe 4 -> 0x00000203
            space.read(-2L, b, 0, 4);
            assertArrayEquals(new byte[] {0, 0, 2, 3}, b);
            space.fill(-2L, 4, (byte) 9);
            assertEquals(0x0909, space.readWord(0));
        }
    }

    @Nested
    class Mmio {
        @Test
        void devicesSeeOffsetsAndNaturallyAlignedPieces() {
            AddressSpace space = small();
            List<String> log = new ArrayList<>();
            space.mapMmio("regs", 0xfec00000L, 0x100, new MmioDevice() {
                @Override
                public long read(long offset, int size) {
                    log.add("r" + offset + "/" + size);
                    return 0x0807060504030201L >>> (8 * offset);
                }

                @Override
                public void write(long offset, int size, long value) {
                    log.add("w" + offset + "/" + size + "=" + Long.toHexString(value));
                }
            });
            assertEquals(0x04030201, space.readDword(0xfec00000L));
            byte[] b = new byte[3];
            space.read(0xfec00001L, b, 0, 3);
            assertArrayEquals(new byte[] {2, 3, 4}, b);
            space.writeWord(0xfec00010L, 0xBEEF);
            assertEquals(List.of("r0/4", "r1/1", "r2/2", "w16/2=beef"), log);
        }

        @Test
        void overlappingMappingsAreRefusedNamingBoth() {
            AddressSpace space = small();
            var e = assertThrows(IllegalArgumentException.class,
                    () -> space.mapMmio("late", 0xff00, 0x200, new MmioDevice() {
                        @Override public long read(long offset, int size) { return 0; }
                        @Override public void write(long offset, int size, long value) { }
                    }));
            assertTrue(e.getMessage().contains("late") && e.getMessage().contains("ram"), e.getMessage());
        }
    }

    @Nested
    class LargeRam {
        @Test
        void ramOverOneGibIsSplitIntoChunksThatAreSlotsAndStaysOneRange() {
            RamBlock ram = block("big", (2L << 30) + 4096);
            assertEquals(3, ram.chunks().size());
            for (RamBlock.Chunk c : ram.chunks()) {
                assertTrue(c.size() <= RamBlock.MAX_CHUNK);
                assertEquals(ram.hostAddress() + c.offset(), c.hostAddress());
            }
            AddressSpace space = new AddressSpace();
            space.mapRam("ram-above-4g", 1L << 32, ram, 0, ram.size());
            assertEquals(3, space.memorySlots().size());
            long boundary = (1L << 32) + (1L << 30);
            space.writeDword(boundary - 2, 0xCAFEBABE);
            assertEquals(0xCAFEBABE, space.readDword(boundary - 2));
            assertEquals(0xBABE, ram.chunks().get(0).buffer().getShort((int) (RamBlock.MAX_CHUNK - 2)) & 0xFFFF);
            assertTrue(space.isRam(boundary - 2, 4));
            assertNull(space.ramSpan(boundary - 2, 4), "a span never crosses chunks");
            MemorySpan span = space.ramSpan(boundary, 512);
            assertNotNull(span);
            assertEquals(0xCAFE, span.buffer().getShort(0) & 0xFFFF);
            assertTrue(span.buffer().isDirect());
        }

        @Test
        void aMappingTheHostRefusesIsOneLineNotAStackTrace() {
            var e = assertThrows(MemoryAllocationException.class, () -> RamBlock.allocate("pc.ram", 1L << 50));
            assertEquals("cannot allocate pc.ram: 1073741824 MiB (Cannot allocate memory)", e.getMessage());
            assertEquals(0, e.getStackTrace().length);
        }
    }
}
