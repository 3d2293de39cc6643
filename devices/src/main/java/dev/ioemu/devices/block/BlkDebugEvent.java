package dev.ioemu.devices.block;

/**
 * The events of QEMU's blkdebug driver ({@code BlkdebugEvent} in qapi/block-core.json, QEMU 7.2),
 * spelled as in its config files and HMP {@code qemu-io "break EVENT TAG"}. Every name parses so
 * that QEMU's rule files load unchanged; ioemu's raw images raise only those marked
 * {@code raised}: the events QEMU's raw format and generic block code raise on the node under a
 * raw image (block/raw-format.c, block/io.c).
 */
public enum BlkDebugEvent {
    L1_UPDATE("l1_update"), L1_GROW_ALLOC_TABLE("l1_grow_alloc_table"), L1_GROW_WRITE_TABLE("l1_grow_write_table"),
    L1_GROW_ACTIVATE_TABLE("l1_grow_activate_table"), L2_LOAD("l2_load"), L2_UPDATE("l2_update"),
    L2_UPDATE_COMPRESSED("l2_update_compressed"), L2_ALLOC_COW_READ("l2_alloc_cow_read"),
    L2_ALLOC_WRITE("l2_alloc_write"),
    /** Before every read (raw_co_preadv). */
    READ_AIO("read_aio", true),
    READ_BACKING_AIO("read_backing_aio"), READ_COMPRESSED("read_compressed"),
    /** Before every write (raw_co_pwritev). */
    WRITE_AIO("write_aio", true),
    WRITE_COMPRESSED("write_compressed"), VMSTATE_LOAD("vmstate_load"), VMSTATE_SAVE("vmstate_save"),
    COW_READ("cow_read"), COW_WRITE("cow_write"), REFTABLE_LOAD("reftable_load"), REFTABLE_GROW("reftable_grow"),
    REFTABLE_UPDATE("reftable_update"), REFBLOCK_LOAD("refblock_load"), REFBLOCK_UPDATE("refblock_update"),
    REFBLOCK_UPDATE_PART("refblock_update_part"), REFBLOCK_ALLOC("refblock_alloc"),
    REFBLOCK_ALLOC_HOOKUP("refblock_alloc_hookup"), REFBLOCK_ALLOC_WRITE("refblock_alloc_write"),
    REFBLOCK_ALLOC_WRITE_BLOCKS("refblock_alloc_write_blocks"),
    REFBLOCK_ALLOC_WRITE_TABLE("refblock_alloc_write_table"),
    REFBLOCK_ALLOC_SWITCH_TABLE("refblock_alloc_switch_table"), CLUSTER_ALLOC("cluster_alloc"),
    CLUSTER_ALLOC_BYTES("cluster_alloc_bytes"), CLUSTER_FREE("cluster_free"),
    /** First step of a flush with writes since the last successful one (bdrv_co_flush). */
    FLUSH_TO_OS("flush_to_os", true),
    /** Second step of that flush, just before the data goes to the disk. */
    FLUSH_TO_DISK("flush_to_disk", true),
    PWRITEV_RMW_HEAD("pwritev_rmw_head"), PWRITEV_RMW_AFTER_HEAD("pwritev_rmw_after_head"),
    PWRITEV_RMW_TAIL("pwritev_rmw_tail"), PWRITEV_RMW_AFTER_TAIL("pwritev_rmw_after_tail"),
    /** Before a data write reaches the node (bdrv_aligned_pwritev). */
    PWRITEV("pwritev", true),
    /** Before a write-zeroes reaches the node. */
    PWRITEV_ZERO("pwritev_zero", true),
    /** After a write or write-zeroes, whatever its result. */
    PWRITEV_DONE("pwritev_done", true),
    EMPTY_IMAGE_PREPARE("empty_image_prepare"), L1_SHRINK_WRITE_TABLE("l1_shrink_write_table"),
    L1_SHRINK_FREE_L2_CLUSTERS("l1_shrink_free_l2_clusters"), COR_WRITE("cor_write"),
    CLUSTER_ALLOC_SPACE("cluster_alloc_space"), NONE("none");

    /** QEMU's spelling. */
    public final String qemuName;
    /** True if ioemu's block layer raises this event. */
    public final boolean raised;

    BlkDebugEvent(String qemuName) {
        this(qemuName, false);
    }

    BlkDebugEvent(String qemuName, boolean raised) {
        this.qemuName = qemuName;
        this.raised = raised;
    }

    /** The event named {@code name}, or null. */
    public static BlkDebugEvent byName(String name) {
        for (BlkDebugEvent e : values()) {
            if (e.qemuName.equals(name)) {
                return e;
            }
        }
        return null;
    }
}
