package dev.ioemu.emulator.cli;

import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.block.nbd.NbdOptions;
import dev.ioemu.devices.block.rbd.RbdSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One {@code -blockdev} in QEMU's dotted key syntax (qapi/block-core.json {@code BlockdevOptions},
 * QEMU 7.2), for the drivers a raw image needs:
 * <ul>
 *   <li>{@code driver=file,filename=PATH[,locking=auto|on|off][,aio=threads][,x-write-log=LOG]}</li>
 *   <li>{@code driver=raw,file=NODE} or {@code driver=raw,file.driver=…,file.filename=…}</li>
 *   <li>{@code driver=blkdebug,image=NODE|image.driver=…[,config=FILE][,inject-error.N.KEY=…]
 *       [,set-state.N.KEY=…]} (see {@code dev.ioemu.devices.block.BlkDebug})</li>
 *   <li>{@code driver=nbd,server.type=inet|unix,server.host=…,server.port=…,server.path=…,export=…,
 *       reconnect-delay=S,open-timeout=S} (see {@code dev.ioemu.devices.block.nbd.NbdOptions})</li>
 *   <li>{@code driver=rbd,pool=POOL,image=IMAGE[,namespace=NS][,snapshot=SNAP][,conf=PATH][,user=ID]}
 *       (see {@code dev.ioemu.devices.block.rbd.RbdSpec})</li>
 * </ul>
 * and on every node {@code node-name=}, {@code read-only=}, {@code cache.direct=},
 * {@code cache.no-flush=}, {@code discard=ignore|unmap}, {@code auto-read-only=off}. The result is a
 * {@link DriveSpec} with {@code if=none,id=NODE-NAME} and the block keys of the whole chain, which
 * {@code -device ide-hd,drive=NODE-NAME} attaches as it does a {@code -drive if=none}.
 */
public final class BlockdevSpec {
    private static final List<String> DRIVERS = List.of("file", "raw", "blkdebug", "nbd", "rbd");
    /** QEMU's BlockdevOptionsRbd keys ioemu takes; the node becomes file=rbd:… (RbdSpec). */
    private static final List<String> RBD_KEYS = List.of("pool", "namespace", "image", "snapshot", "conf", "user");
    private static final List<String> COMMON_KEYS = List.of("driver", "node-name", "read-only", "auto-read-only",
            "cache.direct", "cache.no-flush", "discard");

    private final String source;
    private final Map<String, String> out = new LinkedHashMap<>();

    private BlockdevSpec(String source) {
        this.source = source;
    }

    /**
     * Parses {@code value}.
     *
     * @param nodes finds an earlier {@code -blockdev} by node name (for {@code file=NODE},
     *              {@code image=NODE}), or returns null
     * @throws UsageException "-blockdev VALUE: what is wrong", QEMU's wording where it has one
     */
    public static DriveSpec parse(String value, Function<String, DriveSpec> nodes) throws UsageException {
        String source = "-blockdev " + value;
        if (value.startsWith("{")) {
            throw new UsageException(source + ": JSON syntax is not supported (expected: key=value,…)");
        }
        Map<String, String> keys = QemuOpts.parse("-blockdev", value, null);
        String nodeName = keys.get("node-name");
        if (nodeName == null || nodeName.isEmpty()) {
            throw new UsageException(source + ": Parameter 'node-name' is missing (expected: node-name=NAME, "
                    + "the name -device ide-hd,drive=NAME refers to)");
        }
        if (!nodeName.matches("[A-Za-z][A-Za-z0-9_.+-]{0,31}")) {
            throw new UsageException(source + ": Invalid node-name: '" + nodeName + "' (expected: a letter, then "
                    + "letters, digits, '-', '.', '_' or '+', at most 32 characters)");
        }
        if (nodes.apply(nodeName) != null) {
            throw new UsageException(source + ": Duplicate nodes with node-name='" + nodeName + "'");
        }
        BlockdevSpec spec = new BlockdevSpec(source);
        spec.out.put("if", "none");
        spec.out.put("id", nodeName);
        spec.node(keys, "", nodes);
        return new DriveSpec(Map.copyOf(spec.out), source);
    }

