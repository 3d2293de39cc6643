package dev.ioemu.devices.block.rbd;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.util.List;

/**
 * Loads librados and librbd once, on first use. Debian's runtime packages ship only the versioned
 * names ({@code librados.so.2}, {@code librbd.so.1}; the unversioned ones come with the -dev
 * packages), so those are tried first. A missing library is not an exception at class-loading
 * time but a value: {@link #failure()} says why, and opening an image turns it into
 * "rbd: librbd not available".
 *
 * <p>The system property {@value #LIBRARY_PATH} names a directory to load both from instead
 * (a Ceph build of one's own; an empty directory shows what a host without librbd sees).
 */
final class RbdLibrary {
    static final String LIBRARY_PATH = "ioemu.rbd.library-path";
    private static final String FAILURE = load();

    private RbdLibrary() {
    }

    /** Null when both libraries are bound, else why not (one line). */
    static String failure() {
        return FAILURE;
    }

    private static String load() {
        // The bindings pass size_t and pointers as long and rely on the x86-64 struct layout.
        if (!(Platform.isLinux() && Platform.isIntel() && Platform.is64Bit())) {
            return "platform " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                    + " (expected: Linux x86-64)";
        }
        String dir = System.getProperty(LIBRARY_PATH);
        List<String> rados = dir == null ? List.of("librados.so.2", "rados") : List.of(dir + "/librados.so.2");
        List<String> rbd = dir == null ? List.of("librbd.so.1", "rbd") : List.of(dir + "/librbd.so.1");
        try {
            Librados.register(open(rados));
            Librbd.register(open(rbd));
            return null;
        } catch (UnsatisfiedLinkError e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            return nl < 0 ? m : m.substring(0, nl);
        }
    }

    private static NativeLibrary open(List<String> names) {
        UnsatisfiedLinkError last = null;
        for (String name : names) {
            try {
                return NativeLibrary.getInstance(name);
            } catch (UnsatisfiedLinkError e) {
                last = e;
            }
        }
        throw last;
    }
}
