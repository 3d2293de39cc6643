package dev.ioemu.devices.trace;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceTest {
    @AfterEach
    void off() {
        Trace.disableAll();
        Trace.setOutput(System.err);
    }

    @Test
    void globEnablesMatchingEventsOnly() {
        Trace.enable("ide_*");
        assertTrue(TraceEvent.IDE_IOPORT_READ.enabled);
        assertTrue(TraceEvent.IDE_EXEC_CMD.enabled);
        assertFalse(TraceEvent.BLK_READ.enabled);
        Trace.enable("-ide_ioport_*");
        assertFalse(TraceEvent.IDE_IOPORT_READ.enabled);
        assertTrue(TraceEvent.IDE_EXEC_CMD.enabled);
    }

    @Test
    void linesHaveQemuLogBackendShape() {
        var bytes = new ByteArrayOutputStream();
        Trace.setOutput(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        Trace.emit(TraceEvent.IDE_EXEC_CMD, 0, 1, 0xEC, "IDENTIFY DEVICE");
        String line = bytes.toString(StandardCharsets.UTF_8).trim();
        assertTrue(line.matches("\\d+@\\d+\\.\\d{6}:ide_exec_cmd bus 0 unit 1 cmd 0xec \\(IDENTIFY DEVICE\\)"), line);
    }

    @Test
    void eventNamesAreUniqueAndLowerSnakeCase() {
        var names = new java.util.HashSet<String>();
        for (TraceEvent e : TraceEvent.values()) {
            assertTrue(e.eventName.matches("[a-z0-9_]+"), e.eventName);
            assertTrue(names.add(e.eventName), "duplicate " + e.eventName);
        }
        assertEquals(TraceEvent.values().length, names.size());
    }
}
