package dev.ioemu.tests.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ioemu.tools.qtest.QtestClient;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Locking and isolation between processes (issue 14): the sockets that control a VM are
 * owner-only whatever the umask (QEMU leaves them to the umask); two VMs — ioemu or QEMU, in
 * either order — never both write one image, and the one refused says so with QEMU's words; and
 * the guest-visible interfaces offer no path to host files (fw_cfg carries only the machine's own
 * tables; {@code -fw_cfg} with a host file is refused).
 */
class IsolationTest {
    @TempDir
    Path dir;

    Path image(String name) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        return p;
    }

    static boolean installed(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /** {@code command} run by sh with umask 000, so only the program's own chmod can protect a socket. */
    static List<String> withUmask000(List<String> command) {
        StringBuilder sh = new StringBuilder("umask 000; exec");
        for (String a : command) {
            sh.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        return List.of("sh", "-c", sh.toString());
    }

    @Test
    void qmpMonitorAndQtestSocketsAreOwnerOnlyEvenWithUmask000() throws Exception {
        Path qmp = dir.resolve("qmp.sock");
        Path mon = dir.resolve("mon.sock");
        Path qtest = dir.resolve("qtest.sock");
        List<String> args = List.of("-machine", "pc,accel=qtest", "-S", "-nodefaults", "-display", "none",
                "-qmp", "unix:" + qmp + ",server=on,wait=off",
                "-chardev", "socket,id=m0,path=" + mon + ",server=on,wait=off", "-mon", "chardev=m0,mode=control",
                "-qtest", "unix:" + qtest + ",server=on");
        try (Vm vm = Vm.start(dir, "ioemu", withUmask000(Vm.ioemu(args)))) {
            try (Vm.Qmp q = vm.qmp(qmp, 120)) {
                String status = q.execute("{\"execute\": \"query-status\"}");
                assertTrue(status.contains("\"running\": false"), status);
            }
            for (Path sock : List.of(qmp, mon, qtest)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.exists(sock) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(sock));
                System.out.println("IsolationTest: ioemu " + dir.relativize(sock) + " " + mode + " (umask 000)");
                assertEquals("rw-------", mode, sock + ": owner-only");
            }
        }
        if (installed("qemu-system-x86_64")) {
            // The peer, for the record: its socket mode is whatever the umask leaves.
            Path peer = dir.resolve("peer.sock");
            Process p = new ProcessBuilder(withUmask000(List.of("qemu-system-x86_64", "-machine", "none", "-S",
                    "-display", "none", "-nodefaults", "-qmp", "unix:" + peer + ",server=on,wait=off")))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!Files.exists(peer) && System.nanoTime() < deadline && p.isAlive()) {
                    Thread.sleep(50);
                }
                if (Files.exists(peer)) {
                    System.out.println("IsolationTest: QEMU 7.2 qmp socket "
                            + PosixFilePermissions.toString(Files.getPosixFilePermissions(peer)) + " (umask 000)");
                }
            } finally {
                p.destroy();
                p.waitFor(10, TimeUnit.SECONDS);
                p.destroyForcibly();
            }
        }
    }

    /** ioemu over qtest on {@code image}, holding it until closed. */
    QtestClient ioemuHolding(Path image, String name) throws Exception {
        QtestClient q = QtestClient.start(name, Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults",
                "-display", "none", "-drive", "file=" + image + ",if=ide,format=raw", "-qtest", "stdio")),
                dir.resolve(name + ".stderr"));
        q.inb(0x1F7);   // answered: the drive is open and locked
        return q;
    }

    record Run(int status, String stderr) {
    }

    Run run(List<String> cmd, String name) throws Exception {
        Path err = dir.resolve(name + ".stderr");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectOutput(dir.resolve(name + ".stdout").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError(name + " neither refused nor exited within 120 s");
        }
        return new Run(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** QEMU's refusal with its program name cut off: what both emulators must print. */
    static String refusal(Run r) {
        String s = r.stderr().strip();
        int colon = s.indexOf(": ");
        return colon < 0 ? s : s.substring(colon + 2);
    }

    @Test
    void aSecondIoemuAndQemuAreRefusedWhileIoemuRunsAndIoemuIsRefusedWhileQemuRuns() throws Exception {
        Path img = image("shared.img");
        String drive = "file=" + img + ",if=ide,format=raw";
        // QEMU 7.2 names no option here: it meets the lock when it realizes the IDE device.
        String expected = "Failed to get \"write\" lock\nIs another process using the image [" + img + "]?";
        try (QtestClient holder = ioemuHolding(img, "holder")) {
            Run second = run(Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults", "-display", "none",
                    "-drive", drive, "-qtest", "stdio")), "second");
            assertEquals(1, second.status(), second.stderr());
            assertEquals(expected, refusal(second), "a second ioemu: QEMU's message");
            assertTrue(second.stderr().startsWith("ioemu: "), second.stderr());
            assertEquals(0x50, holder.inb(0x1F7) & 0xD9, "the first VM is unharmed");
            if (installed("qemu-system-x86_64")) {
                Run qemu = run(List.of("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults",
                        "-display", "none", "-drive", drive), "qemu");
                assertEquals(1, qemu.status(), qemu.stderr());
                assertEquals(expected, refusal(qemu), "QEMU refused by ioemu's lock, in its own words");
            }
        }
        assumeTrue(installed("qemu-system-x86_64"), "skipped: qemu-system-x86_64 not installed (tests/setup.sh)");
        Process qemu = new ProcessBuilder("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults",
                "-display", "none", "-drive", drive).redirectErrorStream(true)
                .redirectOutput(dir.resolve("qemu-holder.log").toFile()).start();
        try {
            Run refused = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // Until QEMU has opened the image, ioemu may still start: retry until it is refused.
            while (System.nanoTime() < deadline && qemu.isAlive()) {
                Run r = run(Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults", "-display", "none",
                        "-drive", drive, "-qtest", "stdio")), "after-qemu");
                if (r.status() != 0) {
                    refused = r;
                    break;
                }
            }
            assertTrue(refused != null, "QEMU never held the image (alive=" + qemu.isAlive() + ")");
            assertEquals(1, refused.status(), refused.stderr());
            assertEquals(expected, refusal(refused), "ioemu refused by QEMU's lock");
        } finally {
            qemu.destroy();
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void fwCfgOffersOnlyTheMachinesOwnTablesAndNoHostFileOptionExists() throws Exception {
        try (QtestClient q = QtestClient.start("ioemu", Vm.ioemu(List.of("-machine", "pc,accel=qtest", "-nodefaults",
                "-display", "none", "-qtest", "stdio")), dir.resolve("fwcfg.stderr"))) {
            q.outw(0x510, 0x19);   // FW_CFG_FILE_DIR
            int count = 0;
            for (int i = 0; i < 4; i++) {
                count = count << 8 | q.inb(0x511);
            }
            TreeSet<String> names = new TreeSet<>();
            for (int f = 0; f < count; f++) {
                byte[] entry = new byte[64];
                for (int i = 0; i < 64; i++) {
                    entry[i] = (byte) q.inb(0x511);
                }
                int end = 8;
                while (end < 64 && entry[end] != 0) {
                    end++;
                }
                names.add(new String(entry, 8, end - 8, StandardCharsets.US_ASCII));
            }
            // The firmware's own tables, made in memory from the machine's configuration.
            assertEquals(new TreeSet<>(List.of("bootorder", "etc/boot-fail-wait", "etc/e820")), names);
        }
        Path secret = dir.resolve("host-secret.txt");
        Files.writeString(secret, "not for the guest");
        List<List<String>> attempts = new ArrayList<>();
        attempts.add(List.of("-fw_cfg", "name=opt/secret,file=" + secret));
        attempts.add(List.of("-fw_cfg", "opt/secret," + secret));
        attempts.add(List.of("-device", "loader,file=" + secret + ",addr=0x100000"));
        attempts.add(List.of("-kernel", secret.toString()));
        attempts.add(List.of("-option-rom", secret.toString()));
        for (List<String> a : attempts) {
            List<String> args = new ArrayList<>(List.of("-machine", "pc,accel=qtest", "-nodefaults", "-display", "none",
                    "-qtest", "stdio"));
            args.addAll(a);
            Run r = run(Vm.ioemu(args), "attempt");
            assertEquals(1, r.status(), a + ": " + r.stderr());
            String line = r.stderr().strip();
            assertFalse(line.contains("\n") || line.contains("Exception"), a + ": one clear line: " + line);
            assertTrue(line.startsWith("ioemu: "), line);
        }
    }
}
