package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Segment;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** INT 16h and INT 10h (shared/spec/int13.md §8.1, §8.4) as boot loaders use them. */
class KeyboardAndVideoTest {
    GuestKit kit;

    @BeforeEach
    void start() {
        kit = new GuestKit(List.of());
        kit.powerOn();
    }

    @AfterEach
    void stop() {
        kit.close();
    }

    @Nested
    class Keyboard {
        void int16(int ax) {
            kit.regs.setAx(ax);
            kit.interrupt(0x16);
        }

        @Test
        void readsKeysTypedAtTheConsole() {
            kit.keyboard.offerText("a\r");
            int16(0x0000);
            assertEquals(0x1E61, kit.regs.ax());
            int16(0x1000);
            assertEquals(0x1C0D, kit.regs.ax());
        }

        @Test
        void readWithNoKeyWaitsOnTheHltWithInterruptsOn() {
            int16(0x0000);
            assertFalse(kit.returnedToCaller());
            assertEquals(BiosRom.Entry.INT16_KEYBOARD.waitOffset(), kit.regs.ip());
            assertTrue(kit.interruptsEnabled(), "the stub's STI");
            kit.regs.setEip(BiosRom.Entry.INT16_KEYBOARD.offset);   // an IRQ woke the HLT; JMP back
            kit.runStub();
            assertFalse(kit.returnedToCaller());
            kit.keyboard.offerText("q");
            kit.regs.setEip(BiosRom.Entry.INT16_KEYBOARD.offset);
            kit.runStub();
            assertTrue(kit.returnedToCaller());
            assertEquals(0x1071, kit.regs.ax());
        }

        @Test
        void checkKeyReportsZfAndLeavesTheKey() {
            int16(0x0100);
            assertTrue(kit.zero());
            kit.keyboard.offerText("z");
            int16(0x0100);
            assertFalse(kit.zero());
            assertEquals(0x2C7A, kit.regs.ax());
            int16(0x0000);
            assertEquals(0x2C7A, kit.regs.ax(), "still there after AH=01h");
            int16(0x0100);
            assertTrue(kit.zero());
        }

        @Test
        void extendedKeysTranslateForTheOldFunctions() {
            kit.regs.setCx(0xE00D);
            int16(0x0500);
            assertEquals(0, kit.regs.al());
            int16(0x0000);
            assertEquals(0x1C0D, kit.regs.ax());
            kit.regs.setCx(0x48E0);
            int16(0x0500);
            int16(0x1000);
            assertEquals(0x48E0, kit.regs.ax(), "AH=10h keeps E0h");
            kit.regs.setCx(0x48E0);
            int16(0x0500);
            int16(0x0000);
            assertEquals(0x4800, kit.regs.ax());
        }

        @Test
        void storeKeyReportsAFullBuffer() {
            for (int i = 0; i < 15; i++) {
                kit.regs.setCx(0x1E61);
                int16(0x0500);
                assertEquals(0, kit.regs.al());
            }
            kit.regs.setCx(0x1E61);
            int16(0x0500);
            assertEquals(1, kit.regs.al(), "16-word ring holds 15 keys");
        }

        @Test
        void scribbledBufferPointersAreReset() {
            kit.memory.writeWord(0x41A, 0xFFFF);
            kit.memory.writeWord(0x480, 0x9000);
            kit.keyboard.offerText("k");
            int16(0x0000);
            assertEquals(0x256B, kit.regs.ax());
            assertEquals(0x1E, kit.memory.readWord(0x480));
        }

        @Test
        void shiftFlagsAndIdentification() {
            kit.memory.writeByte(0x417, 0x20);
            int16(0x0200);
            assertEquals(0x20, kit.regs.al());
            int16(0x0900);
            assertEquals(0x30, kit.regs.al());
            int16(0x0A00);
            assertEquals(0x41AB, kit.regs.bx());
            int16(0x0305);
            assertFalse(kit.carry());
            int16(0x7700);
            assertTrue(kit.carry());
            assertEquals(0x7700, kit.regs.ax(), "unsupported: registers untouched");
        }

