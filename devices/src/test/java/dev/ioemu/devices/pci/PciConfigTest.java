package dev.ioemu.devices.pci;

import dev.ioemu.devices.bus.GuestMemory;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.ide.PiixIde;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PCI configuration mechanism #1 and the PIIX3 functions' config spaces (shared/spec/ide.md §8.1, qtest.md §6). */
class PciConfigTest {
    private static final int CF8 = 0xCF8;
    private static final int CFC = 0xCFC;

    private IoPortBus bus;
    private PciHostBridge host;
    private PiixIde ide;

    @BeforeEach
    void setUp() {
        bus = new IoPortBus();
        host = new PciHostBridge();
        bus.map(CF8, 8, host);
        ide = new PiixIde(bus, new GuestMemory(1 << 20), IrqLine.NONE, IrqLine.NONE, VmStateControl.NONE);
        host.attach(I440fxHostBridge.DEVFN, new I440fxHostBridge());
        host.attach(Piix3IsaBridge.DEVFN, new Piix3IsaBridge());
        host.attach(PiixIde.DEVFN, ide);
    }

    @AfterEach
    void tearDown() {
        ide.close();
    }

    private int read(int devfn, int offset, int size) {
        bus.write(CF8, 4, 0x8000_0000 | devfn << 8 | offset);
        return bus.read(CFC, size);
    }

    private void write(int devfn, int offset, int size, int value) {
        bus.write(CF8, 4, 0x8000_0000 | devfn << 8 | offset);
        bus.write(CFC, size, value);
    }

    @Nested
    class Mechanism1 {
        @Test
        void lowOffsetBitsOfTheLatchAreHonouredLikeQemu() {
            // libqos latches 0x02 and reads a word at 0xCFC: that is the device ID.
            assertEquals(0x7010, read(PiixIde.DEVFN, 0x02, 2));
            assertEquals(0x70, read(PiixIde.DEVFN, 0x03, 1));
        }

        @Test
        void dataPortOffsetsSelectBytes() {
            bus.write(CF8, 4, 0x8000_0000 | PiixIde.DEVFN << 8);
            assertEquals(0x86, bus.read(CFC, 1));
            assertEquals(0x80, bus.read(CFC + 1, 1));
            assertEquals(0x7010, bus.read(CFC + 2, 2));
            assertEquals(0x7010_8086, bus.read(CFC, 4));
        }

        @Test
        void missingFunctionReadsAllOnes() {
            assertEquals(0xFFFF, read(0x18, 0x00, 2));
            assertEquals(0xFFFF_FFFF, read(0x0A, 0x00, 4));
        }

        @Test
        void latchWithoutEnableBitReadsAllOnes() {
            bus.write(CF8, 4, PiixIde.DEVFN << 8);
            assertEquals(0xFFFF_FFFF, bus.read(CFC, 4));
        }

        @Test
        void latchReadsBack() {
            bus.write(CF8, 4, 0x8000_0904);
            assertEquals(0x8000_0904, bus.read(CF8, 4));
        }

        @Test
        void chipsetFunctionsIdentify() {
            assertEquals(0x1237_8086, read(0x00, 0x00, 4));
            assertEquals(0x0600, read(0x00, 0x0A, 2));
            assertEquals(0x7000_8086, read(0x08, 0x00, 4));
            assertEquals(0x80, read(0x08, 0x0E, 1), "ISA bridge is multi-function so 01.1 gets probed");
        }
    }

    @Nested
    class PiixIdeFunction {
        @Test
        void configDwordsMatchQemuAfterReset() {
            int[] expected = {
                    0x7010_8086, 0x0280_0000, 0x0101_8000, 0x0000_0000,
                    0, 0, 0, 0,
                    0x0000_0001, 0, 0, 0x1100_1AF4,
                    0, 0, 0, 0,
            };
            for (int i = 0; i < expected.length; i++) {
                int offset = i * 4;
                assertEquals(expected[i], read(PiixIde.DEVFN, offset, 4), String.format("dword 0x%02x", offset));
            }
        }

