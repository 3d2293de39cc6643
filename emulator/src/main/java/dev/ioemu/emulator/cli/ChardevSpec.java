package dev.ioemu.emulator.cli;

import java.util.Map;

/**
 * Where a byte stream (qtest or QMP) comes from: QEMU's chardev backends that ioemu supports.
 * {@code server == false} means ioemu connects as a client, which is what the legacy syntax
 * {@code unix:PATH} means and what libqtest relies on (shared/spec/qtest.md §5.2).
 *
 * @param kind   stdio, unix, tcp or null (discard output, no input)
 * @param path   socket path (unix)
 * @param host   host name (tcp)
 * @param port   port number (tcp)
 * @param server listen instead of connecting
 * @param waitForClient when listening: block start-up until a client connects
 * @param source the option as the user wrote it ("-chardev socket,id=c,path=P" or "-qmp unix:P"),
 *               for messages; null when built by code
 */
public record ChardevSpec(Kind kind, String id, String path, String host, int port, boolean server, boolean waitForClient,
                          String source) {
    public enum Kind { STDIO, UNIX, TCP, NULL }

    /** A chardev built by code, with no command-line text to quote. */
    public ChardevSpec(Kind kind, String id, String path, String host, int port, boolean server, boolean waitForClient) {
        this(kind, id, path, host, port, server, waitForClient, null);
    }

    /** Equal when they name the same endpoint, however the user spelled it ({@link #source} is only a label). */
    @Override
    public boolean equals(Object o) {
        return o instanceof ChardevSpec c && kind == c.kind && java.util.Objects.equals(id, c.id)
                && java.util.Objects.equals(path, c.path) && java.util.Objects.equals(host, c.host) && port == c.port
                && server == c.server && waitForClient == c.waitForClient;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(kind, id, path, host, port, server, waitForClient);
    }

    /** How messages name this chardev: the option as written, or its address. */
    public String label(String option) {
        return source != null ? source : option + " " + this;
    }

    /**
     * Parses QEMU's legacy chardev syntax used by {@code -qtest} and {@code -qmp}:
     * {@code stdio}, {@code null}, {@code unix:PATH[,server=on|off][,wait=on|off]},
     * {@code tcp:HOST:PORT[,server=on|off][,wait=on|off]}.
     */
    public static ChardevSpec parseLegacy(String option, String text) throws UsageException {
        Map<String, String> opts = QemuOpts.parse(option, text, "backend");
        String backend = opts.getOrDefault("backend", "");
        for (String key : opts.keySet()) {
            if (!key.equals("backend") && !key.equals("server") && !key.equals("wait")
                    && !key.equals("nowait") && !key.equals("id")) {
                throw new UsageException(option + " " + text + ": Invalid parameter '" + key
                        + "' (expected: server, wait)");
            }
        }
        boolean server = CommandLine.onOff(option, text, "server", opts.get("server"), false);
        boolean wait = opts.containsKey("nowait") ? false
                : CommandLine.onOff(option, text, "wait", opts.get("wait"), true);
        String id = opts.get("id");
        if (backend.equals("stdio")) {
            return new ChardevSpec(Kind.STDIO, id, null, null, 0, false, false, option + " " + text);
        }
        if (backend.equals("null") || backend.equals("none")) {
            return new ChardevSpec(Kind.NULL, id, null, null, 0, false, false, option + " " + text);
        }
        if (backend.startsWith("unix:") && backend.length() > 5) {
            return new ChardevSpec(Kind.UNIX, id, backend.substring(5), null, 0, server, wait, option + " " + text);
        }
        if (backend.startsWith("tcp:")) {
            String hostPort = backend.substring(4);
            int colon = hostPort.lastIndexOf(':');
            if (colon < 0) {
                throw new UsageException(option + " " + text + ": tcp address '" + hostPort + "' (expected: HOST:PORT)");
            }
            String host = colon == 0 ? "localhost" : hostPort.substring(0, colon);
            return new ChardevSpec(Kind.TCP, id, null, host,
                    CommandLine.port(option, text, hostPort.substring(colon + 1)), server, wait, option + " " + text);
        }
        throw new UsageException(option + " " + text + ": chardev '" + backend
                + "' not supported (expected: stdio, null, unix:PATH, tcp:HOST:PORT)");
    }

    /** Parses {@code -chardev BACKEND,id=ID,...} (socket with path= or host=/port=, stdio, null). */
    public static ChardevSpec parseChardev(String text) throws UsageException {
        String option = "-chardev";
        Map<String, String> opts = QemuOpts.parse(option, text, "backend");
        String id = opts.get("id");
        if (id == null || id.isEmpty()) {
            throw new UsageException(option + " " + text + ": parameter 'id' is missing");
        }
        String backend = opts.getOrDefault("backend", "");
        for (String key : opts.keySet()) {
            if (!java.util.Set.of("backend", "id", "path", "host", "port", "server", "wait", "nowait",
                    "telnet", "logfile", "mux", "signal").contains(key)) {
                throw new UsageException(option + " " + text + ": Invalid parameter '" + key + "'");
            }
        }
        switch (backend) {
            case "stdio":
                return new ChardevSpec(Kind.STDIO, id, null, null, 0, false, false, option + " " + text);
            case "null":
                return new ChardevSpec(Kind.NULL, id, null, null, 0, false, false, option + " " + text);
            case "socket":
                break;
            default:
                throw new UsageException(option + " " + text + ": chardev backend '" + backend
                        + "' not supported (expected: socket, stdio, null)");
        }
        boolean server = CommandLine.onOff(option, text, "server", opts.get("server"), false);
        boolean wait = opts.containsKey("nowait") ? false
                : CommandLine.onOff(option, text, "wait", opts.get("wait"), true);
        if (opts.containsKey("path")) {
            return new ChardevSpec(Kind.UNIX, id, opts.get("path"), null, 0, server, wait, option + " " + text);
        }
        if (opts.containsKey("port")) {
            return new ChardevSpec(Kind.TCP, id, null, opts.getOrDefault("host", "localhost"),
                    CommandLine.port(option, text, opts.get("port")), server, wait, option + " " + text);
        }
        throw new UsageException(option + " " + text + ": socket chardev needs 'path' or 'port'");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case STDIO -> "stdio";
            case NULL -> "null";
            case UNIX -> "unix:" + path + (server ? ",server=on" : "");
            case TCP -> "tcp:" + host + ":" + port + (server ? ",server=on" : "");
        };
    }
}