        @Test
        void consoleRejectsCharactersWithoutAKey() {
            assertThrows(IllegalArgumentException.class, () -> kit.keyboard.offerText("é"));
        }
    }

    @Nested
    class Video {
        void int10(int ax) {
            kit.regs.setAx(ax);
            kit.interrupt(0x10);
        }

        int cell(int row, int column) {
            return kit.memory.readWord(0xB8000 + (row * 80L + column) * 2);
        }

        void type(String s) {
            for (char c : s.toCharArray()) {
                kit.regs.setBx(0x0007);
                int10(0x0E00 | c);
            }
        }

        @Test
        void teletypeWritesScreenConsoleAndCursor() {
            type("Hi\r\nA");
            assertEquals("Hi\r\nA", kit.console.toString());
            assertEquals(0x0748, cell(0, 0));
            assertEquals(0x0769, cell(0, 1));
            assertEquals(0x0741, cell(1, 0));
            kit.regs.setBx(0);
            int10(0x0300);
            assertEquals(0x0101, kit.regs.dx(), "row 1, column 1");
            assertEquals(0x0607, kit.regs.cx());
        }

        @Test
        void teletypeScrollsAtTheBottomAndBackspaceStopsAtColumn0() {
            type("top\r\n");
            for (int i = 0; i < 24; i++) {
                type("x\r\n");
            }
            assertEquals(0x0778, cell(0, 0), "'top' scrolled away");
            kit.regs.setBx(0);
            int10(0x0300);
            assertEquals(24 << 8, kit.regs.dx());
            type("\b\b");
            int10(0x0300);
            assertEquals(24 << 8, kit.regs.dx());
        }

        @Test
        void modeQueries() {
            int10(0x0F00);
            assertEquals(0x03, kit.regs.al());
            assertEquals(80, kit.regs.ah());
            assertEquals(0, kit.regs.bh());
            kit.regs.setBx(0x0010);
            int10(0x1200);
            assertEquals(0x0003, kit.regs.bx());
            int10(0x1A00);
            assertEquals(0x1A, kit.regs.al());
            assertEquals(0x08, kit.regs.bl());
        }

        @Test
        void writeStringWithAttributeAndCursorUpdate() {
            byte[] s = "OK".getBytes(StandardCharsets.US_ASCII);
            kit.memory.write(0x900, s, 0, s.length);
            kit.regs.loadRealModeSegment(Segment.ES, 0);
            kit.regs.setBp(0x900);
            kit.regs.setCx(2);
            kit.regs.setDx(0x0503);
            kit.regs.setBx(0x001E);
            int10(0x1301);
            assertEquals(0x1E4F, cell(5, 3));
            assertEquals(0x1E4B, cell(5, 4));
            kit.regs.setBx(0);
            int10(0x0300);
            assertEquals(0x0505, kit.regs.dx());
            assertEquals("OK", kit.console.toString());
        }

        @Test
        void setCursorScrollAndRepeat() {
            kit.regs.setBx(0);
            kit.regs.setDx(0x0A0A);
            int10(0x0200);
            kit.regs.setBx(0x0004);
            kit.regs.setCx(3);
            int10(0x0941);
            assertEquals(0x0441, cell(10, 12));
            kit.regs.setBx(0);
            int10(0x0800);
            assertEquals(0x0441, kit.regs.ax());
            kit.regs.setBx(0x0700);
            kit.regs.setCx(0x0000);
            kit.regs.setDx(0x184F);
            int10(0x0601);
            assertEquals(0x0441, cell(9, 12), "scrolled up one line");
        }

        @Test
        void vbeIsAbsentAndUnknownFunctionsChangeNothing() {
            int10(0x4F00);
            assertEquals(0x4F00, kit.regs.ax(), "AX != 004Fh means no VBE");
            assertTrue(kit.carry());
            int10(0x7F00);
            assertEquals(0x7F00, kit.regs.ax());
        }
    }
}
