package dev.ioemu.devices.block.nbd;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where an NBD export is, from the spellings QEMU 7.2 accepts (shared/spec/nbd.md §1.10, §2.1):
 * {@code nbd://HOST[:PORT]/EXPORT}, {@code nbd+tcp://…}, {@code nbd+unix:///EXPORT?socket=PATH}, and
 * the legacy {@code nbd:HOST:PORT[:exportname=NAME]} and {@code nbd:unix:PATH[:exportname=NAME]}.
 * The export name is the URI path without its first '/', percent-decoded; empty means the
 * server's default export.
 *
 * <p>QEMU's {@code reconnect-delay} and {@code open-timeout} ride in the URI as the experimental
 * query parameters {@code x-reconnect-delay=S} and {@code x-open-timeout=S} (doc/uri.md reserves
 * {@code x-} for such extensions); {@link NbdOptions} writes them for {@code driver=nbd}.
 *
 * @param host           TCP host, or null for a Unix socket
 * @param port           TCP port
 * @param socket         Unix socket path, or null for TCP
 * @param export         export name ("" = default)
 * @param reconnectDelay seconds requests wait for a lost connection to come back (0: fail at once)
 * @param openTimeout    seconds the first connection is retried (0: one attempt)
 */
public record NbdUri(String host, int port, String socket, String export, int reconnectDelay, int openTimeout) {
    /** Query parameters of ours: QEMU's driver=nbd options. */
    static final String RECONNECT_DELAY = "x-reconnect-delay";
    static final String OPEN_TIMEOUT = "x-open-timeout";

    public NbdUri {
        if (reconnectDelay < 0 || openTimeout < 0) {
            throw new IllegalArgumentException("reconnect-delay " + reconnectDelay + ", open-timeout " + openTimeout
                    + " (expected: seconds ≥ 0)");
        }
    }

    /** True when {@code file} names an NBD export rather than a host path. */
    public static boolean isNbd(String file) {
        return file.startsWith("nbd:") || file.startsWith("nbd+tcp:") || file.startsWith("nbd+unix:");
    }

    /**
     * @throws IllegalArgumentException "file: 'TEXT' (expected: nbd://HOST[:PORT]/EXPORT, …)"
     */
    public static NbdUri parse(String file) {
        try {
            if (file.startsWith("nbd://") || file.startsWith("nbd+tcp://") || file.startsWith("nbd+unix://")) {
                return fromUri(file);
            }
            if (file.startsWith("nbd:")) {
                return legacy(file.substring(4));
            }
        } catch (URISyntaxException | NumberFormatException | IllegalStateException e) {
            throw bad(file, e.getMessage());
        }
        throw bad(file, null);
    }

    private static NbdUri fromUri(String file) throws URISyntaxException {
        URI uri = new URI(file);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String export = URLDecoder.decode(path.startsWith("/") ? path.substring(1) : path, StandardCharsets.UTF_8);
        Map<String, String> query = new LinkedHashMap<>();
        if (uri.getRawQuery() != null) {
            for (String item : uri.getRawQuery().split("&")) {
                int eq = item.indexOf('=');
                if (eq <= 0 || query.put(item.substring(0, eq),
                        URLDecoder.decode(item.substring(eq + 1), StandardCharsets.UTF_8)) != null) {
                    throw new IllegalStateException("query parameter '" + item + "' malformed or given twice");
                }
            }
        }
        int reconnectDelay = seconds(query.remove(RECONNECT_DELAY), RECONNECT_DELAY);
        int openTimeout = seconds(query.remove(OPEN_TIMEOUT), OPEN_TIMEOUT);
        if (uri.getScheme().equals("nbd+unix")) {
            if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
                throw new IllegalStateException("a unix socket URI has no host");
            }
            String socket = query.remove("socket");
            if (socket == null || !query.isEmpty()) {
                throw new IllegalStateException("exactly one query parameter, socket=PATH");
            }
            if (socket.isEmpty()) {
                throw new IllegalStateException("socket= is empty");
            }
            return new NbdUri(null, 0, socket, export, reconnectDelay, openTimeout);
        }
        if (!query.isEmpty()) {
            throw new IllegalStateException("no query parameters for TCP");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalStateException("no host");
        }
        int port = uri.getPort() < 0 ? NbdProtocol.DEFAULT_PORT : uri.getPort();
        return new NbdUri(uri.getHost(), port, null, export, reconnectDelay, openTimeout);
    }

    private static int seconds(String value, String key) {
        if (value == null) {
            return 0;
        }
        if (!value.matches("\\d{1,9}")) {
            throw new IllegalStateException(key + "=" + value + " is not a number of seconds");
        }
        return Integer.parseInt(value);
    }

    /**
     * The URI that {@link #parse} reads back as this record: {@code nbd://HOST:PORT/EXPORT} or
     * {@code nbd+unix:///EXPORT?socket=PATH}, with the x- parameters when they are not 0.
     */
    public String toUri() {
        StringBuilder b = new StringBuilder();
        if (socket != null) {
            b.append("nbd+unix:///").append(encode(export)).append("?socket=").append(encode(socket));
        } else {
            b.append("nbd://").append(host.contains(":") ? "[" + host + "]" : host).append(':').append(port)
                    .append('/').append(encode(export));
        }
        String sep = socket != null ? "&" : "?";
        if (reconnectDelay > 0) {
            b.append(sep).append(RECONNECT_DELAY).append('=').append(reconnectDelay);
            sep = "&";
        }
        if (openTimeout > 0) {
            b.append(sep).append(OPEN_TIMEOUT).append('=').append(openTimeout);
        }
        return b.toString();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    private static NbdUri legacy(String rest) {
        String export = "";
        int at = rest.indexOf(":exportname=");
        if (at >= 0) {
            export = rest.substring(at + ":exportname=".length());
            rest = rest.substring(0, at);
        }
        if (rest.startsWith("unix:")) {
            String socket = rest.substring(5);
            if (socket.isEmpty()) {
                throw new IllegalStateException("no socket path");
            }
            return new NbdUri(null, 0, socket, export, 0, 0);
        }
        int colon = rest.lastIndexOf(':');
        String host = colon < 0 ? rest : rest.substring(0, colon);
        int port = colon < 0 ? NbdProtocol.DEFAULT_PORT : Integer.parseInt(rest.substring(colon + 1));
        if (host.isEmpty() || port <= 0 || port > 65535) {
            throw new IllegalStateException("host or port missing");
        }
        return new NbdUri(host, port, null, export, 0, 0);
    }

    private static IllegalArgumentException bad(String file, String why) {
        return new IllegalArgumentException("file: '" + file + "' " + (why == null ? "" : "(" + why + "; ")
                + (why == null ? "(" : "") + "expected: nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH, "
                + "nbd:HOST:PORT[:exportname=NAME] or nbd:unix:PATH[:exportname=NAME])");
    }

    /** "unix:/run/x.sock" or "host:port", for messages. */
    public String where() {
        return socket != null ? "unix:" + socket : host + ":" + port;
    }
}
