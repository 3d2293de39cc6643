package dev.ioemu.emulator.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QemuOptsTest {
    @Test
    void doubledCommaIsALiteralComma() throws Exception {
        Map<String, String> o = QemuOpts.parse("-drive", "file=a,,b.img,if=none,id=d0", null);
        assertEquals(Map.of("file", "a,b.img", "if", "none", "id", "d0"), o);
        assertEquals(List.of("file", "if", "id"), List.copyOf(o.keySet()), "command-line order kept");
    }

    @Test
    void leadingBareValueTakesTheImpliedKey() throws Exception {
        assertEquals(Map.of("type", "pc", "accel", "qtest"), QemuOpts.parse("-machine", "pc,accel=qtest", "type"));
        assertEquals(Map.of("driver", "ide-hd", "drive", "d0"), QemuOpts.parse("-device", "ide-hd,drive=d0", "driver"));
    }

    @Test
    void bareKeyElsewhereMeansOn() throws Exception {
        assertEquals(Map.of("backend", "socket", "server", "on"), QemuOpts.parse("-chardev", "socket,server", "backend"));
    }

    @Test
    void valueMayContainEqualsSigns() throws Exception {
        assertEquals(Map.of("file", "a=b"), QemuOpts.parse("-drive", "file=a=b", null));
    }

    @Test
    void tripleCommaIsALiteralCommaThenASeparator() throws Exception {
        assertEquals(Map.of("file", "a,", "x", "1"), QemuOpts.parse("-drive", "file=a,,,x=1", null));
    }

    @Test
    void trailingCommaIsAccepted() throws Exception {
        assertEquals(Map.of("file", "x"), QemuOpts.parse("-drive", "file=x,", null));
        assertEquals(Map.of("file", "x,"), QemuOpts.parse("-drive", "file=x,,", null));
    }

    @Test
    void errorsNameTheOption() {
        UsageException e = assertThrows(UsageException.class, () -> QemuOpts.parse("-drive", "file=a,,,,b,file=c", null));
        assertEquals("-drive file=a,,,,b,file=c: parameter 'file' given twice", e.getMessage());
        e = assertThrows(UsageException.class, () -> QemuOpts.parse("-drive", ",file=a", null));
        assertEquals("-drive ,file=a: empty parameter (expected: key=value)", e.getMessage());
        e = assertThrows(UsageException.class, () -> QemuOpts.parse("-drive", "=x", null));
        assertEquals("-drive =x: parameter without a name in '=x'", e.getMessage());
    }

    @Test
    void formatEscapesCommas() {
        assertEquals("file=a,,b,if=ide", QemuOpts.format(new java.util.LinkedHashMap<>(Map.of("file", "a,b")) {{
            put("if", "ide");
        }}));
    }
}
