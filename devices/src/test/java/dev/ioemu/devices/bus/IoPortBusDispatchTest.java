package dev.ioemu.devices.bus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How accesses that do not fit one device are dispatched: QEMU's rules, observed on 7.2. */
class IoPortBusDispatchTest {
    private final List<String> accesses = new ArrayList<>();
    private final IoPortBus bus = new IoPortBus();

    private PortDevice device(String name, boolean portList) {
        if (portList) {
            return new PortListDevice() {
                @Override public int read(int offset, int size) { accesses.add(name + " r" + offset + "/" + size); return 0x11111111; }

                @Override public void write(int offset, int size, int value) { accesses.add(name + " w" + offset + "/" + size); }

                @Override public String name() { return name; }
            };
        }
        return new PortDevice() {
            @Override public int read(int offset, int size) { accesses.add(name + " r" + offset + "/" + size); return 0x22222222; }

            @Override public void write(int offset, int size, int value) { accesses.add(name + " w" + offset + "/" + size); }

            @Override public String name() { return name; }
        };
    }

    @Test
    void accessStartingOnAnUnassignedPortIsAllOnesEvenOverADevice() {
        bus.map(0x89, 3, device("page", false));
        assertEquals(0xffff, bus.read(0x88, 2));
        assertEquals(0xffffffff, bus.read(0x88, 4));
        bus.write(0x88, 4, 0);
        assertEquals(List.of(), accesses);
    }

    @Test
    void ordinaryDeviceGetsPiecesCutByAlignmentNotByItsEnd() {
        bus.map(0x510, 2, device("fwcfg", false));
        assertEquals(0x22222222, bus.read(0x510, 4));
        assertEquals(List.of("fwcfg r0/4"), accesses, "QEMU does not clamp at the region end");
    }

    @Test
    void straddlingReadIsCutIntoAlignedPieces() {
        bus.map(0x510, 2, device("fwcfg", false));
        assertEquals(0xffffff22, bus.read(0x511, 4));
        assertEquals(List.of("fwcfg r1/1"), accesses, "then 0x512-0x513 and 0x514 unassigned");
    }

    @Test
    void portListDeviceTakesTheWholeAccessAtAnyOffset() {
        bus.map(0x3f6, 1, device("ide-ctl", true));
        bus.map(0x1f0, 8, device("ide-cmd", true));
        assertEquals(0x1111, bus.read(0x3f6, 2));
        assertEquals(0x11111111, bus.read(0x1f6, 4));
        bus.write(0x1f7, 2, 0);
        assertEquals(List.of("ide-ctl r0/2", "ide-cmd r6/4", "ide-cmd w7/2"), accesses);
    }

    @Test
    void insideOneDeviceTheAccessIsPassedUnchanged() {
        bus.map(0x00, 16, device("dma", false));
        bus.read(0x06, 4);
        assertEquals(List.of("dma r6/4"), accesses);
    }
}
