package dev.ioemu.devices.block.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.host.Errno;
import java.util.Map;

/**
 * Creating RBD images, for {@code ioemu-img create} and {@code convert} to an {@code rbd:…}
 * target, as QEMU's {@code qemu_rbd_co_create} does: {@code rbd_create} with librbd's default
 * format, features and object size (order 0 = default, 4 MiB objects).
 */
public final class RbdImages {
    private RbdImages() {
    }

    /**
     * Creates the image {@code file} names with {@code size} bytes.
     *
     * @throws BlockOpenException "rbd: error rbd create rbd/x: File exists", connection errors
     */
    public static void create(String file, long size) throws BlockOpenException {
        RbdSpec spec;
        try {
            spec = RbdSpec.parse(file);
        } catch (IllegalArgumentException e) {
            throw new BlockOpenException(e.getMessage(), "", Errno.EINVAL);
        }
        if (spec.snapshot() != null) {
            throw new BlockOpenException("rbd: " + spec.displayName() + ": cannot create a snapshot this way",
                    "(expected: rbd:POOL/IMAGE; 'rbd snap create' makes snapshots)", Errno.EINVAL);
        }
        if (size < 0) {
            throw new BlockOpenException("rbd: size " + size + " (expected: ≥ 0)", "", Errno.EINVAL);
        }
        try (RadosSession session = RadosSession.connect(spec, Map.of())) {
            Memory order = new Memory(Integer.BYTES);
            order.setInt(0, 0);
            int r = Librbd.rbd_create(session.ioctx(), spec.image(), size, Pointer.nativeValue(order));
            if (r < 0) {
                throw RadosSession.failure("error rbd create " + spec.displayName(), r, "");
            }
        }
    }
}
