package dev.ioemu.devices.block.rbd;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.Structure;

/**
 * The librbd calls ioemu makes ({@code rbd/librbd.h}, librbd 1.16, shared/spec/nbd.md §4.3),
 * bound with JNA direct mapping: handles, buffers and out-parameters are {@code long} addresses.
 * Buffers passed to the {@code rbd_aio_*} calls must stay valid until the completion's callback
 * has run. Constants carry the header's names. Loaded by {@link RbdLibrary}.
 */
final class Librbd {
    /** {@code RBD_WRITE_ZEROES_FLAG_THICK_PROVISION}: a zeroed extent stays allocated. */
    static final int RBD_WRITE_ZEROES_FLAG_THICK_PROVISION = 1;
    /** {@code RBD_MAX_BLOCK_NAME_SIZE}, {@code RBD_MAX_IMAGE_NAME_SIZE}: array sizes in rbd_image_info_t. */
    static final int RBD_MAX_BLOCK_NAME_SIZE = 24;
    static final int RBD_MAX_IMAGE_NAME_SIZE = 96;

    private Librbd() {
    }

    static void register(com.sun.jna.NativeLibrary library) {
        Native.register(Librbd.class, library);
    }

    /** {@code typedef void (*rbd_callback_t)(rbd_completion_t cb, void *arg)}; runs on a librbd thread. */
    interface rbd_callback_t extends Callback {
        void invoke(long completion, long arg);
    }

    /** {@code rbd_image_info_t}; only size, obj_size, num_objs and order are still meaningful. */
    @Structure.FieldOrder({"size", "obj_size", "num_objs", "order", "block_name_prefix", "parent_pool", "parent_name"})
    public static final class rbd_image_info_t extends Structure {
        public long size;
        public long obj_size;
        public long num_objs;
        public int order;
        public byte[] block_name_prefix = new byte[RBD_MAX_BLOCK_NAME_SIZE];
        public long parent_pool;
        public byte[] parent_name = new byte[RBD_MAX_IMAGE_NAME_SIZE];
    }

    /** {@code RBD_FEATURE_STRIPINGV2}, {@code RBD_FEATURE_FAST_DIFF} ({@code rbd/features.h}). */
    static final long RBD_FEATURE_STRIPINGV2 = 1L << 1;
    static final long RBD_FEATURE_FAST_DIFF = 1L << 4;
    /** {@code RBD_FLAG_FAST_DIFF_INVALID}: the object map cannot be trusted for diffs. */
    static final long RBD_FLAG_FAST_DIFF_INVALID = 1L << 1;

    /** {@code int (*cb)(uint64_t offs, size_t len, int exists, void *arg)} of {@code rbd_diff_iterate2}. */
    interface rbd_diff_iterate_cb extends Callback {
        int invoke(long offs, long len, int exists, long arg);
    }

    static native void rbd_version(long majorOut, long minorOut, long extraOut);

    static native int rbd_get_features(long image, long featuresOut);

    static native int rbd_get_flags(long image, long flagsOut);

    /** With null buffers: -ENOENT when the image has no parent (is not a clone). */
    static native int rbd_get_parent_info(long image, long poolName, long poolNameLen, long name, long nameLen,
                                          long snapName, long snapNameLen);

    /** Calls {@code cb} for each allocated extent in order; a negative return from it stops and is returned. */
    static native int rbd_diff_iterate2(long image, String fromSnapName, long ofs, long len, byte includeParent,
                                        byte wholeObject, rbd_diff_iterate_cb cb, long arg);

    static native int rbd_create(long ioctx, String name, long size, long orderInOut);

    static native int rbd_open(long ioctx, String name, long imageOut, String snapName);

    static native int rbd_open_read_only(long ioctx, String name, long imageOut, String snapName);

    static native int rbd_close(long image);

    /** Fills {@code infosize} bytes at {@code info} (an {@link rbd_image_info_t}). */
    static native int rbd_stat(long image, long info, long infosize);

    static native int rbd_get_size(long image, long sizeOut);

    static native int rbd_invalidate_cache(long image);

    static native int rbd_aio_create_completion(long cbArg, rbd_callback_t callback, long completionOut);

    static native int rbd_aio_read(long image, long off, long len, long buf, long completion);

    static native int rbd_aio_write(long image, long off, long len, long buf, long completion);

    static native int rbd_aio_discard(long image, long off, long len, long completion);

    static native int rbd_aio_write_zeroes(long image, long off, long len, long completion, int zeroFlags,
                                           int opFlags);

    static native int rbd_aio_flush(long image, long completion);

    /** Bytes transferred (reads), 0, or a negative errno. */
    static native long rbd_aio_get_return_value(long completion);

    static native void rbd_aio_release(long completion);
}
