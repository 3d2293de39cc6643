package dev.ioemu.devices.block;

import dev.ioemu.devices.host.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The rules of a blkdebug node (QEMU block/blkdebug.c, docs "blkdebug"): {@code [inject-error]}
 * and {@code [set-state]} groups read from a config file in QEMU's config syntax, followed by the
 * same groups given as options ({@code inject-error.N.KEY}, {@code set-state.N.KEY}).
 *
 * <p>Config file syntax (QEMU's {@code qemu_config_parse}): a group line {@code [inject-error]}
 * or {@code [set-state]}, then {@code key = "value"} lines; blank lines and {@code #} comments.
 * Keys of {@code [inject-error]}: {@code event} (required), {@code state}, {@code iotype},
 * {@code errno} (default EIO), {@code sector}, {@code once}, {@code immediately}. Keys of
 * {@code [set-state]}: {@code event} (required), {@code state}, {@code new_state}.
 *
 * @param injectErrors the inject-error rules, file first, in the order written
 * @param setStates    the set-state rules, file first, in the order written
 */
public record BlkDebugConfig(List<InjectError> injectErrors, List<SetState> setStates) {

    /**
     * {@code [inject-error]}: when {@code event} is raised in {@code state} (0 = any state), the
     * next request of {@code iotype} (null = read, write, write-zeroes, discard and flush) whose
     * range contains {@code sector} (-1 = any) fails with {@code -errno}; {@code once} removes the
     * rule after it failed one request. {@code immediately} is kept for QEMU's syntax: ioemu's
     * requests complete on the I/O thread either way.
     */
    public record InjectError(BlkDebugEvent event, int state, FaultInjection.IoType iotype, int errno, long sector,
                              boolean once, boolean immediately) {
    }

    /** {@code [set-state]}: when {@code event} is raised in {@code state} (0 = any), the state becomes {@code newState}. */
    public record SetState(BlkDebugEvent event, int state, int newState) {
    }

    public BlkDebugConfig {
        injectErrors = List.copyOf(injectErrors);
        setStates = List.copyOf(setStates);
    }

    /** No rules: breakpoints only. */
    public static final BlkDebugConfig EMPTY = new BlkDebugConfig(List.of(), List.of());

    private static final List<String> INJECT_KEYS = List.of("event", "state", "iotype", "errno", "sector", "once",
            "immediately");
    private static final List<String> SET_STATE_KEYS = List.of("event", "state", "new_state");

    /**
     * Reads {@code configFile} (null or empty: none) and adds the option rules.
     *
     * @param options keys {@code inject-error.N.KEY} and {@code set-state.N.KEY}
     * @throws IllegalArgumentException "what: value (expected: …)", with file and line for a file
     */
    public static BlkDebugConfig load(String configFile, Map<String, String> options) {
        List<InjectError> injects = new ArrayList<>();
        List<SetState> sets = new ArrayList<>();
        if (configFile != null && !configFile.isEmpty()) {
            readFile(configFile, injects, sets);
        }
        Map<Integer, Map<String, String>> injectGroups = new TreeMap<>();
        Map<Integer, Map<String, String>> setGroups = new TreeMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            Map<Integer, Map<String, String>> target;
            String rest;
            if (key.startsWith("inject-error.")) {
                target = injectGroups;
                rest = key.substring("inject-error.".length());
            } else if (key.startsWith("set-state.")) {
                target = setGroups;
                rest = key.substring("set-state.".length());
            } else {
                throw new IllegalArgumentException("blkdebug option: '" + key
                        + "' (expected: config, inject-error.N.KEY, set-state.N.KEY)");
            }
            int dot = rest.indexOf('.');
            if (dot <= 0 || dot > 9 || !rest.substring(0, dot).matches("\\d+")) {
                throw new IllegalArgumentException("blkdebug option: '" + key + "' (expected: a rule number N below "
                        + "10^9, e.g. inject-error.0.event)");
            }
            target.computeIfAbsent(Integer.parseInt(rest.substring(0, dot)), k -> new LinkedHashMap<>())
                    .put(rest.substring(dot + 1), e.getValue());
        }
        for (Map<String, String> g : injectGroups.values()) {
            injects.add(injectError(g, "inject-error option"));
        }
        for (Map<String, String> g : setGroups.values()) {
            sets.add(setState(g, "set-state option"));
        }
        return new BlkDebugConfig(injects, sets);
    }

    private static void readFile(String file, List<InjectError> injects, List<SetState> sets) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("Could not read blkdebug config file: '" + file + "' ("
                    + (e instanceof java.nio.file.NoSuchFileException ? "No such file or directory" : e.getMessage())
                    + ")");
        }
        String group = null;
        Map<String, String> keys = null;
        int groupLine = 0;
        for (int n = 0; n <= lines.size(); n++) {
            String line = n < lines.size() ? lines.get(n).strip() : "[end]";
            String where = file + ":" + (n + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[")) {
                if (group != null) {
                    String gw = file + ":" + groupLine;
                    if (group.equals("inject-error")) {
                        injects.add(injectError(keys, gw));
                    } else {
                        sets.add(setState(keys, gw));
                    }
                }
                if (n == lines.size()) {
                    break;
                }
                if (!line.endsWith("]")) {
                    throw new IllegalArgumentException(where + ": parse error (expected: [group])");
                }
                group = line.substring(1, line.length() - 1).strip();
                if (!group.equals("inject-error") && !group.equals("set-state")) {
                    throw new IllegalArgumentException(where + ": no group defined for '" + group
                            + "' (expected: inject-error, set-state)");
                }
                keys = new LinkedHashMap<>();
                groupLine = n + 1;
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0 || group == null) {
                throw new IllegalArgumentException(where + ": parse error (expected: key = \"value\" after a group)");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() < 2 || !value.startsWith("\"") || !value.endsWith("\"")) {
                throw new IllegalArgumentException(where + ": parse error (expected: key = \"value\")");
            }
            keys.put(key, value.substring(1, value.length() - 1));
        }
    }

    private static InjectError injectError(Map<String, String> keys, String where) {
        check(keys, INJECT_KEYS, where);
        BlkDebugEvent event = event(keys, where);
        FaultInjection.IoType iotype = null;
        if (keys.containsKey("iotype")) {
            String t = keys.get("iotype");
            iotype = "block-status".equals(t) ? null : FaultInjection.IoType.parse(t);
            if (iotype == null) {
                throw new IllegalArgumentException(where + ": iotype: 'block-status' (ioemu has no block-status "
                        + "requests to fail; expected: read, write, write-zeroes, discard, flush)");
            }
        }
        int errno = Errno.EIO;
        if (keys.containsKey("errno")) {
            errno = (int) number(where, "errno", keys.get("errno"), 1, 4095);
        }
        long sector = keys.containsKey("sector") ? number(where, "sector", keys.get("sector"), -1, Long.MAX_VALUE / 512)
                : -1;
        return new InjectError(event, state(keys, "state", where), iotype, errno, sector,
                bool(where, "once", keys.get("once")), bool(where, "immediately", keys.get("immediately")));
    }

    private static SetState setState(Map<String, String> keys, String where) {
        check(keys, SET_STATE_KEYS, where);
        return new SetState(event(keys, where), state(keys, "state", where), state(keys, "new_state", where));
    }

    private static void check(Map<String, String> keys, List<String> allowed, String where) {
        for (String k : keys.keySet()) {
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException(where + ": Invalid parameter '" + k + "' (expected: "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    private static BlkDebugEvent event(Map<String, String> keys, String where) {
        String name = keys.get("event");
        if (name == null) {
            throw new IllegalArgumentException(where + ": Missing event name for rule");
        }
        BlkDebugEvent e = BlkDebugEvent.byName(name);
        if (e == null) {
            throw new IllegalArgumentException(where + ": event: '" + name + "' (expected: a blkdebug event such "
                    + "as flush_to_disk, flush_to_os, read_aio, write_aio, pwritev, pwritev_done)");
        }
        return e;
    }

    private static int state(Map<String, String> keys, String key, String where) {
        return keys.containsKey(key) ? (int) number(where, key, keys.get(key), 0, Integer.MAX_VALUE) : 0;
    }

    private static long number(String where, String key, String value, long min, long max) {
        try {
            long v = Long.parseLong(value.strip());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(where + ": " + key + ": '" + value + "' (expected: a number from " + min
                + " to " + max + ")");
    }

    private static boolean bool(String where, String key, String value) {
        if (value == null) {
            return false;
        }
        return switch (value) {
            case "on", "yes", "true" -> true;
            case "off", "no", "false" -> false;
            default -> throw new IllegalArgumentException(where + ": " + key + ": '" + value
                    + "' (expected: on or off)");
        };
    }
}
