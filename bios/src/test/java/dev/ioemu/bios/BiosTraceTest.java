package dev.ioemu.bios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.trace.Trace;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The int13_* and bios_* trace events a failing boot loader is debugged with (int13.md §10.2 "Testing aid"). */
class BiosTraceTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @AfterEach
    void off() {
        Trace.disableAll();
        Trace.setOutput(System.err);
    }

    @Test
    void diskCallsGeometryErrorsAndUnsupportedFunctionsAreTraced() throws Exception {
        Trace.setOutput(new PrintStream(out, true, StandardCharsets.UTF_8));
        Trace.enable("int13_*");
        Trace.enable("bios_unsupported");
        Trace.enable("bios_post");
        Path img = GuestKit.sparseImage(dir, "t.img", 1 << 20);
        try (GuestKit kit = GuestKit.withImages(img)) {
            kit.powerOn();
            kit.regs.setAx(0x0202);
            kit.regs.setCx(0x0003);
            kit.regs.setDx(0x0080);
            kit.regs.loadRealModeSegment(Segment.ES, 0x1000);
            kit.regs.setBx(0x0000);
            kit.interrupt(0x13);
            kit.regs.setAx(0x0200);
            kit.interrupt(0x13);
            kit.regs.setAx(0x5300);
            kit.interrupt(0x15);
        }
        Trace.flush();
        String t = out.toString(StandardCharsets.UTF_8);
        assertTrue(t.contains(":int13_geometry image " + img + " pchs 2/16/63 lchs 2/16/63 translation NONE"), t);
        assertTrue(t.contains(":bios_post ram "), t);
        assertTrue(t.contains(":int13_disk_op dl 0x80 ah 0x02 lba 2 count 2 buf 0x10000 status 0x00 done 2"), t);
        assertTrue(t.contains(":int13_guest_error dl 0x80 ah 0x02 status 0x01 count 0 sector 3"), t);
        assertTrue(t.contains(":bios_unsupported int 0x15 ax 0x5300"), t);
    }

    @Test
    void disabledEventsWriteNothing() throws Exception {
        Trace.setOutput(new PrintStream(out, true, StandardCharsets.UTF_8));
        Path img = GuestKit.sparseImage(dir, "q.img", 1 << 20);
        try (GuestKit kit = GuestKit.withImages(img)) {
            kit.powerOn();
            kit.regs.setAx(0x0201);
            kit.regs.setCx(0x0001);
            kit.regs.setDx(0x0080);
            kit.interrupt(0x13);
        }
        Trace.flush();
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }
}