        @Test
        void bar4SizesAsSixteenBytesOfIo() {
            write(PiixIde.DEVFN, 0x20, 4, 0xFFFF_FFFF);
            assertEquals(0xFFFF_FFF1, read(PiixIde.DEVFN, 0x20, 4));
        }

        @Test
        void commandRegisterKeepsOnlyWritableBits() {
            write(PiixIde.DEVFN, 0x04, 2, 0xFFFF);
            assertEquals(0x0507, read(PiixIde.DEVFN, 0x04, 2));
        }

        @Test
        void readOnlyFieldsIgnoreWrites() {
            write(PiixIde.DEVFN, 0x00, 4, 0);
            write(PiixIde.DEVFN, 0x08, 4, 0xFFFF_FFFF);
            write(PiixIde.DEVFN, 0x0D, 1, 0xFF);
            write(PiixIde.DEVFN, 0x10, 4, 0xFFFF_FFFF);
            write(PiixIde.DEVFN, 0x3D, 1, 0xFF);
            assertEquals(0x7010_8086, read(PiixIde.DEVFN, 0x00, 4));
            assertEquals(0x0101_8000, read(PiixIde.DEVFN, 0x08, 4));
            assertEquals(0, read(PiixIde.DEVFN, 0x0D, 1));
            assertEquals(0, read(PiixIde.DEVFN, 0x10, 4));
            assertEquals(0, read(PiixIde.DEVFN, 0x3D, 1));
        }

        @Test
        void writableStorageAndInterruptLine() {
            write(PiixIde.DEVFN, 0x3C, 1, 0x0E);
            write(PiixIde.DEVFN, 0x0C, 1, 0x10);
            write(PiixIde.DEVFN, 0x40, 4, 0xA307_A307);
            assertEquals(0x0E, read(PiixIde.DEVFN, 0x3C, 1));
            assertEquals(0x10, read(PiixIde.DEVFN, 0x0C, 1));
            assertEquals(0xA307_A307, read(PiixIde.DEVFN, 0x40, 4));
        }

        @Test
        void bar4IsDecodedOnlyWithIoEnableAndNonZeroBase() {
            write(PiixIde.DEVFN, 0x20, 4, 0xC001);
            assertFalse(bus.isMapped(0xC000), "I/O decoding still off");
            write(PiixIde.DEVFN, 0x04, 2, 0x0001);
            assertTrue(bus.isMapped(0xC000));
            assertTrue(bus.isMapped(0xC00F));
            assertFalse(bus.isMapped(0xC010));
            write(PiixIde.DEVFN, 0x20, 4, 0xC011);
            assertFalse(bus.isMapped(0xC000), "old BAR4 range released");
            assertTrue(bus.isMapped(0xC010));
            write(PiixIde.DEVFN, 0x04, 2, 0x0000);
            assertFalse(bus.isMapped(0xC010));
        }

        @Test
        void bar4OnTopOfTheLegacyPortsStaysUnmappedInsteadOfThrowing() {
            write(PiixIde.DEVFN, 0x04, 2, 0x0001);
            write(PiixIde.DEVFN, 0x20, 4, 0x1F0 | 1);
            assertEquals(0x00, bus.read(0x1F7, 1), "legacy port still answers (empty bus reads 0)");
            assertEquals(java.util.List.of(), ide.internalErrors());
        }

        @Test
        void resetRestoresPowerOnValues() {
            write(PiixIde.DEVFN, 0x04, 2, 0x0007);
            write(PiixIde.DEVFN, 0x20, 4, 0xC001);
            write(PiixIde.DEVFN, 0x3C, 1, 0x0E);
            host.reset();
            assertEquals(0x0280_0000, read(PiixIde.DEVFN, 0x04, 4));
            assertEquals(1, read(PiixIde.DEVFN, 0x20, 4));
            assertEquals(0, read(PiixIde.DEVFN, 0x3C, 1));
            assertFalse(bus.isMapped(0xC000));
        }
    }
}
