package dev.ioemu.tests.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ioemu's {@code -d} logs against QEMU 7.2's own, in the same run: one boot sector
 * (tests/src/test/resources/CpuTraceBootSector.asm: real-mode forms, an undefined opcode, a
 * switch to 32-bit protected mode, INT3 without an IDT ending in a triple fault) booted by both
 * with {@code -d in_asm,int,cpu_reset,cpu,exec,nochain,guest_errors,unimp -dfilter 0x7c00..0x7dff
 * -no-reboot}. From the first block at 0x7C00 on, every line must be equal except the
 * differences listed in {@link #normalise}, each one stated with its reason.
 */
class CpuTraceFormatTest {
    @TempDir
    static Path dir;

    private static final String ITEMS = "in_asm,int,cpu_reset,cpu,exec,nochain,guest_errors,unimp";

    /** Both logs of the boot sector, run once for all tests. */
    private static List<String> qemuLog;
    private static List<String> ioemuLog;

    private static void bootBoth() throws Exception {
        if (qemuLog != null) {
            return;
        }
        Path image = bootSector();
        Path qemuFile = dir.resolve("qemu.log");
        Path ioemuFile = dir.resolve("ioemu.log");
        List<String> flags = List.of("-machine", "pc", "-nodefaults", "-display", "none",
                "-drive", "file=" + image + ",if=ide,format=raw", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-no-reboot", "-d", ITEMS, "-dfilter", "0x7c00..0x7dff");
        List<String> qemu = new ArrayList<>(List.of("qemu-system-x86_64", "-accel", "tcg"));
        qemu.addAll(flags);
        qemu.addAll(List.of("-D", qemuFile.toString()));
        GuestKit.Run q = GuestKit.run(qemu, dir, "qemu", 60);
        assertEquals(0, q.exitStatus(), "QEMU ends at the triple fault under -no-reboot: " + q.stderr());
        List<String> ioemu = new ArrayList<>(List.of(GuestKit.root().resolve("emulator/bin/ioemu").toString(),
                "-accel", "soft"));
        ioemu.addAll(flags);
        ioemu.addAll(List.of("-D", ioemuFile.toString(), "-trace", "cpu_*"));
        GuestKit.Run i = GuestKit.run(ioemu, dir, "ioemu", 60);
        assertEquals(0, i.exitStatus(), "ioemu ends at the triple fault under -no-reboot: " + i.stderr());
        qemuLog = Files.readAllLines(qemuFile, StandardCharsets.UTF_8);
        ioemuLog = Files.readAllLines(ioemuFile, StandardCharsets.UTF_8);
    }

    static Path bootSector() throws IOException, InterruptedException {
        GuestKit.assumeCommands("qemu-system-x86_64", "nasm");
        GuestKit.assumeIoemuSoftEngine(dir);
        Path asm = GuestKit.root().resolve("tests/src/test/resources/CpuTraceBootSector.asm");
        Path bin = dir.resolve("bootsector.bin");
        GuestKit.Run nasm = GuestKit.run(List.of("nasm", "-f", "bin", asm.toString(), "-o", bin.toString()), dir, "nasm", 60);
        assertEquals(0, nasm.exitStatus(), nasm.stderr());
        byte[] sector = Files.readAllBytes(bin);
        byte[] disk = new byte[1 << 20];
        System.arraycopy(sector, 0, disk, 0, sector.length);
        Path image = dir.resolve("bootsector.img");
        Files.write(image, disk);
        return image;
    }

    private static final Pattern TRACE_EVENT = Pattern.compile("^\\d+@\\d+\\.\\d+:\\w+ .*");

    /**
     * The log from the first in_asm block on (what came before is each BIOS's own code), with the
     * allowed differences rewritten the same way on both sides:
     * <ul>
     * <li>{@code Servicing hardware INT} lines: the BIOSes take timer interrupts at different
     *     times (the sector runs with interrupts off, so none falls inside it);
     * <li>trace-event lines ({@code -trace} writes to the same -D file; only ioemu has them here);
     * <li>the {@code Trace 0:} host pointer (QEMU's translated code; ioemu numbers its blocks);
     * <li>the {@code CCS= CCD= CCO=} line: QEMU's lazy-flag bookkeeping, not guest state;
     * <li>the GDT in the first block's dump (the sector loads its own at once) and ESP in the
     *     first three (the third block sets SP): what each BIOS left behind;
     * <li>QEMU's {@code Stopped execution of TB chain before …} lines appear when its main loop
     *     happens to interrupt a translation-block chain (host timing, which an interpreter has no
     *     equivalent of): the block logged just before did not run and is logged again when it
     *     does, so the line and that block's Trace line and register dump are dropped;
     * <li>{@code ILLOPC} lines are compared apart: QEMU logs them when it translates the block,
     *     ioemu when the CPU meets the opcode;
     * <li>the double fault's {@code check_exception} names the second fault in QEMU ({@code new
     *     0xd}) and the #DF in ioemu ({@code new 0x8}); QEMU also logs the third fault
     *     ({@code old: 0x8 new 0xd}) before {@code Triple fault}, which ioemu's CPU does not report.
     * </ul>
     */
    static List<String> normalise(List<String> log) {
        List<String> out = new ArrayList<>();
        boolean started = false;
        int dumps = 0;
        for (String line : log) {
            if (!started) {
                if (!line.equals("----------------")) {
                    continue;
                }
                started = true;
            }
            if (line.startsWith("Stopped execution of TB chain before ")) {
                // The block QEMU just logged did not run after all (it runs, and is logged, again):
                // drop its Trace line and the register dump that followed it.
                java.util.regex.Matcher pc = java.util.regex.Pattern.compile("\\[([0-9a-f]+)\\]").matcher(line);
                String where = pc.find() ? "/" + pc.group(1) + "/" : null;
                for (int k = out.size() - 1; k >= 0; k--) {
                    if (out.get(k).startsWith("Trace 0: ")) {
                        if (where != null && out.get(k).contains(where)) {
                            List<String> stoppedBlock = out.subList(k, out.size());
                            // Its dump does not count: the BIOS-state rules below apply by dump number.
                            dumps -= (int) stoppedBlock.stream().filter(l -> l.startsWith("EAX=")).count();
                            stoppedBlock.clear();
                        }
                        break;
                    }
                }
                continue;
            }
            if (line.startsWith("Servicing hardware INT=") || TRACE_EVENT.matcher(line).matches()
                    || line.startsWith("CCS=") || line.startsWith("ILLOPC:")) {
                continue;
            }
            if (line.startsWith("check_exception old: 0x8 new ")) {
                continue;
            }
            line = line.replaceFirst("^check_exception old: 0xd new 0x[0-9a-f]+$", "check_exception old: 0xd new (double fault)");
            line = line.replaceFirst("^Trace 0: 0x[0-9a-f]+ ", "Trace 0: HOST ");
            if (line.startsWith("EAX=")) {
                dumps++;
            }
            if (dumps <= 1) {
                line = line.replaceFirst("^GDT=.*", "GDT=(bios)");
            }
            if (dumps <= 3) {
                line = line.replaceFirst("ESP=[0-9a-f]{8}$", "ESP=(bios)");
            }
            out.add(line);
        }
        return out;
    }

    private static List<String> matching(List<String> log, String prefix) {
        return log.stream().filter(l -> l.startsWith(prefix)).toList();
    }

    /** QEMU's log of a block that an exit request stopped before it ran, then of its real run. */
    @Test
    void aBlockQemuStoppedBeforeItRanCountsOnce() {
        String trace = "Trace 0: 0x7f8cf4124c40 [0000000000000000/0000000000007c00/00000040/ff000200] ";
        String gdt = "GDT=     000f6180 00000037";
        List<String> stopped = List.of("----------------", "IN: ", trace, "EAX=00000000 EBX=00000000", gdt,
                "Stopped execution of TB chain before 0x7f8cf4124c40 [0000000000007c00] ", trace,
                "EAX=00000000 EBX=00000000", gdt, "----------------");
        List<String> once = List.of("----------------", "IN: ", trace, "EAX=00000000 EBX=00000000", gdt,
                "----------------");
        assertTrue(normalise(stopped).contains("GDT=(bios)"), "the block that ran is still the first dump");
        assertEquals(normalise(once), normalise(stopped));
        List<String> otherBlock = List.of("----------------", trace, "EAX=00000000 EBX=00000000",
                "Stopped execution of TB chain before 0x7f8cf4124c80 [0000000000007c05] ");
        assertEquals(3, normalise(otherBlock).size(), "a stop before another block removes nothing");
    }

    @Test
    void logLinesFromTheBootSectorOnAreQemusLines() throws Exception {
        bootBoth();
        List<String> q = normalise(qemuLog);
        List<String> i = normalise(ioemuLog);
        assertTrue(q.size() > 300, "QEMU logged the sector (" + q.size() + " lines)");
        for (int n = 0; n < Math.min(q.size(), i.size()); n++) {
            if (!q.get(n).equals(i.get(n))) {
                int from = Math.max(0, n - 8);
                throw new AssertionError("first difference at normalised line " + (n + 1) + ":\n  QEMU:  " + q.get(n)
                        + "\n  ioemu: " + i.get(n) + "\ncontext (QEMU):\n  " + String.join("\n  ", q.subList(from, n + 1)));
            }
        }
        assertEquals(q.size(), i.size(), "both logs end at the triple fault (no guest code runs after it)");
        assertEquals("Triple fault", i.get(i.size() - 1));
    }

    @Test
    void unimplementedOpcodeIsLoggedWithItsBytesAsQemuDoes() throws Exception {
        bootBoth();
        List<String> q = matching(qemuLog, "ILLOPC:");
        assertEquals(List.of("ILLOPC: 0000000000007c22: 0f 04"), q, "QEMU's line for the sector's 0F 04");
        assertEquals(q, matching(ioemuLog, "ILLOPC:"));
    }

    /**
     * The state dump before QEMU's system reset against ioemu's reset dump: the reset values of
     * GDTR, LDTR and TR limits, DR6 and DR7 are the SDM's (regression: they were 0). EDX differs by
     * CPU model (CPUID signature); CR0 and the IDTR limit by design: ioemu's HLE BIOS runs no POST
     * code, so the reset leaves them as SeaBIOS's POST does before booting (CD/NW clear, IDT limit
     * 3FFh) where the hardware and QEMU reset to 60000010h and FFFFh; the FPU/SSE block only QEMU has.
     */
    @Test
    void resetDumpShowsTheArchitecturalResetState() throws Exception {
        bootBoth();
        List<String> q = resetDump(qemuLog, 2);
        List<String> i = resetDump(ioemuLog, 1);
        assertEquals(mask(q), mask(i));
        assertTrue(i.contains("DR6=00000000ffff0ff0 DR7=0000000000000400"), String.join("\n", i));
    }

    private static List<String> resetDump(List<String> log, int occurrence) {
        int seen = 0;
        for (int n = 0; n < log.size(); n++) {
            if (log.get(n).equals("CPU Reset (CPU 0)") && ++seen == occurrence) {
                List<String> dump = new ArrayList<>();
                for (int k = n + 1; k < log.size() && !log.get(k).startsWith("EFER="); k++) {
                    dump.add(log.get(k));
                }
                return dump;
            }
        }
        throw new AssertionError("no CPU Reset block #" + occurrence + " in the log");
    }

    private static List<String> mask(List<String> dump) {
        return dump.stream().filter(l -> !l.startsWith("CCS="))
                .map(l -> l.replaceFirst("EDX=[0-9a-f]{8}", "EDX=(model)").replaceFirst("^CR0=[0-9a-f]{8}", "CR0=(bios)")
                        .replaceFirst("^IDT=     00000000 [0-9a-f]{8}$", "IDT=(bios)"))
                .toList();
    }

    @Test
    void cpuTraceEventsNameModeSwitchesExceptionsTheOpcodeAndTheTripleFault() throws Exception {
        bootBoth();
        List<String> events = ioemuLog.stream().filter(l -> TRACE_EVENT.matcher(l).matches())
                .map(l -> l.substring(l.indexOf(':') + 1)).toList();
        List<String> expected = List.of(
                "cpu_unknown_opcode cs 0x0000 eip 0x00007c22 bytes 0f 04",
                "cpu_exception vector 0x06 error_code 0x0 cs 0x0000 eip 0x00007c22",
                "cpu_mode_switch from real to PM16",
                "cpu_mode_switch from PM16 to PM32",
                "cpu_exception vector 0x0d error_code 0x1a cs 0x0008",
                "cpu_exception vector 0x08 error_code 0x0 cs 0x0008",
                "cpu_triple_fault cs 0x0008");
        List<String> seen = events.stream().filter(e -> !e.startsWith("cpu_reset")).toList();
        assertEquals(expected.size(), seen.size(), String.join("\n", events));
        for (int n = 0; n < expected.size(); n++) {
            assertTrue(seen.get(n).startsWith(expected.get(n)), "event " + n + ": " + seen.get(n));
        }
    }

    @Test
    void dHelpListsQemusLogItemsAndAnUnknownItemIsRefused() throws Exception {
        GuestKit.assumeCommands("qemu-system-x86_64");
        GuestKit.assumeIoemuSoftEngine(dir);
        GuestKit.Run q = GuestKit.run(List.of("qemu-system-x86_64", "-d", "help"), dir, "qemu-help", 30);
        GuestKit.Run i = GuestKit.run(List.of(GuestKit.root().resolve("emulator/bin/ioemu").toString(), "-d", "help"),
                dir, "ioemu-help", 30);
        assertEquals(0, i.exitStatus());
        assertEquals(Files.readString(dir.resolve("qemu-help.stdout")), Files.readString(dir.resolve("ioemu-help.stdout")));
        GuestKit.Run bad = GuestKit.run(List.of(GuestKit.root().resolve("emulator/bin/ioemu").toString(),
                "-d", "in_asm,bogus", "-nodefaults"), dir, "ioemu-bad", 30);
        assertEquals(1, bad.exitStatus());
        assertTrue(bad.stderr().startsWith("ioemu: -d in_asm,bogus: unknown log item 'bogus'\nLog items (comma separated):"),
                bad.stderr());
    }
}
