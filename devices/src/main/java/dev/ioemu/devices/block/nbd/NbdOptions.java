package dev.ioemu.devices.block.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's spelling of an NBD node (qapi/block-core.json {@code BlockdevOptionsNbd}, shared/spec/
 * nbd.md §2.1): {@code driver=nbd,server.type=inet|unix,server.host=H,server.port=P,
 * server.path=S,export=E,reconnect-delay=S,open-timeout=S}, turned into the one {@link NbdUri}
 * the block layer opens. {@code -drive} also takes the keys under {@code file.} with
 * {@code file.driver=nbd} (and {@code driver=raw} above it), and {@code file.reconnect-delay} /
 * {@code file.open-timeout} next to an {@code nbd://} URI. TLS ({@code tls-creds},
 * {@code tls-hostname}) is refused with a clear line; so is {@code server.type=fd}.
 */
public final class NbdOptions {
    private NbdOptions() {
    }

    /** The nbd driver's own keys (after the node's prefix). */
    public static final List<String> KEYS = List.of("server.type", "server.host", "server.port", "server.path",
            "export", "reconnect-delay", "open-timeout", "tls-creds", "tls-hostname");

    /**
     * The URI for one nbd node's keys (without prefix; keys that are not the nbd driver's are
     * ignored here, the caller rejects them).
     *
     * @throws IllegalArgumentException "what: value (expected: …)" in QEMU's words where it has them
     */
    public static String toUri(Map<String, String> keys) {
        for (String tls : List.of("tls-creds", "tls-hostname")) {
            if (keys.containsKey(tls)) {
                throw new IllegalArgumentException(tls + ": '" + keys.get(tls)
                        + "' (expected: no " + tls + "; NBD over TLS is not supported)");
            }
        }
        String type = keys.get("server.type");
        if (type == null) {
            throw new IllegalArgumentException("nbd: Parameter 'server.type' is missing (expected: inet or unix)");
        }
        int reconnectDelay = seconds(keys, "reconnect-delay");
        int openTimeout = seconds(keys, "open-timeout");
        String export = keys.getOrDefault("export", "");
        NbdUri uri = switch (type) {
            case "unix" -> {
                only(keys, "server.path");
                String path = keys.get("server.path");
                if (path == null || path.isEmpty()) {
                    throw new IllegalArgumentException("nbd: Parameter 'server.path' is missing");
                }
                yield new NbdUri(null, 0, path, export, reconnectDelay, openTimeout);
            }
            case "inet" -> {
                only(keys, "server.host", "server.port");
                String host = keys.get("server.host");
                String port = keys.get("server.port");
                if (host == null || host.isEmpty()) {
                    throw new IllegalArgumentException("nbd: Parameter 'server.host' is missing");
                }
                if (port == null || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1
                        || Integer.parseInt(port) > 65535) {
                    throw new IllegalArgumentException("server.port: '" + port + "' (expected: a TCP port 1..65535)");
                }
                yield new NbdUri(host, Integer.parseInt(port), null, export, reconnectDelay, openTimeout);
            }
            default -> throw new IllegalArgumentException("server.type: '" + type + "' (expected: inet or unix"
                    + ("fd".equals(type) ? "; a passed file descriptor is not supported" : "") + ")");
        };
        return uri.toUri();
    }

    /**
     * {@code -drive} keys with the nbd driver's options rewritten to {@code file=URI}; a map
     * without them is returned as is.
     *
     * @throws IllegalArgumentException "what: value (expected: …)"
     */
    public static Map<String, String> fromDriveKeys(Map<String, String> options) {
        String prefix;
        if ("nbd".equals(options.get("driver"))) {
            prefix = "";
        } else if ("nbd".equals(options.get("file.driver"))) {
            if (options.containsKey("driver") && !"raw".equals(options.get("driver"))) {
                throw new IllegalArgumentException("driver: '" + options.get("driver")
                        + "' above file.driver=nbd (expected: raw)");
            }
            prefix = "file.";
        } else {
            return withTimeoutsOnUri(options);
        }
        if (prefix.isEmpty() && options.containsKey("file")) {
            throw new IllegalArgumentException("file: '" + options.get("file")
                    + "' with driver=nbd (expected: server.* and export=, or file=nbd://… without driver=nbd)");
        }
        Map<String, String> nbd = new LinkedHashMap<>();
        Map<String, String> rest = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            if (key.equals("driver") || key.equals(prefix + "driver")) {
                continue;
            }
            if (key.startsWith(prefix) && KEYS.contains(key.substring(prefix.length()))) {
                nbd.put(key.substring(prefix.length()), e.getValue());
            } else if (key.startsWith(prefix + "server.")) {
                throw new IllegalArgumentException("drive option: '" + key + "' (expected: " + prefix
                        + "server.type, " + prefix + "server.host, " + prefix + "server.port or " + prefix
                        + "server.path)");
            } else {
                rest.put(key, e.getValue());
            }
        }
        rest.put("file", toUri(nbd));
        return rest;
    }

    /** {@code file=nbd://…,file.reconnect-delay=S,file.open-timeout=S}: the seconds move into the URI. */
    private static Map<String, String> withTimeoutsOnUri(Map<String, String> options) {
        if (!options.containsKey("file.reconnect-delay") && !options.containsKey("file.open-timeout")) {
            return options;
        }
        String file = options.get("file");
        if (file == null || !NbdUri.isNbd(file)) {
            throw new IllegalArgumentException("file.reconnect-delay/file.open-timeout with file: '" + file
                    + "' (expected: an NBD export, file=nbd://…)");
        }
        NbdUri u = NbdUri.parse(file);
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("reconnect-delay", options.getOrDefault("file.reconnect-delay", String.valueOf(u.reconnectDelay())));
        keys.put("open-timeout", options.getOrDefault("file.open-timeout", String.valueOf(u.openTimeout())));
        Map<String, String> rest = new LinkedHashMap<>(options);
        rest.remove("file.reconnect-delay");
        rest.remove("file.open-timeout");
        rest.put("file", new NbdUri(u.host(), u.port(), u.socket(), u.export(), seconds(keys, "reconnect-delay"),
                seconds(keys, "open-timeout")).toUri());
        return rest;
    }

    private static void only(Map<String, String> keys, String... allowed) {
        for (String k : List.of("server.host", "server.port", "server.path")) {
            if (keys.containsKey(k) && !List.of(allowed).contains(k)) {
                throw new IllegalArgumentException("nbd: Parameter '" + k + "' is unexpected with server.type="
                        + keys.get("server.type"));
            }
        }
    }

    private static int seconds(Map<String, String> keys, String key) {
        String v = keys.get(key);
        if (v == null) {
            return 0;
        }
        if (!v.matches("\\d{1,9}")) {
            throw new IllegalArgumentException(key + ": '" + v + "' (expected: a whole number of seconds)");
        }
        return Integer.parseInt(v);
    }
}
