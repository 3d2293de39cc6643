package dev.ioemu.devices.block.rbd;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.host.Errno;
import java.util.Map;

/**
 * A connected {@code rados_t} and the I/O context of one pool (and namespace), set up as QEMU's
 * {@code qemu_rbd_connect} does: create with the user, read the conf file, set the filename's
 * {@code KEY=VALUE} pairs, then the caller's settings (the {@code rbd_cache} choice), connect,
 * open the pool. Each failure closes what was made and becomes a {@link BlockOpenException}
 * with QEMU's wording ("error connecting: Connection timed out").
 *
 * <p>ioemu sets {@code client_mount_timeout} to {@value #MOUNT_TIMEOUT_S} s unless the filename
 * sets it: librados's default (300 s) would leave a VM hanging for five minutes on an unreachable
 * cluster before saying so.
 *
 * <p>Not thread-safe for setup and close; the handles may be used from any thread in between.
 */
final class RadosSession implements AutoCloseable {
    static final String MOUNT_TIMEOUT_S = "30";

    private final long cluster;
    private final long ioctx;
    private boolean closed;

    private RadosSession(long cluster, long ioctx) {
        this.cluster = cluster;
        this.ioctx = ioctx;
    }

    long ioctx() {
        return ioctx;
    }

    /**
     * Connects. {@code settings} are applied after the filename's options, so they win (QEMU sets
     * {@code rbd_cache} from the cache mode after the filename's key/value pairs too).
     *
     * @throws BlockOpenException "rbd: librbd not available", "error reading conf file …",
     *         "error connecting: …", "error opening pool …"
     */
    static RadosSession connect(RbdSpec spec, Map<String, String> settings) throws BlockOpenException {
        String unavailable = RbdLibrary.failure();
        if (unavailable != null) {
            throw new BlockOpenException("rbd: librbd not available",
                    "(" + unavailable + "; Debian: apt-get install librbd1)", Errno.ENOSYS);
        }
        Memory out = new Memory(Long.BYTES);
        out.setLong(0, 0);
        int r = Librados.rados_create(Pointer.nativeValue(out), spec.user());
        if (r < 0) {
            throw failure("error initializing", r, "");
        }
        long cluster = out.getLong(0);
        boolean ok = false;
        try {
            if (spec.conf() != null) {
                r = Librados.rados_conf_read_file(cluster, spec.conf());
                if (r < 0) {
                    throw failure("error reading conf file " + spec.conf(), r, "");
                }
            } else {
                // As QEMU: the default search ($CEPH_CONF, /etc/ceph/ceph.conf, ~/.ceph/config,
                // ./ceph.conf); finding none is not an error by itself.
                Librados.rados_conf_read_file(cluster, null);
            }
            set(cluster, "client_mount_timeout", MOUNT_TIMEOUT_S);
            for (Map.Entry<String, String> e : spec.options().entrySet()) {
                set(cluster, e.getKey(), e.getValue());
            }
            for (Map.Entry<String, String> e : settings.entrySet()) {
                set(cluster, e.getKey(), e.getValue());
            }
            r = Librados.rados_connect(cluster);
            if (r < 0) {
                throw failure("error connecting", r, "is the cluster in "
                        + (spec.conf() != null ? spec.conf() : "the default ceph.conf") + " running and reachable?");
            }
            out.setLong(0, 0);
            r = Librados.rados_ioctx_create(cluster, spec.pool(), Pointer.nativeValue(out));
            if (r < 0) {
                throw failure("error opening pool " + spec.pool(), r, "");
            }
            long ioctx = out.getLong(0);
            if (!spec.namespace().isEmpty()) {
                Librados.rados_ioctx_set_namespace(ioctx, spec.namespace());
            }
            ok = true;
            return new RadosSession(cluster, ioctx);
        } finally {
            if (!ok) {
                Librados.rados_shutdown(cluster);
            }
        }
    }

    private static void set(long cluster, String key, String value) throws BlockOpenException {
        int r = Librados.rados_conf_set(cluster, key, value);
        if (r < 0) {
            throw failure("invalid conf option " + key + "=" + value, r, "");
        }
    }

    static BlockOpenException failure(String what, long r, String hint) {
        return new BlockOpenException("rbd: " + what + ": " + strerror((int) r), hint, (int) Math.abs(r));
    }

    /** The messages Ceph's errors come with (librados and librbd return Linux errno values). */
    static String strerror(int r) {
        return switch (Math.abs(r)) {
            case 108 -> "Cannot send after transport endpoint shutdown";
            case 110 -> "Connection timed out";
            case 111 -> "Connection refused";
            case 34 -> "Numerical result out of range";
            case 85 -> "Interrupted system call should be restarted";
            default -> Errno.strerror(r);
        };
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Librados.rados_ioctx_destroy(ioctx);
        Librados.rados_shutdown(cluster);
    }
}
