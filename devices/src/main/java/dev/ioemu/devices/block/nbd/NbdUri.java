package dev.ioemu.devices.block.nbd;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Where an NBD export is, from the spellings QEMU 7.2 accepts (shared/spec/nbd.md §1.10, §2.1):
 * {@code nbd://HOST[:PORT]/EXPORT}, {@code nbd+tcp://…}, {@code nbd+unix:///EXPORT?socket=PATH}, and
 * the legacy {@code nbd:HOST:PORT[:exportname=NAME]} and {@code nbd:unix:PATH[:exportname=NAME]}.
 * The export name is the URI path without its first '/', percent-decoded; empty means the
 * server's default export.
 *
 * @param host   TCP host, or null for a Unix socket
 * @param port   TCP port
 * @param socket Unix socket path, or null for TCP
 * @param export export name ("" = default)
 */
public record NbdUri(String host, int port, String socket, String export) {

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
        String query = uri.getRawQuery();
        if (uri.getScheme().equals("nbd+unix")) {
            if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
                throw new IllegalStateException("a unix socket URI has no host");
            }
            if (query == null || !query.startsWith("socket=") || query.contains("&")) {
                throw new IllegalStateException("exactly one query parameter, socket=PATH");
            }
            String socket = URLDecoder.decode(query.substring("socket=".length()), StandardCharsets.UTF_8);
            if (socket.isEmpty()) {
                throw new IllegalStateException("socket= is empty");
            }
            return new NbdUri(null, 0, socket, export);
        }
        if (query != null) {
            throw new IllegalStateException("no query parameters for TCP");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalStateException("no host");
        }
        int port = uri.getPort() < 0 ? NbdProtocol.DEFAULT_PORT : uri.getPort();
        return new NbdUri(uri.getHost(), port, null, export);
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
            return new NbdUri(null, 0, socket, export);
        }
        int colon = rest.lastIndexOf(':');
        String host = colon < 0 ? rest : rest.substring(0, colon);
        int port = colon < 0 ? NbdProtocol.DEFAULT_PORT : Integer.parseInt(rest.substring(colon + 1));
        if (host.isEmpty() || port <= 0 || port > 65535) {
            throw new IllegalStateException("host or port missing");
        }
        return new NbdUri(host, port, null, export);
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
