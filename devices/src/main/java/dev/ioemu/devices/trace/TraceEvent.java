package dev.ioemu.devices.trace;

/**
 * The trace-event catalogue: every event ioemu can emit, declared once with its name and format
 * (QEMU's {@code trace-events} files as data). Names reuse QEMU's where QEMU has the same event,
 * so ioemu and QEMU traces can be diffed (docs/devel/tracing.rst).
 *
 * <p>Every event has typed, named fields ({@link #fields()}), read from its format: write
 * {@code "bus %d unit %d"}, {@code "val 0x%02x"} or {@code "sector=%d"} and the text names the
 * field; a format whose text does not name its conversions ({@code "IDE PIO rd @ 0x%x (%s)"}) gives
 * the names as a third argument, {@code "addr reg val bus"}. {@code TraceEventCatalogueTest}
 * checks every constant.
 *
 * <p>Call sites check the flag before building anything:
 * <pre>{@code if (TraceEvent.IDE_IOPORT_READ.enabled) Trace.emit(TraceEvent.IDE_IOPORT_READ, addr, reg, val); }</pre>
 * The flag is a plain volatile field so the disabled cost is one load and a branch.
 */
public enum TraceEvent {
    // ---- block layer (devices.block) ----
    BLK_READ("blk_read", "image %s mode %s offset %d bytes %d ret %d lat_ns %d"),
    BLK_WRITE("blk_write", "image %s mode %s offset %d bytes %d ret %d lat_ns %d"),
    BLK_FLUSH("blk_flush", "image %s mode %s ret %d lat_ns %d"),
    BLK_DISCARD("blk_discard", "image %s mode %s offset %d bytes %d ret %d lat_ns %d"),
    BLK_WRITE_ZEROES("blk_write_zeroes", "image %s mode %s offset %d bytes %d ret %d lat_ns %d"),
    BLK_RMW("blk_rmw", "image %s offset %d bytes %d aligned_offset %d aligned_bytes %d"),
    BLK_BOUNCE("blk_bounce", "image %s offset %d bytes %d reason %s"),
    BLK_HOST_FLUSH("blk_host_flush", "image %s generation %d ret %d lat_ns %d"),
    BLK_FLUSH_ERROR_LATCHED("blk_flush_error_latched", "image %s errno %d"),
    BLK_DROP_CACHE("blk_drop_cache", "image %s offset %d bytes %d ret %d"),
    BLK_INJECT_ERROR("blk_inject_error", "image %s op %s offset %d errno %d"),
    BLK_INJECT_PAUSE("blk_inject_pause", "image %s op %s offset %d"),
    BLK_OPEN("blk_open", "image %s mode %s readonly %d size %d request_align %d mem_align %d source %s"),
    // nbd block: the NBD client's connection lifecycle (devices.block.nbd), QEMU block/trace-events names
    NBD_CLIENT_HANDSHAKE_SUCCESS("nbd_client_handshake_success",
            "server %s size %d flags 0x%x structured %d allocation %d export %s"),
    NBD_CONNECTION_LOST("nbd_connection_lost", "server %s in_flight %d state %s reason %s"),
    NBD_RECONNECT_ATTEMPT("nbd_reconnect_attempt", "server %s attempt %d"),
    NBD_RECONNECT_ATTEMPT_RESULT("nbd_reconnect_attempt_result", "server %s ret %d replayed %d reason %s"),
    NBD_CONNECT_THREAD_SLEEP("nbd_connect_thread_sleep", "timeout %d"),
    NBD_RECONNECT_DELAY_EXPIRED("nbd_reconnect_delay_expired", "server %s delay_s %d"),

