package dev.ioemu.tools.trace;

import dev.ioemu.devices.trace.TraceFormat;

import java.util.HashMap;
import java.util.Map;

/**
 * QEMU 7.2's own formats for the events ioemu shares with it (hw/ide/trace-events,
 * hw/pci/trace-events, hw/input/trace-events, softmmu/trace-events), so that a QEMU
 * {@code -trace} log reads into the same named fields as ioemu's. Where QEMU's text names a value
 * differently the explicit names are ioemu's ({@code sector_num=%d n=%d} of {@code ide_dma_cb}
 * reads as {@code sector}, {@code nsectors}), so one field name means one thing in both.
 */
final class QemuTraceEvents {
    /** name, format, explicit field names or null. */
    private static final String[][] EVENTS = {
            {"ide_ioport_read", "IDE PIO rd @ 0x%x (%s); val 0x%02x; bus %p IDEState %p", "addr reg val bus_ptr state"},
            {"ide_ioport_write", "IDE PIO wr @ 0x%x (%s); val 0x%02x; bus %p IDEState %p", "addr reg val bus_ptr state"},
            {"ide_status_read", "IDE PIO rd @ 0x%x (Alt Status); val 0x%02x; bus %p; IDEState %p", "addr val bus_ptr state"},
            {"ide_cmd_write", "IDE PIO wr @ 0x%x (Device Control); val 0x%02x; bus %p", "addr val bus_ptr"},
            {"ide_data_readw", "IDE PIO rd @ 0x%x (Data: Word); val 0x%04x; bus %p; IDEState %p", "addr val bus_ptr state"},
            {"ide_data_writew", "IDE PIO wr @ 0x%x (Data: Word); val 0x%04x; bus %p; IDEState %p", "addr val bus_ptr state"},
            {"ide_data_readl", "IDE PIO rd @ 0x%x (Data: Long); val 0x%08x; bus %p; IDEState %p", "addr val bus_ptr state"},
            {"ide_data_writel", "IDE PIO wr @ 0x%x (Data: Long); val 0x%08x; bus %p; IDEState %p", "addr val bus_ptr state"},
            {"ide_exec_cmd", "IDE exec cmd: bus %p; state %p; cmd 0x%02x", "bus_ptr state cmd"},
            {"ide_sector_read", "sector=%d nsectors=%d", null},
            {"ide_sector_write", "sector=%d nsectors=%d", null},
            {"ide_reset", "IDEstate %p", "state"},
            {"ide_bus_reset_aio", "aio_cancel", null},
            {"ide_dma_cb", "IDEState %p; sector_num=%d n=%d cmd=%s", "state sector nsectors dma_cmd"},
            {"ide_cancel_dma_sync_remaining", "draining all remaining requests", null},
            {"bmdma_reset", "", null},
            {"bmdma_cmd_writeb", "val: 0x%08x", null},
            {"bmdma_addr_read", "data: 0x%016x", "val"},
            {"bmdma_addr_write", "data: 0x%016x", "val"},
            {"bmdma_read", "bmdma: readb 0x%x : 0x%02x", "addr val"},
            {"bmdma_write", "bmdma: writeb 0x%x : 0x%02x", "addr val"},
            {"ide_atapi_cmd_error", "IDEState: %p; sense=0x%x asc=0x%x", "state sense_key asc"},
            {"ide_atapi_cmd", "IDEState: %p; cmd: 0x%02x", "state cmd"},
            {"ide_atapi_cmd_read", "IDEState: %p; read %s: LBA=%d nb_sectors=%d", "state method lba nsectors"},
            {"cd_read_sector", "lba=%d", null},
            {"pci_cfg_read", "%s %02u:%u @0x%x -> 0x%x", "device slot func offset val"},
            {"pci_cfg_write", "%s %02u:%u @0x%x <- 0x%x", "device slot func offset val"},
            {"pckbd_kbd_write_command", "0x%02x", "val"},
            {"pckbd_kbd_write_data", "0x%02x", "val"},
            {"pckbd_kbd_read_data", "0x%02x", "val"},
            {"qemu_system_reset_request", "reason:%d", "reason"},
            {"qemu_system_shutdown_request", "reason:%d", "reason"},
            {"vm_state_notify", "running %d reason %d (%s)", "running reason_code reason"},
    };

    private static final Map<String, TraceFormat> BY_NAME = new HashMap<>();

    static {
        for (String[] e : EVENTS) {
            BY_NAME.put(e[0], TraceFormat.parse(e[1], e[2]));
        }
    }

    private QemuTraceEvents() {
    }

    /** QEMU's format of event {@code name}, or null if the table does not have it. */
    static TraceFormat format(String name) {
        return BY_NAME.get(name);
    }
}
