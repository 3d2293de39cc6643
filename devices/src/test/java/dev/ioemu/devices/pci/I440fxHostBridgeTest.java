package dev.ioemu.devices.pci;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The PAM and SMRAM registers as SeaBIOS's unlock and lock use them (shared/spec/seabios.md §4.1–4.2). */
class I440fxHostBridgeTest {
    private final I440fxHostBridge bridge = new I440fxHostBridge();

    @Test
    void pamIsClosedAndSmramAtItsDefaultAtPowerOn() {
        assertEquals(0x00000000, bridge.configRead(0x58, 4), "0x58-0x5B");
        assertEquals(0x00000000, bridge.configRead(0x5c, 4), "0x5C-0x5F");
        assertEquals(0x02, bridge.configRead(I440fxHostBridge.SMRAM, 1));
    }

    @Test
    void seaBiosUnlockAndLockReadBack() {
        bridge.configWrite(0x58, 4, 0x33333000);
        bridge.configWrite(0x5c, 4, 0x33333333);
        assertEquals(0x30, bridge.configRead(I440fxHostBridge.PAM0, 1), "F segment RE|WE");
        assertEquals(0x33333000, bridge.configRead(0x58, 4));
        bridge.configWrite(0x58, 4, 0x11111000);
        bridge.configWrite(0x5c, 4, 0x33111111);
        assertEquals(0x33111111, bridge.configRead(0x5c, 4), "the lock's read-modify-write sees its own values");
    }

    @Test
    void resetClosesPamAgainSoTheReloadedShadowTakesACleanPost() {
        bridge.configWrite(0x58, 4, 0x33333000);
        bridge.configWrite(I440fxHostBridge.SMRAM, 1, 0x4a);
        bridge.reset();
        assertEquals(0, bridge.configRead(0x58, 4));
        assertEquals(0x02, bridge.configRead(I440fxHostBridge.SMRAM, 1));
    }
}
