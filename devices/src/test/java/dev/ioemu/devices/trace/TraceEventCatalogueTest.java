package dev.ioemu.devices.trace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every catalogue event has named, typed fields, and a line it writes reads back to the values it was given. */
class TraceEventCatalogueTest {
    @ParameterizedTest
    @EnumSource(TraceEvent.class)
    void everyConversionHasAUniqueLowerSnakeCaseName(TraceEvent event) {
        List<TraceField> fields = event.fields();
        long conversions = event.format.replace("%%", "").chars().filter(c -> c == '%').count();
        assertEquals(conversions, fields.size(), event + ": " + fields);
        for (TraceField f : fields) {
            assertTrue(f.name().matches("[a-z_][a-z0-9_]*"), event + ": " + f);
        }
        assertEquals(fields.size(), fields.stream().map(TraceField::name).distinct().count(), event + ": " + fields);
    }

    @ParameterizedTest
    @EnumSource(TraceEvent.class)
    void aWrittenLineReadsBackToTheSameTypedValues(TraceEvent event) {
        Object[] args = sampleArguments(event.fields());
        String text = String.format(event.format, args);
        Object[] read = event.layout().read(text);
        assertNotNull(read, event + " cannot read its own line: " + text);
        assertArrayEquals(args, read, event + ": " + text);
    }

    /** Distinct values per field; strings hold a space so a field boundary is found by the format's text, not by whitespace. */
    private static Object[] sampleArguments(List<TraceField> fields) {
        List<Object> args = new ArrayList<>();
        for (int i = 0; i < fields.size(); i++) {
            args.add(switch (fields.get(i).type()) {
                case INT -> (long) (i % 2 == 0 ? 7 * (i + 1) : -3 * (i + 1));
                case HEX -> (long) (0xa0 + i);
                case STRING, POINTER -> "v" + i + " x" + i;
            });
        }
        return args.toArray();
    }

    @Test
    void fieldNamesComeFromTheFormatsText() {
        assertEquals("[bus:int, unit:int, cmd:hex, cmd_name:string]",
                TraceEvent.IDE_EXEC_CMD.fields().toString());
        assertEquals("[addr:hex, reg:string, val:hex, bus:int]", TraceEvent.IDE_IOPORT_READ.fields().toString());
        // QEMU 7.2's own shapes (hw/ide/trace-events) read the same way.
        assertEquals("[sector:int, nsectors:int]", TraceFormat.parse("sector=%d nsectors=%d").fields().toString());
        assertEquals("[bus:pointer, state:pointer, cmd:hex]",
                TraceFormat.parse("IDE exec cmd: bus %p; state %p; cmd 0x%02x").fields().toString());
        assertEquals("[val:hex]", TraceFormat.parse("val: 0x%08x").fields().toString());
    }

    @Test
    void qemuLinesReadBackTyped() {
        TraceFormat f = TraceFormat.parse("IDEState %p; sector_num=%d n=%d cmd=%s");
        assertEquals(Arrays.asList("0x55d0c0ffee00", 2048L, 64L, "write"),
                Arrays.asList(f.read("IDEState 0x55d0c0ffee00; sector_num=2048 n=64 cmd=write")));
        assertNull(f.read("IDEState 0x55d0c0ffee00; sector_num=x n=64 cmd=write"));
        assertNull(f.read("IDEState 0x1; sector_num=99999999999999999999 n=64 cmd=write"), "overflow is not a value");
    }

    @Test
    void aFormatThatDoesNotNameAFieldIsRefusedWithTheConversion() {
        var e = assertThrows(IllegalArgumentException.class, () -> TraceFormat.parse("IDE PIO rd @ 0x%x val 0x%x"));
        assertTrue(e.getMessage().contains("conversion 1 (%x) has no name before it"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TraceFormat.parse("ax 0x%x -> ax 0x%x"));
        assertTrue(e.getMessage().contains("'ax' used twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TraceFormat.parse("%d %d", "one"));
        assertTrue(e.getMessage().contains("names given for more fields"), e.getMessage());
    }

    @Test
    void eventsAreFoundByTheirQemuName() {
        assertEquals(TraceEvent.IDE_DMA_CB, TraceEvent.byName("ide_dma_cb"));
        assertNull(TraceEvent.byName("ide_no_such_event"));
    }
}
