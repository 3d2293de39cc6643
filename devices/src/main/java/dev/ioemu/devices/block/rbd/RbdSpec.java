package dev.ioemu.devices.block.rbd;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which RBD image to open, from QEMU's filename syntax (QEMU 7.2 {@code block/rbd.c}
 * {@code qemu_rbd_parse_filename}):
 * <pre>
 * rbd:POOL[/NAMESPACE]/IMAGE[@SNAPSHOT][:conf=PATH][:id=USER][:KEY=VALUE]…
 * </pre>
 * A backslash takes the next character literally ({@code \:}, {@code \@}, {@code \/},
 * {@code \=}, {@code \\}). {@code conf} is the ceph.conf to read (else librados's default search),
 * {@code id} the client name without "client." (else "admin"), and any other key is a Ceph option
 * set with {@code rados_conf_set} before connecting, as QEMU does. The same fields come from
 * {@code -blockdev driver=rbd,pool=,namespace=,image=,snapshot=,conf=,user=}, which
 * {@link #toFilename()} spells as a filename.
 *
 * @param namespace  "" for the default namespace
 * @param snapshot   null for the image itself (then writable)
 * @param conf       null for librados's default search
 * @param user       null for "admin"
 * @param options    further Ceph options, in the order given
 */
public record RbdSpec(String pool, String namespace, String image, String snapshot, String conf, String user,
                      Map<String, String> options) {
    public static final String PREFIX = "rbd:";

    public RbdSpec {
        require("pool", pool);
        require("image", image);
        namespace = namespace == null ? "" : namespace;
        noNul("namespace", namespace);
        if (snapshot != null) {
            require("snapshot", snapshot);
        }
        if (conf != null) {
            require("conf", conf);
        }
        if (user != null) {
            require("id", user);
        }
        options = Map.copyOf(new LinkedHashMap<>(options));
        for (Map.Entry<String, String> e : options.entrySet()) {
            require("conf option name", e.getKey());
            noNul("conf option " + e.getKey(), e.getValue());
        }
    }

    /** True when {@code file} names an RBD image ({@code rbd:…}). */
    public static boolean isRbd(String file) {
        return file != null && file.startsWith(PREFIX);
    }

    /**
     * Parses {@code rbd:…}.
     *
     * @throws IllegalArgumentException one line naming what is missing or malformed
     */
    public static RbdSpec parse(String file) {
        if (!isRbd(file)) {
            throw new IllegalArgumentException("rbd: '" + file + "' (expected: rbd:POOL/IMAGE[@SNAP][:conf=PATH])");
        }
        Cursor c = new Cursor(file.substring(PREFIX.length()));
        String pool = c.next('/');
        if (!c.found) {
            throw new IllegalArgumentException("rbd: Pool name is required (expected: rbd:POOL/IMAGE, got '"
                    + file + "')");
        }
        // The image part runs to the first unescaped ':'; in it, an unescaped '@' starts the
        // snapshot and an unescaped '/' ends a namespace. (QEMU looks for '@' anywhere after the
        // pool, so an '@' in a conf path would break its parse; here it stays in the path.)
        Cursor part = new Cursor(c.nextRaw(':'));
        String beforeSnapshot = part.nextRaw('@');
        String snapshot = part.found ? unescape(part.rest()) : null;
        String namespace = "";
        String imageName = unescape(beforeSnapshot);
        Cursor image = new Cursor(beforeSnapshot);
        String first = image.nextRaw('/');
        if (image.found) {
            namespace = unescape(first);
            imageName = unescape(image.rest());
        }
        String conf = null;
        String user = null;
        Map<String, String> options = new LinkedHashMap<>();
        while (c.found) {
            String name = c.next('=');
            if (!c.found) {
                throw new IllegalArgumentException("rbd: conf option " + name + " has no value (expected: KEY=VALUE in '"
                        + file + "')");
            }
            String value = c.next(':');
            switch (name) {
                case "conf" -> conf = value;
                case "id" -> user = value;
                default -> options.put(name, value);
            }
        }
        try {
            return new RbdSpec(unescape(pool), namespace, imageName, snapshot, conf, user, options);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " in '" + file + "'");
        }
    }

    /** The {@code rbd:…} filename that parses back to this spec. */
    public String toFilename() {
        StringBuilder s = new StringBuilder(PREFIX).append(escape(pool, NAME_SPECIALS)).append('/');
        if (!namespace.isEmpty()) {
            s.append(escape(namespace, NAME_SPECIALS)).append('/');
        }
        s.append(escape(image, NAME_SPECIALS));
        if (snapshot != null) {
            s.append('@').append(escape(snapshot, VALUE_SPECIALS));
        }
        if (conf != null) {
            s.append(":conf=").append(escape(conf, VALUE_SPECIALS));
        }
        if (user != null) {
            s.append(":id=").append(escape(user, VALUE_SPECIALS));
        }
        for (Map.Entry<String, String> e : options.entrySet()) {
            s.append(':').append(escape(e.getKey(), KEY_SPECIALS)).append('=').append(escape(e.getValue(), VALUE_SPECIALS));
        }
        return s.toString();
    }

    /** "pool/image[@snap]" (with the namespace when there is one), for messages. */
    public String displayName() {
        return pool + "/" + (namespace.isEmpty() ? "" : namespace + "/") + image
                + (snapshot == null ? "" : "@" + snapshot);
    }

    /** Characters that end a token where they stand, so a name or value must escape them. */
    private static final String NAME_SPECIALS = "\\:/@";
    private static final String KEY_SPECIALS = "\\:=";
    private static final String VALUE_SPECIALS = "\\:";

    private static String escape(String v, String specials) {
        StringBuilder s = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (specials.indexOf(ch) >= 0) {
                s.append('\\');
            }
            s.append(ch);
        }
        return s.toString();
    }

    /** QEMU's {@code qemu_rbd_unescape}: a backslash keeps the next character (a trailing one stays). */
    private static String unescape(String v) {
        StringBuilder s = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            if (ch == '\\' && i + 1 < v.length()) {
                ch = v.charAt(++i);
            }
            s.append(ch);
        }
        return s.toString();
    }

    private static void require(String what, String v) {
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("rbd: " + what + " is empty (expected: a name)");
        }
        noNul(what, v);
    }

    private static void noNul(String what, String v) {
        if (v.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("rbd: " + what + " contains a NUL character");
        }
    }

    /** QEMU's {@code qemu_rbd_next_tok}: splits at the first unescaped delimiter. */
    private static final class Cursor {
        private String rest;
        /** Whether the last token ended at its delimiter (false: it ran to the end). */
        boolean found = true;

        Cursor(String s) {
            rest = s;
        }

        String rest() {
            return rest;
        }

        String next(char delim) {
            return unescape(nextRaw(delim));
        }

        String nextRaw(char delim) {
            int i = 0;
            while (i < rest.length() && rest.charAt(i) != delim) {
                i += rest.charAt(i) == '\\' && i + 1 < rest.length() ? 2 : 1;
            }
            String token = rest.substring(0, Math.min(i, rest.length()));
            found = i < rest.length();
            rest = found ? rest.substring(i + 1) : "";
            return token;
        }
    }
}
