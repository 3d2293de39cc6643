package dev.ioemu.devices.block.rbd;

import com.sun.jna.Native;

/**
 * The librados calls an RBD image needs ({@code rados/librados.h}, librados 2, shared/spec/nbd.md
 * §4.3), bound with JNA direct mapping. Handles ({@code rados_t}, {@code rados_ioctx_t}) and
 * out-parameters are passed as {@code long} addresses, so no {@code Pointer} objects are made;
 * every out-parameter points into memory the caller allocated for exactly that value.
 *
 * <p>Every call returns 0 or a negative errno, as the header documents; none sets errno.
 * Loaded by {@link RbdLibrary}, which turns a missing library into one clear error.
 */
final class Librados {
    private Librados() {
    }

    static void register(com.sun.jna.NativeLibrary library) {
        Native.register(Librados.class, library);
    }

    /** {@code int rados_create(rados_t *cluster, const char *const id)}; id null = "admin". */
    static native int rados_create(long clusterOut, String id);

    static native int rados_conf_read_file(long cluster, String path);

    static native int rados_conf_set(long cluster, String option, String value);

    static native int rados_connect(long cluster);

    static native void rados_shutdown(long cluster);

    /** {@code int rados_ioctx_create(rados_t cluster, const char *pool_name, rados_ioctx_t *ioctx)}. */
    static native int rados_ioctx_create(long cluster, String poolName, long ioctxOut);

    /** {@code void rados_ioctx_set_namespace(rados_ioctx_t io, const char *nspace)}. */
    static native void rados_ioctx_set_namespace(long ioctx, String namespace);

    static native void rados_ioctx_destroy(long ioctx);
}
