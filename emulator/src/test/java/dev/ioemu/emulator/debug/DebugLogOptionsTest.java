package dev.ioemu.emulator.debug;

import dev.ioemu.emulator.cli.CommandLine;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code -d}, {@code -dfilter} and {@code -singlestep} parsed as QEMU parses them, through the command line. */
class DebugLogOptionsTest {
    private static DebugLogOptions parse(String... args) throws UsageException {
        VmConfig c = CommandLine.parse(args);
        return c.debugLog();
    }

    @Test
    void itemsAccumulateAcrossOptionsAndTracePatternsAreKept() throws Exception {
        DebugLogOptions o = parse("-d", "in_asm,int", "-d", "cpu,trace:cpu_*", "-singlestep");
        assertEquals(Set.of(LogItem.IN_ASM, LogItem.INT, LogItem.CPU), o.items());
        assertEquals(List.of("cpu_*"), o.tracePatterns());
        assertTrue(o.singlestep());
    }

    @Test
    void allIsEveryItemButTid() throws Exception {
        DebugLogOptions o = parse("-d", "all");
        assertTrue(o.has(LogItem.CPU_RESET) && o.has(LogItem.EXEC) && o.has(LogItem.UNIMP));
        assertFalse(o.has(LogItem.TID));
    }

    @Test
    void anUnknownItemIsRefusedWithQemusList() {
        UsageException e = assertThrows(UsageException.class, () -> parse("-d", "in_asm,cpux"));
        assertTrue(e.getMessage().startsWith("-d in_asm,cpux: unknown log item 'cpux'\nLog items (comma separated):\n"
                + "out_asm         show generated host assembly code for each compiled TB\n"), e.getMessage());
    }

    @Test
    void filterRangesInQemusThreeForms() throws Exception {
        DebugLogOptions o = parse("-dfilter", "0x7c00..0x7dff,0x100000+0x1000", "-dfilter", "0x2000-16");
        assertTrue(o.inFilter(0x7c00) && o.inFilter(0x7dff) && !o.inFilter(0x7e00));
        assertTrue(o.inFilter(0x100fff) && !o.inFilter(0x101000));
        assertTrue(o.inFilter(0x1ff1) && o.inFilter(0x2000) && !o.inFilter(0x1ff0));
        assertTrue(DebugLogOptions.NONE.inFilter(0xdead), "no -dfilter: everything is logged");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0x10..0x8", "zz..0x10", "0x10+0", "7", "0x10-0x20"})
    void badFilterRangesAreRefusedNamingTheRange(String range) {
        UsageException e = assertThrows(UsageException.class, () -> parse("-dfilter", range));
        assertTrue(e.getMessage().startsWith("-dfilter " + range + ": "), e.getMessage());
    }

    @Test
    void helpTextIsQemus() {
        String usage = LogItem.usage();
        assertTrue(usage.startsWith("Log items (comma separated):\nout_asm "));
        assertTrue(usage.endsWith("trace:PATTERN   enable trace events\n\nUse \"-d trace:help\" to get a list of trace events.\n\n"));
    }
}