    /** Translates the node described by the keys under {@code prefix} (and its children). */
    private void node(Map<String, String> all, String prefix, Function<String, DriveSpec> nodes)
            throws UsageException {
        Map<String, String> keys = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : all.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                keys.put(e.getKey().substring(prefix.length()), e.getValue());
            }
        }
        String driver = keys.get("driver");
        if (driver == null) {
            throw new UsageException(source + ": Parameter '" + prefix + "driver' is missing");
        }
        if (!DRIVERS.contains(driver)) {
            throw new UsageException(source + ": Parameter '" + prefix + "driver' does not accept value '" + driver
                    + "' (expected: " + String.join(", ", DRIVERS) + ")");
        }
        String child = driver.equals("raw") ? "file" : driver.equals("blkdebug") ? "image" : null;
        for (String key : keys.keySet()) {
            boolean known = COMMON_KEYS.contains(key)
                    || (driver.equals("file") && List.of("filename", "locking", "aio", DriveOptions.WRITE_LOG_KEY).contains(key))
                    || (driver.equals("rbd") && RBD_KEYS.contains(key))
                    || (child != null && (key.equals(child) || key.startsWith(child + ".")))
                    || (driver.equals("blkdebug") && (key.equals("config") || key.startsWith("inject-error.")
                            || key.startsWith("set-state.")))
                    || (driver.equals("nbd") && NbdOptions.KEYS.contains(key));
            if (!known) {
                throw new UsageException(source + ": Parameter '" + prefix + key + "' is unexpected");
            }
        }
        if (!prefix.isEmpty() && keys.containsKey("node-name")) {
            throw new UsageException(source + ": Parameter '" + prefix + "node-name' is not supported (expected: "
                    + "node names on the top level only)");
        }
        bool(keys, prefix, "read-only", "readonly");
        bool(keys, prefix, "cache.direct", "cache.direct");
        bool(keys, prefix, "cache.no-flush", "cache.no-flush");
        if (keys.containsKey("auto-read-only") && !"off".equals(keys.get("auto-read-only"))
                && !"false".equals(keys.get("auto-read-only"))) {
            throw new UsageException(source + ": " + prefix + "auto-read-only=" + keys.get("auto-read-only")
                    + " is not supported (expected: off)");
        }
        if (keys.containsKey("discard")) {
            String d = switch (keys.get("discard")) {
                case "ignore", "off" -> "ignore";
                case "unmap", "on" -> "unmap";
                default -> throw new UsageException(source + ": Parameter '" + prefix + "discard' does not accept "
                        + "value '" + keys.get("discard") + "' (expected: ignore, unmap)");
            };
            put("discard", d);
        }
        switch (driver) {
            case "file" -> {
                String filename = keys.get("filename");
                if (filename == null || filename.isEmpty()) {
                    throw new UsageException(source + ": The 'file' block driver requires a file name");
                }
                put("file", filename);
                if (keys.containsKey("locking")) {
                    put("locking", keys.get("locking"));
                }
                if (keys.containsKey("aio")) {
                    put("aio", keys.get("aio"));
                }
                if (keys.containsKey(DriveOptions.WRITE_LOG_KEY)) {
                    put(DriveOptions.WRITE_LOG_KEY, keys.get(DriveOptions.WRITE_LOG_KEY));
                }
            }
            case "raw" -> child(keys, prefix, "file", all, nodes);
            case "nbd" -> {
                try {
                    put("file", NbdOptions.toUri(keys));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(source + ": " + e.getMessage());
                }
            }
            case "rbd" -> {
                try {
                    put("file", new RbdSpec(keys.get("pool"), keys.get("namespace"), keys.get("image"),
                            keys.get("snapshot"), keys.get("conf"), keys.get("user"), Map.of()).toFilename());
                } catch (IllegalArgumentException e) {
                    throw new UsageException(source + ": " + e.getMessage() + " (expected: driver=rbd,pool=POOL,"
                            + "image=IMAGE[,snapshot=SNAP][,conf=PATH][,user=ID])");
                }
            }
            default -> {
                if (keys.containsKey("config")) {
                    put(DriveOptions.BLKDEBUG_PREFIX + "config", keys.get("config"));
                }
                for (Map.Entry<String, String> e : keys.entrySet()) {
                    if (e.getKey().startsWith("inject-error.") || e.getKey().startsWith("set-state.")) {
                        put(DriveOptions.BLKDEBUG_PREFIX + e.getKey(), e.getValue());
                    }
                }
                if (!out.containsKey(DriveOptions.BLKDEBUG_PREFIX + "config")) {
                    // An empty rule set still makes the node a blkdebug node (breakpoints only).
                    put(DriveOptions.BLKDEBUG_PREFIX + "config", "");
                }
                child(keys, prefix, "image", all, nodes);
            }
        }
    }

    /** The child node: a reference to an earlier -blockdev or nested keys. */
    private void child(Map<String, String> keys, String prefix, String name, Map<String, String> all,
                       Function<String, DriveSpec> nodes) throws UsageException {
        String ref = keys.get(name);
        if (ref != null) {
            DriveSpec d = nodes.apply(ref);
            if (d == null || !d.source().startsWith("-blockdev ")) {
                throw new UsageException(source + ": Cannot find device= nor node-name=" + ref);
            }
            for (Map.Entry<String, String> e : d.options().entrySet()) {
                if (!e.getKey().equals("if") && !e.getKey().equals("id")) {
                    put(e.getKey(), e.getValue());
                }
            }
            return;
        }
        if (keys.keySet().stream().noneMatch(k -> k.startsWith(name + "."))) {
            throw new UsageException(source + ": Parameter '" + prefix + name + "' is missing");
        }
        node(all, prefix + name + ".", nodes);
    }

    private void bool(Map<String, String> keys, String prefix, String key, String driveKey) throws UsageException {
        String v = keys.get(key);
        if (v == null) {
            return;
        }
        String b = switch (v) {
            case "on", "true", "yes" -> "on";
            case "off", "false", "no" -> "off";
            default -> throw new UsageException(source + ": Parameter '" + prefix + key
                    + "' expects 'on' or 'off'");
        };
        put(driveKey, b);
    }

    /** Keys of an outer node win over the same key of a node below (QEMU: options of the parent). */
    private void put(String key, String value) {
        if ("readonly".equals(key) && "on".equals(value)) {
            out.put(key, value);   // read-only anywhere in the chain makes the image read-only
            return;
        }
        out.putIfAbsent(key, value);
    }
}
