package dev.ioemu.tests.remote;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The NBD servers the remote-disk tests run against, started in the foreground as children of the
 * test (or, for nbd-server, which always daemonizes, through its pid file) and stopped by
 * {@link #close}. Readiness is the client's business: URIs carry {@code x-open-timeout}, so the
 * first open retries until the server listens (shared/spec/nbd.md §3.1: never a fixed sleep).
 */
final class NbdServers implements AutoCloseable {
    /** The servers of nbd.md §3.1, each over the transport it is tested on. */
    enum Kind {
        QEMU_NBD_UNIX("qemu-nbd", true, true),
        QEMU_NBD_TCP("qemu-nbd", false, true),
        QSD_UNIX("qemu-storage-daemon", true, true),
        QSD_TCP("qemu-storage-daemon", false, true),
        NBDKIT_MEMORY_UNIX("nbdkit", true, false),
        NBDKIT_FILE_UNIX("nbdkit", true, true),
        NBDKIT_FILE_TCP("nbdkit", false, true),
        NBD_SERVER_TCP("nbd-server", false, true);

        final String command;
        final boolean unix;
        /** Backed by a file the test can read; the memory plugin is not. */
        final boolean fileBacked;

        Kind(String command, boolean unix, boolean fileBacked) {
            this.command = command;
            this.unix = unix;
            this.fileBacked = fileBacked;
        }

        boolean installed() {
            return NbdBackendTest.works(command, command.equals("nbd-server") ? "-V" : "--version");
        }
    }

    /** One started export: its URI (with x-open-timeout) and backing file (null for memory). */
    record Export(Kind kind, String uri, Path file, Process process, Path pidFile, List<String> command, Path socket,
                  int index) {
        /** The same URI with extra query parameters ("x-reconnect-delay=5"). */
        String uri(String extra) {
            return uri + (uri.contains("?") ? "&" : "?") + extra;
        }
    }

    static final long SIZE = 16 << 20;

    private final Path dir;
    private final List<Export> started = new ArrayList<>();
    private int count;

    NbdServers(Path dir) {
        this.dir = dir;
    }

    /** Starts {@code kind} on a fresh sparse image of {@link #SIZE} bytes; skips if it is not installed. */
    Export start(Kind kind) throws IOException {
        Path image = dir.resolve("export-" + count + ".img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(SIZE);
        }
        return start(kind, image, List.of());
    }

    /**
     * Starts {@code kind} over {@code image} (ignored by the memory plugin); {@code nbdkitFilters}
     * go before the plugin ("--filter=error", …, then their parameters after it).
     */
    Export start(Kind kind, Path image, List<String> nbdkitFilters) throws IOException {
        assumeTrue(kind.installed(), "skipped: " + kind.command + " not installed (tests/setup.sh installs it)");
        int n = count++;
        Path sock = dir.resolve("s" + n + ".sock");
        int port = kind.unix ? 0 : freePort();
        String where = kind.unix ? "nbd+unix:///disk0?socket=" + sock : "nbd://127.0.0.1:" + port + "/disk0";
        List<String> cmd = new ArrayList<>();
        Path pid = null;
        switch (kind.command) {
            case "qemu-nbd" -> {
                // --discard=unmap: qemu-nbd ignores TRIM by default, and the tests show it lands.
                cmd.addAll(List.of("qemu-nbd", "-f", "raw", "-e", "8", "-t", "--discard=unmap", "-x", "disk0"));
                cmd.addAll(kind.unix ? List.of("-k", sock.toString()) : List.of("-b", "127.0.0.1", "-p",
                        String.valueOf(port)));
                cmd.add(image.toString());
            }
            case "qemu-storage-daemon" -> {
                cmd.addAll(List.of("qemu-storage-daemon", "--blockdev",
                        "driver=file,node-name=f,discard=unmap,filename=" + image.toString().replace(",", ",,"),
                        "--blockdev", "driver=raw,node-name=r,discard=unmap,file=f", "--nbd-server",
                        kind.unix ? "addr.type=unix,addr.path=" + sock
                                : "addr.type=inet,addr.host=127.0.0.1,addr.port=" + port,
                        "--export", "type=nbd,id=e,node-name=r,name=disk0,writable=on"));
            }
            case "nbdkit" -> {
                cmd.addAll(List.of("nbdkit", "-f", "--exportname=disk0"));
                cmd.addAll(kind.unix ? List.of("-U", sock.toString()) : List.of("-i", "127.0.0.1", "-p",
                        String.valueOf(port)));
                List<String> params = new ArrayList<>();
                for (String f : nbdkitFilters) {
                    (f.startsWith("--filter=") ? cmd : params).add(f);
                }
                if (kind.fileBacked) {
                    cmd.addAll(List.of("file", image.toString()));
                } else {
                    cmd.addAll(List.of("memory", String.valueOf(SIZE)));
                }
                cmd.addAll(params);
            }
            default -> {
                Path conf = dir.resolve("nbd-server-" + n + ".conf");
                pid = dir.resolve("nbd-server-" + n + ".pid");
                Files.writeString(conf, "[generic]\n    listenaddr = 127.0.0.1\n    port = " + port
                        + "\n    allowlist = false\n[disk0]\n    exportname = " + image + "\n    trim = true\n"
                        + "    flush = true\n    fua = true\n");
                cmd.addAll(List.of("nbd-server", "-C", conf.toString(), "-p", pid.toString()));
            }
        }
        Process p = launch(cmd, n);
        Export e = new Export(kind, where + (kind.unix ? "&" : "?") + "x-open-timeout=20",
                kind.fileBacked ? image : null, p, pid, List.copyOf(cmd), kind.unix ? sock : null, n);
        started.add(e);
        return e;
    }

    /** Starts {@code e}'s server again, same command, socket or port (after {@link #kill}). */
    Export restart(Export e) throws IOException {
        if (e.socket() != null) {
            Files.deleteIfExists(e.socket());
        }
        Export again = new Export(e.kind(), e.uri(), e.file(), launch(e.command(), e.index()), e.pidFile(), e.command(),
                e.socket(), e.index());
        started.add(again);
        return again;
    }

    private Process launch(List<String> cmd, int n) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server-" + n + ".log").toFile())).start();
    }

    /** Kills {@code e}'s server at once (SIGKILL: no goodbye to its clients). */
    void kill(Export e) throws IOException, InterruptedException {
        e.process().destroyForcibly();
        e.process().waitFor(10, TimeUnit.SECONDS);
        if (e.pidFile() != null && Files.exists(e.pidFile())) {
            long pid = Long.parseLong(Files.readString(e.pidFile()).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** The nbd-server log or the server's output, for failure messages. */
    String log(Export e) throws IOException {
        Path log = dir.resolve("server-" + e.index() + ".log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (Export e : started) {
            kill(e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
