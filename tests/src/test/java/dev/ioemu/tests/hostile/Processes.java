package dev.ioemu.tests.hostile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starting ioemu and the QEMU peers as separate processes, with a time bound on each. */
final class Processes {
    /** Longest a single process may take before it counts as hung. */
    static final long TIMEOUT_SECONDS = 60;

    private Processes() {
    }

    /** The ioemu emulator as its own JVM, from this test's class path (always the code under test). */
    static List<String> ioemu(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ioemu.emulator.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static boolean installed(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** QEMU as the judge: the same machine as ioemu's, paused, without defaults. */
    static List<String> qemu(String... args) {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-S",
                "-nodefaults", "-display", "none"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** A finished run: exit status (-1 if it had to be killed), stdout and stderr. */
    record Result(int status, String stdout, String stderr, boolean hung) {
    }

    /** Runs {@code cmd} with {@code input} on stdin (then closed) and waits, at most the timeout. */
    static Result run(List<String> cmd, byte[] input) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread o = drain(p.getInputStream(), out);
        Thread e = drain(p.getErrorStream(), err);
        try {
            p.getOutputStream().write(input);
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // The process exited before reading everything: its output says why.
        }
        boolean done = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            p.waitFor();
        }
        // The process has ended, so its pipes reach end of file; on a loaded host copying what
        // is left can take seconds, and a shorter wait cut a QEMU transcript mid-line.
        o.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        e.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        return new Result(done ? p.exitValue() : -1, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8), !done);
    }

    static Thread drain(InputStream in, ByteArrayOutputStream to) {
        Thread t = new Thread(() -> {
            try {
                in.transferTo(to);
            } catch (IOException ignored) {
                // The stream closed with the process.
            }
        }, "drain");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
