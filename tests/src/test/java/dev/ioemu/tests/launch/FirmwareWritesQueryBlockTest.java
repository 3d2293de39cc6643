package dev.ioemu.tests.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.emulator.qmp.Json;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: a running ioemu says each disk's {@code firmware-writes} setting where a user asks
 * QEMU about its drives — QMP {@code query-block} (ioemu's key {@code x-firmware-writes} in
 * {@code inserted}) and HMP {@code info block} (a "Firmware writes:" line) — while every field
 * QEMU 7.2 has keeps QEMU's value: the same drives are asked of QEMU in the same run.
 */
class FirmwareWritesQueryBlockTest {
    static final String QEMU = "qemu-system-x86_64";
    static final String[] REQUESTS = {
            "{\"execute\": \"qmp_capabilities\"}",
            "{\"execute\": \"query-block\"}",
            "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info block\"}}",
            "{\"execute\": \"quit\"}",
    };

    @TempDir
    Path dir;

    /** The replies to {@link #REQUESTS} (the "return" values), events left out. */
    private List<Object> replies(List<String> command, String tag) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile())
                .redirectError(dir.resolve(tag + ".stderr").toFile()).start();
        List<Object> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream in = p.getOutputStream();
            for (String req : REQUESTS) {
                in.write((req + "\n").getBytes(StandardCharsets.UTF_8));
            }
            in.flush();
            String line;
            while ((line = r.readLine()) != null) {
                Object msg = Json.parse(line);
                if (msg instanceof Map<?, ?> m && m.containsKey("return")) {
                    out.add(m.get("return"));
                }
            }
        } finally {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertEquals(REQUESTS.length, out.size(), tag + " answered " + out + "; stderr: "
                + Files.readString(dir.resolve(tag + ".stderr")));
        return out;
    }

    private List<String> drives(boolean ioemu) {
        return List.of("-drive", "file=d0.img,if=ide,format=raw,index=0",
                "-drive", "file=d1.img,if=ide,format=raw,index=1,cache=none" + (ioemu ? ",firmware-writes=cache" : ""),
                "-drive", "file=cd.iso,if=ide,format=raw,index=2,media=cdrom");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> inserted(List<Object> queryBlock, int i) {
        return (Map<String, Object>) ((Map<String, Object>) queryBlock.get(i)).get("inserted");
    }

    @Test
    @SuppressWarnings("unchecked")
    void queryBlockAndInfoBlockShowFirmwareWritesNextToQemusFields() throws Exception {
        for (String image : new String[] {"d0.img", "d1.img"}) {
            try (var ch = java.nio.channels.FileChannel.open(dir.resolve(image), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(0);
                ch.write(java.nio.ByteBuffer.allocate(1), (1 << 20) - 1);
            }
        }
        Files.write(dir.resolve("cd.iso"), new byte[1 << 20]);
        List<String> ioemuCmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main", "-machine", "pc", "-accel",
                "qtest", "-S", "-nodefaults", "-display", "none", "-qmp", "stdio"));
        ioemuCmd.addAll(drives(true));
        List<Object> ioemu = replies(ioemuCmd, "ioemu");

        List<Object> block = (List<Object>) ioemu.get(1);
        assertEquals(3, block.size(), block.toString());
        assertEquals("sync", inserted(block, 0).get("x-firmware-writes"), "the default: " + block.get(0));
        assertEquals("cache", inserted(block, 1).get("x-firmware-writes"), block.get(1).toString());
        assertFalse(inserted(block, 2).containsKey("x-firmware-writes"), "a CD-ROM is never written by INT 13h");
        String info = (String) ioemu.get(2);
        assertTrue(info.contains("ide0-hd0: d0.img (raw)\r\n    Attached to:      /machine/unattached/ide0-0\r\n"
                + "    Cache mode:       writeback\r\n    Firmware writes:  sync\r\n"), info);
        assertTrue(info.contains("    Cache mode:       writeback, direct\r\n    Firmware writes:  cache\r\n"), info);

        assumeTrue(onPath(QEMU), "skipped (the comparison with QEMU): " + QEMU + " not installed");
        List<String> qemuCmd = new ArrayList<>(List.of(QEMU, "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults",
                "-display", "none", "-qmp", "stdio"));
        qemuCmd.addAll(drives(false));
        List<Object> qemu = replies(qemuCmd, "qemu");
        List<Object> qemuBlock = (List<Object>) qemu.get(1);
        for (int i = 0; i < 3; i++) {
            Map<String, Object> ours = inserted(block, i);
            Map<String, Object> theirs = inserted(qemuBlock, i);
            for (Map.Entry<String, Object> e : ours.entrySet()) {
                if (e.getKey().equals("x-firmware-writes")) {
                    assertNull(theirs.get(e.getKey()), "QEMU has no such key");
                } else {
                    assertSubset(theirs.get(e.getKey()), e.getValue(), "drive " + i + " inserted." + e.getKey());
                }
            }
        }
        // info block: QEMU's lines, less its node names and device paths, plus ours.
        assertEquals(mask((String) qemu.get(2)), mask(info.replaceAll("    Firmware writes:  \\w+\r\n", "")));
    }

    /** ioemu reports a subset of QEMU's keys (e.g. no "actual-size"); each one it has must hold QEMU's value. */
    @SuppressWarnings("unchecked")
    private static void assertSubset(Object qemu, Object ioemu, String where) {
        if (ioemu instanceof Map<?, ?> ours && qemu instanceof Map<?, ?> theirs) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) ours).entrySet()) {
                assertTrue(theirs.containsKey(e.getKey()), where + "." + e.getKey() + ": QEMU has no such key");
                assertSubset(theirs.get(e.getKey()), e.getValue(), where + "." + e.getKey());
            }
        } else {
            assertEquals(qemu, ioemu, where);
        }
    }

    /** QEMU's "(#blockNNN)" node names and the qdev paths differ by design (README, query-block). */
    private static String mask(String infoBlock) {
        return infoBlock.replaceAll(" \\(#block\\d+\\)", "").replaceAll("Attached to:      \\S+", "Attached to:      Q");
    }

    private static boolean onPath(String command) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, command))) {
                return true;
            }
        }
        return false;
    }
}