    // ---- IDE (devices.ide), QEMU hw/ide/trace-events names ----
    IDE_IOPORT_READ("ide_ioport_read", "IDE PIO rd @ 0x%x (%s); val 0x%02x; bus %d", "addr reg val bus"),
    IDE_IOPORT_WRITE("ide_ioport_write", "IDE PIO wr @ 0x%x (%s); val 0x%02x; bus %d", "addr reg val bus"),
    IDE_STATUS_READ("ide_status_read", "IDE PIO rd @ 0x%x (Alt Status); val 0x%02x; bus %d", "addr val bus"),
    IDE_CTRL_WRITE("ide_ctrl_write", "IDE PIO wr @ 0x%x (Device Control); val 0x%02x; bus %d", "addr val bus"),
    IDE_DATA_READW("ide_data_readw", "IDE PIO rd @ 0x%x (Data: Word); val 0x%04x; bus %d", "addr val bus"),
    IDE_DATA_WRITEW("ide_data_writew", "IDE PIO wr @ 0x%x (Data: Word); val 0x%04x; bus %d", "addr val bus"),
    IDE_DATA_READL("ide_data_readl", "IDE PIO rd @ 0x%x (Data: Long); val 0x%08x; bus %d", "addr val bus"),
    IDE_DATA_WRITEL("ide_data_writel", "IDE PIO wr @ 0x%x (Data: Long); val 0x%08x; bus %d", "addr val bus"),
    IDE_EXEC_CMD("ide_exec_cmd", "bus %d unit %d cmd 0x%02x (%s)"),
    IDE_CMD_COMPLETE("ide_cmd_complete", "bus %d unit %d cmd 0x%02x status 0x%02x error 0x%02x lat_ns %d"),
    IDE_IRQ("ide_irq", "bus %d level %d"),
    IDE_RESET("ide_reset", "bus %d kind %s"),
    IDE_SECTOR_READ("ide_sector_read", "bus %d unit %d sector %d nsectors %d"),
    IDE_SECTOR_WRITE("ide_sector_write", "bus %d unit %d sector %d nsectors %d"),
    IDE_DMA_CB("ide_dma_cb", "bus %d ret %d sector %d nsectors %d write %d"),
    IDE_FLUSH("ide_flush", "bus %d unit %d ret %d"),
    IDE_TRIM("ide_trim", "bus %d unit %d lba %d nsectors %d ret %d"),
    IDE_GUEST_ERROR("ide_guest_error", "bus %d unit %d %s", "bus unit reason"),
    IDE_IO_ERROR("ide_io_error", "bus %d unit %d op %s errno %d action %s"),
    IDE_RETRY("ide_retry", "bus %d"),
    IDE_ATAPI_CMD("ide_atapi_cmd", "bus %d unit %d cmd 0x%02x dma %d"),
    IDE_ATAPI_CMD_ERROR("ide_atapi_cmd_error", "bus %d sense_key 0x%02x asc 0x%02x"),
    BMDMA_RESET("bmdma_reset", "bus %d"),
    BMDMA_CMD_WRITEB("bmdma_cmd_writeb", "bus %d val 0x%02x"),
    BMDMA_READ("bmdma_read", "bus %d addr 0x%x val 0x%02x"),
    BMDMA_WRITE("bmdma_write", "bus %d addr 0x%x val 0x%02x"),
    BMDMA_ADDR_READ("bmdma_addr_read", "bus %d val 0x%08x"),
    BMDMA_ADDR_WRITE("bmdma_addr_write", "bus %d val 0x%08x"),
    BMDMA_PRD("bmdma_prd", "bus %d index %d addr 0x%08x bytes %d eot %d"),

    // ---- guest-physical address space (devices.bus) ----
    UNASSIGNED_MEM_READ("unassigned_mem_read", "addr 0x%x len %d"),
    UNASSIGNED_MEM_WRITE("unassigned_mem_write", "addr 0x%x len %d"),

    // ---- PCI ----
    PCI_CFG_READ("pci_cfg_read", "%s %02x:%d @0x%x -> 0x%x", "device slot func offset val"),
    PCI_CFG_WRITE("pci_cfg_write", "%s %02x:%d @0x%x <- 0x%x", "device slot func offset val"),
    PCI_BAR_MAP("pci_bar_map", "%s bar %d addr 0x%x", "device bar addr"),

    // ---- BIOS (bios): trap dispatch, services, INT 13h disk calls (shared/spec/int13.md) ----
    BIOS_CALL("bios_call", "int 0x%02x ax 0x%04x bx 0x%04x cx 0x%04x dx 0x%04x -> ax 0x%04x cf %d lat_ns %d", "int ax bx cx dx ret_ax cf lat_ns"),
    BIOS_UNSUPPORTED("bios_unsupported", "int 0x%02x ax 0x%04x"),
    BIOS_TRAP_UNKNOWN("bios_trap_unknown", "linear 0x%x cs 0x%04x ip 0x%04x"),
    BIOS_TRAP_PROTECTED_MODE("bios_trap_protected_mode", "linear 0x%x ax 0x%04x"),
    BIOS_WAIT("bios_wait", "int 0x%02x ax 0x%04x"),
    BIOS_POST("bios_post", "ram %d disks %d e820_entries %d"),
    BIOS_BOOT("bios_boot", "drive 0x%02x result %s"),
    INT13_DISK_OP("int13_disk_op", "dl 0x%02x ah 0x%02x lba %d count %d buf 0x%x status 0x%02x done %d"),
    INT13_GUEST_ERROR("int13_guest_error", "dl 0x%02x ah 0x%02x status 0x%02x %s", "dl ah status reason"),
    INT13_IO_ERROR("int13_io_error", "dl 0x%02x op %s lba %d errno %d status 0x%02x"),
    INT13_GEOMETRY("int13_geometry", "image %s pchs %d/%d/%d lchs %d/%d/%d translation %s", "image pcyls pheads psecs lcyls lheads lsecs translation"),
    INT13_DRIVE("int13_drive", "image %s firmware_writes %s"),
    INT13_SYNC("int13_sync", "image %s lba %d bytes %d synced %d ret %d lat_ns %d"),

