package dev.ioemu.devices.block;

import dev.ioemu.devices.block.nbd.NbdOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The block-layer part of a QEMU {@code -drive} option string (shared/spec/block.md §1), parsed
 * and validated once. Keys:
 * <ul>
 *   <li>{@code file=PATH} (required), {@code format=raw}, {@code aio=threads}</li>
 *   <li>{@code cache=writeback|none|off|writethrough|directsync|unsafe|fadvise}, refined by
 *       QEMU's {@code cache.direct=}, {@code cache.no-flush=}, {@code cache.writeback=}
 *       (the result must be one of the modes)</li>
 *   <li>{@code readonly=on|off}, {@code discard=ignore|unmap}, {@code locking=auto|on|off}
 *       (also spelled {@code file.locking=})</li>
 *   <li>{@code x-align=N}: use request alignment N (a power of two ≥ the host's) with cache.direct,
 *       so the 4Kn paths can be exercised on any host</li>
 *   <li>{@code inject-error.I.*}: fault injection rules, see {@link FaultInjection}</li>
 *   <li>QEMU's blkdebug driver over the image ({@link BlkDebug}): {@code file=blkdebug:[CONFIG]:IMAGE},
 *       or {@code blkdebug.config=CONFIG}, {@code blkdebug.inject-error.N.KEY},
 *       {@code blkdebug.set-state.N.KEY}</li>
 *   <li>{@code x-no-share=on}: refuse to share WRITE and RESIZE even when read-only, as a
 *       qemu-img convert source does (QEMU's BDRV_O_NO_SHARE, shared/spec/block.md §7.1), so a
 *       running writer makes the open fail with 'Failed to get shared "write" lock'</li>
 *   <li>{@code x-write-log=PATH}: record a crash-consistency write log of this image
 *       ({@code dev.ioemu.devices.block.writelog.WriteLog})</li>
 * </ul>
 * Keys that belong to the device front end ({@link #FRONTEND_KEYS}) are ignored here; any other
 * unknown key is an error. As in QEMU, a comma inside a value is written {@code ,,}.
 */
public record DriveOptions(String file, String format, CacheMode cache, boolean readOnly, DiscardMode discard,
                           LockingMode locking, String aio, int forcedAlignment, List<FaultInjection.Rule> injectErrors,
                           boolean noShare, BlkDebugConfig blkdebug, String writeLog) {

    /** -drive keys the IDE/INT 13h front end consumes; the block layer ignores them. */
    public static final Set<String> FRONTEND_KEYS = Set.of("if", "index", "id", "media", "werror", "rerror", "bus",
            "unit", "serial", "model", "ver", "wwn", "cyls", "heads", "secs", "trans", "share-rw", "firmware-writes");

    /**
     * Prefix of the keys of a blkdebug node over the image ({@link BlkDebug}):
     * {@code blkdebug.config=FILE}, {@code blkdebug.inject-error.N.KEY}, {@code blkdebug.set-state.N.KEY}.
     */
    public static final String BLKDEBUG_PREFIX = "blkdebug.";

    /** Records both sides of every request to PATH (and PATH.data), see {@code WriteLogFormat}. */
    public static final String WRITE_LOG_KEY = "x-write-log";

    private static final List<String> BLOCK_KEYS = List.of("file", "format", "cache", "cache.direct",
            "cache.no-flush", "cache.writeback", "readonly", "discard", "locking", "file.locking", "aio", "x-align",
            "x-no-share", "x-write-log");

    public DriveOptions {
        if (file == null || file.isEmpty()) {
            throw new IllegalArgumentException("file: missing (expected: file=PATH)");
        }
        if (!"raw".equals(format)) {
            throw new IllegalArgumentException("format: '" + format + "' (expected: raw)");
        }
        if (!"threads".equals(aio)) {
            throw new IllegalArgumentException("aio: '" + aio + "' (expected: threads)");
        }
        if (forcedAlignment != 0 && (forcedAlignment < 0 || Integer.bitCount(forcedAlignment) != 1
                || forcedAlignment > AlignmentProbe.MAX_ALIGNMENT)) {
            throw new IllegalArgumentException("x-align: " + forcedAlignment + " (expected: a power of two ≤ "
                    + AlignmentProbe.MAX_ALIGNMENT + ")");
        }
        if (forcedAlignment != 0 && !cache.direct) {
            throw new IllegalArgumentException("x-align: " + forcedAlignment + " with cache=" + cache
                    + " (expected: a cache mode with cache.direct=on; buffered I/O has no alignment)");
        }
        injectErrors = List.copyOf(injectErrors);
        if (writeLog != null && readOnly) {
            throw new IllegalArgumentException(WRITE_LOG_KEY + ": '" + writeLog
                    + "' on a read-only image (expected: a writable image; a reader writes nothing to log)");
        }
    }

    /** The write log of this image (dev.ioemu.devices.block.writelog), or these options without one. */
    public DriveOptions withWriteLog(String path) {
        return new DriveOptions(file, format, cache, readOnly, discard, locking, aio, forcedAlignment, injectErrors,
                noShare, blkdebug, writeLogPath(path));
    }

    private static String writeLogPath(String path) {
        if (path != null && path.isEmpty()) {
            throw new IllegalArgumentException(WRITE_LOG_KEY + ": empty (expected: " + WRITE_LOG_KEY + "=PATH)");
        }
        return path;
    }

    /**
     * The options for a differently named image file (the blkdebug protocol's IMAGE part).
     */
    public DriveOptions withFile(String path) {
        return new DriveOptions(path, format, cache, readOnly, discard, locking, aio, forcedAlignment, injectErrors,
                noShare, blkdebug, writeLog);
    }

    /** Defaults for {@code file}: raw, writeback, read-write, discard=ignore, locking=auto. */
    public static DriveOptions of(String file) {
        return new DriveOptions(file, "raw", CacheMode.WRITEBACK, false, DiscardMode.IGNORE, LockingMode.AUTO,
                "threads", 0, List.of(), false, null, null);
    }

    public DriveOptions withCache(CacheMode mode) {
        return new DriveOptions(file, format, mode, readOnly, discard, locking, aio,
                mode.direct ? forcedAlignment : 0, injectErrors, noShare, blkdebug, writeLog);
    }

    public DriveOptions withReadOnly(boolean ro) {
        return new DriveOptions(file, format, cache, ro, discard, locking, aio, forcedAlignment, injectErrors,
                noShare, blkdebug, writeLog);
    }

    public DriveOptions withDiscard(DiscardMode mode) {
        return new DriveOptions(file, format, cache, readOnly, mode, locking, aio, forcedAlignment, injectErrors,
                noShare, blkdebug, writeLog);
    }

    public DriveOptions withLocking(LockingMode mode) {
        return new DriveOptions(file, format, cache, readOnly, discard, mode, aio, forcedAlignment, injectErrors,
                noShare, blkdebug, writeLog);
    }

    public DriveOptions withForcedAlignment(int alignment) {
        return new DriveOptions(file, format, cache, readOnly, discard, locking, aio, alignment, injectErrors,
                noShare, blkdebug, writeLog);
    }

    public DriveOptions withNoShare(boolean on) {
        return new DriveOptions(file, format, cache, readOnly, discard, locking, aio, forcedAlignment, injectErrors,
                on, blkdebug, writeLog);
    }

    public DriveOptions withInjectErrors(List<FaultInjection.Rule> rules) {
        return new DriveOptions(file, format, cache, readOnly, discard, locking, aio, forcedAlignment, rules,
                noShare, blkdebug, writeLog);
    }

    /**
     * Parses {@code key=value,key=value} as QEMU's {@code -drive} does ({@code ,,} is a literal
     * comma).
     *
     * @throws IllegalArgumentException "what: value (expected: …)"
     */
    public static DriveOptions parse(String options) {
        Map<String, String> map = new LinkedHashMap<>();
        StringBuilder item = new StringBuilder();
        for (int i = 0; i <= options.length(); i++) {
            char c = i < options.length() ? options.charAt(i) : ',';
            if (c == ',' && i + 1 < options.length() && options.charAt(i + 1) == ',') {
                item.append(',');
                i++;
            } else if (c == ',') {
                if (item.length() > 0) {
                    String kv = item.toString();
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("drive option: '" + kv + "' (expected: key=value)");
                    }
                    if (map.put(kv.substring(0, eq), kv.substring(eq + 1)) != null) {
                        throw new IllegalArgumentException("drive option: '" + kv.substring(0, eq)
                                + "' given twice (expected: each key once)");
                    }
                }
                item.setLength(0);
            } else {
                item.append(c);
            }
        }
        return fromMap(map);
    }

    /**
     * Builds options from already split keys; front-end keys are ignored, unknown keys rejected.
     *
     * @throws IllegalArgumentException "what: value (expected: …)"
     */
    public static DriveOptions fromMap(Map<String, String> options) {
        options = NbdOptions.fromDriveKeys(options); // QEMU's driver=nbd,server.… spelling → file=URI
        Map<Integer, Map<String, String>> injections = new TreeMap<>();
        Map<String, String> blkdebugRules = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(FaultInjection.OPTION_PREFIX)) {
                String rest = key.substring(FaultInjection.OPTION_PREFIX.length());
                int dot = rest.indexOf('.');
                if (dot <= 0 || !rest.substring(0, dot).matches("\\d{1,9}")) {
                    throw new IllegalArgumentException("drive option: '" + key
                            + "' (expected: inject-error.N.KEY with N a number below 10^9)");
                }
                injections.computeIfAbsent(Integer.parseInt(rest.substring(0, dot)), k -> new LinkedHashMap<>())
                        .put(rest.substring(dot + 1), e.getValue());
            } else if (key.startsWith(BLKDEBUG_PREFIX)) {
                if (!key.equals(BLKDEBUG_PREFIX + "config")) {
                    blkdebugRules.put(key.substring(BLKDEBUG_PREFIX.length()), e.getValue());
                }
            } else if (!FRONTEND_KEYS.contains(key) && !BLOCK_KEYS.contains(key)) {
                throw new IllegalArgumentException("drive option: '" + key + "' (expected: one of "
                        + String.join(", ", BLOCK_KEYS) + ", inject-error.N.*, or a front-end key)");
            }
        }
        CacheMode cache = options.containsKey("cache") ? CacheMode.parse(options.get("cache")) : CacheMode.WRITEBACK;
        cache = refineCache(cache, options);
        String locking = options.getOrDefault("locking", options.getOrDefault("file.locking", "auto"));
        List<FaultInjection.Rule> rules = new ArrayList<>();
        injections.forEach((index, keys) -> rules.add(FaultInjection.Rule.fromOptions(index, keys)));
        int align = 0;
        if (options.containsKey("x-align")) {
            align = parseSize("x-align", options.get("x-align"));
        }
        String file = options.get("file");
        String blkdebugConfig = options.get(BLKDEBUG_PREFIX + "config");
        boolean blkdebug = blkdebugConfig != null || !blkdebugRules.isEmpty();
        if (file != null && file.startsWith(BlkDebug.PROTOCOL)) {
            // QEMU's filename protocol blkdebug:[CONFIG]:IMAGE; the config path ends at the first ':'.
            String rest = file.substring(BlkDebug.PROTOCOL.length());
            int colon = rest.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("file: '" + file + "' (expected: blkdebug:[CONFIG]:IMAGE)");
            }
            if (blkdebugConfig != null && colon > 0) {
                throw new IllegalArgumentException("file: '" + file + "' names a blkdebug config and "
                        + BLKDEBUG_PREFIX + "config is given too (expected: one of them)");
            }
            if (colon > 0) {
                blkdebugConfig = rest.substring(0, colon);
            }
            file = rest.substring(colon + 1);
            blkdebug = true;
        }
        return new DriveOptions(file, options.getOrDefault("format", "raw"), cache,
                parseBool("readonly", options.getOrDefault("readonly", "off")),
                DiscardMode.parse(options.getOrDefault("discard", "ignore")), LockingMode.parse(locking),
                options.getOrDefault("aio", "threads"), align, rules,
                parseBool("x-no-share", options.getOrDefault("x-no-share", "off")),
                blkdebug ? BlkDebugConfig.load(blkdebugConfig, blkdebugRules) : null,
                writeLogPath(options.get(WRITE_LOG_KEY)));
    }

    /** Applies QEMU's cache.* switches on top of cache= and finds the mode they describe. */
    private static CacheMode refineCache(CacheMode base, Map<String, String> options) {
        if (!options.containsKey("cache.direct") && !options.containsKey("cache.no-flush")
                && !options.containsKey("cache.writeback")) {
            return base;
        }
        boolean direct = parseBool("cache.direct", options.getOrDefault("cache.direct", base.direct ? "on" : "off"));
        boolean noFlush = parseBool("cache.no-flush",
                options.getOrDefault("cache.no-flush", base.noFlush ? "on" : "off"));
        boolean writeback = parseBool("cache.writeback",
                options.getOrDefault("cache.writeback", base.writeback ? "on" : "off"));
        boolean drop = base.dropAfterFlush && !direct;
        return Arrays.stream(CacheMode.values())
                .filter(m -> m.direct == direct && m.noFlush == noFlush && m.writeback == writeback
                        && m.dropAfterFlush == drop)
                .min(Comparator.comparingInt(Enum::ordinal))
                .orElseThrow(() -> new IllegalArgumentException("cache.direct=" + onOff(direct) + ",cache.no-flush="
                        + onOff(noFlush) + ",cache.writeback=" + onOff(writeback)
                        + " (expected: a combination that one of the cache= modes names)"));
    }

    private static String onOff(boolean b) {
        return b ? "on" : "off";
    }

    static boolean parseBool(String key, String value) {
        return switch (value) {
            case "on", "yes", "true" -> true;
            case "off", "no", "false" -> false;
            default -> throw new IllegalArgumentException(key + ": '" + value + "' (expected: on or off)");
        };
    }

    /** A non-negative integer with an optional k/M/G suffix (powers of 1024). */
    static int parseSize(String key, String value) {
        long v = parseLong(key, value);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + ": '" + value + "' (expected: at most " + Integer.MAX_VALUE + ")");
        }
        return (int) v;
    }

    static long parseLong(String key, String value) {
        String v = value.trim();
        long unit = 1;
        if (!v.isEmpty()) {
            switch (Character.toLowerCase(v.charAt(v.length() - 1))) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
        try {
            long n = Long.parseLong(digits);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException(key + ": '" + value + "' (expected: a non-negative number, "
                    + "optionally with k, M or G)");
        }
    }
}