    // ---- ISA platform chips (devices.isa) ----
    POST_CODE("ioport80_write", "POST code 0x%02x"),
    PCKBD_KBD_WRITE_COMMAND("pckbd_kbd_write_command", "0x%02x", "val"),
    PCKBD_KBD_WRITE_DATA("pckbd_kbd_write_data", "0x%02x", "val"),
    PCKBD_KBD_READ_DATA("pckbd_kbd_read_data", "0x%02x", "val"),
    SYSTEM_RESET_REQUEST("system_reset_request", "source %s"),
    DEBUG_EXIT_REQUEST("debug_exit_request", "value 0x%x status %d"),
    // seabios block: fw_cfg as firmware reads it (QEMU hw/nvram/trace-events names)
    FW_CFG_SELECT("fw_cfg_select", "key 0x%04x '%s', ret: %d", "key name ret"),
    FW_CFG_DMA("fw_cfg_dma", "control 0x%08x length %d addr 0x%x -> 0x%x", "control length addr target"),

    // ---- front ends (emulator) ----
    QTEST_COMMAND("qtest_command", "%s", "command"),
    QMP_COMMAND("qmp_command", "%s", "json"),
    VM_STATE_CHANGE("vm_state_change", "running %d reason %s"),

    // ---- KVM engine (emulator.engine.kvm, shared/spec/kvm.md), QEMU accel/kvm/trace-events names ----
    KVM_ACCEL_SELECTED("kvm_accel_selected", "accel %s kvm %s"),
    KVM_RUN_EXIT("kvm_run_exit", "cpu_index %d, reason %d"),
    KVM_IO_EXIT("kvm_io_exit", "port 0x%x size %d count %d %s", "port size count direction"),
    KVM_MMIO_EXIT("kvm_mmio_exit", "addr 0x%x len %d %s", "addr len direction"),
    KVM_MMIO_ROM_WRITE("kvm_mmio_rom_write", "addr 0x%x len %d dropped"),
    KVM_INTERRUPT("kvm_interrupt", "vector 0x%x"),
    KVM_FAILURE("kvm_failure", "%s", "detail"),

    // ---- software CPU (cpu): reset, mode switches, exceptions, unknown opcodes (branch cputrace) ----
    CPU_RESET("cpu_reset", "cs 0x%04x eip 0x%08x instructions %d"),
    CPU_MODE_SWITCH("cpu_mode_switch", "from %s to %s cs 0x%04x eip 0x%08x cr0 0x%08x"),
    CPU_EXCEPTION("cpu_exception", "vector 0x%02x error_code 0x%x cs 0x%04x eip 0x%08x"),
    CPU_UNKNOWN_OPCODE("cpu_unknown_opcode", "cs 0x%04x eip 0x%08x bytes %s"),
    CPU_TRIPLE_FAULT("cpu_triple_fault", "cs 0x%04x eip 0x%08x");

    /** The QEMU-style event name, e.g. {@code ide_ioport_read}. */
    public final String eventName;
    /** {@link String#format} pattern for the event's fields. */
    public final String format;
    /** Set by {@link Trace#enable}; read on every call site before anything is built. */
    public volatile boolean enabled;
    /** Field names when the format's text does not give them, or null. */
    private final String fieldNames;
    /** Read from the format on first use, so a bad format fails its test, not the class's initialisation. */
    private volatile TraceFormat layout;

    TraceEvent(String eventName, String format) {
        this(eventName, format, null);
    }

    TraceEvent(String eventName, String format, String fieldNames) {
        this.eventName = eventName;
        this.format = format;
        this.fieldNames = fieldNames;
    }

    /**
     * The event's format read as data: its typed, named fields and a reader for log lines.
     *
     * @throws IllegalArgumentException if the format does not name every field (a catalogue bug)
     */
    public TraceFormat layout() {
        TraceFormat l = layout;
        if (l == null) {
            l = TraceFormat.parse(format, fieldNames);
            layout = l;
        }
        return l;
    }

    /** The event's fields, in call-site argument order. */
    public java.util.List<TraceField> fields() {
        return layout().fields();
    }

    /** The event named {@code name} ({@code ide_exec_cmd}), or null. */
    public static TraceEvent byName(String name) {
        return Names.BY_NAME.get(name);
    }

    private static final class Names {
        static final java.util.Map<String, TraceEvent> BY_NAME = new java.util.HashMap<>();

        static {
            for (TraceEvent e : values()) {
                BY_NAME.put(e.eventName, e);
            }
        }
    }
}
