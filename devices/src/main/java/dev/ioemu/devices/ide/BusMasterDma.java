package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One channel's PIIX bus-master IDE engine (shared/spec/ide.md §8.2-§8.4): the Command, Status
 * and PRD Table Address registers at BAR4+0 (primary) / +8 (secondary), and the transfer of an
 * armed DMA command between the drive and guest memory. The engine walks the PRD table and moves
 * bytes; what the bytes are is the command's business (TRIM's range list is parsed by
 * {@link TrimRange}, an ATAPI reply comes from {@link Atapi}).
 *
 * <p>Data moves straight between the block layer and guest RAM: each PRD region inside RAM is
 * handed to the drive's {@link dev.ioemu.devices.block.BlockAio} as a zero-copy view
 * ({@link MemorySpan#buffer()}), one request per region, all submitted at once to the
 * drive's ordered I/O thread. Other regions go through a scratch buffer and the machine's
 * address space: the device's writes to ROM or unassigned space are dropped, its reads see the
 * ROM's bytes or zeros, as in QEMU. While PCI bus mastering is off the function sees nothing
 * (reads zeros, writes dropped).
 *
 * <p>Guarded by the controller lock; completions re-enter through {@link PiixIde#submit}.
 */
final class BusMasterDma {
    static final int COMMAND_START = 0x01;
    /** "Device writes memory" — stored, never used: the ATA command decides the direction. */
    static final int COMMAND_READ = 0x08;
    private static final int COMMAND_MASK = COMMAND_START | COMMAND_READ;

    static final int STATUS_ACTIVE = 0x01;
    static final int STATUS_ERROR = 0x02;
    static final int STATUS_INTERRUPT = 0x04;
    static final int STATUS_DRIVE0_DMA = 0x20;
    static final int STATUS_DRIVE1_DMA = 0x40;

    /** Register offsets within the channel's 8 bytes. */
    static final int REG_COMMAND = 0;
    static final int REG_STATUS = 2;
    static final int REG_TABLE_ADDRESS = 4;

    private final IdeBus bus;
    private final PrdTable table = new PrdTable();
    private int command;
    private int status;
    private int tableAddress;

    /** The DMA command waiting for (or using) the engine; null when none. */
    private ArmedCommand armed;
    /** The transfer whose block requests are in flight, or that is parked by werror=stop. */
    private Transfer running;

    BusMasterDma(IdeBus bus) {
        this.bus = bus;
    }

    // =====================================================================================
    // Registers
    // =====================================================================================

    int read(int offset, int size) {
        int value;
        if (offset < REG_TABLE_ADDRESS) {
            if (size != 1) {
                value = size == 2 ? 0xFFFF : 0xFFFF_FFFF;
            } else {
                value = switch (offset) {
                    case REG_COMMAND -> command;
                    case REG_STATUS -> status;
                    default -> 0xFF;
                };
            }
            if (TraceEvent.BMDMA_READ.enabled) {
                Trace.emit(TraceEvent.BMDMA_READ, bus.index, offset, value);
            }
            return value;
        }
        value = 0;
        for (int i = 0; i < size; i++) {
            int lane = offset + i - REG_TABLE_ADDRESS;
            int b = lane < 4 ? (tableAddress >>> (8 * lane)) & 0xFF : 0xFF;
            value |= b << (8 * i);
        }
        if (TraceEvent.BMDMA_ADDR_READ.enabled) {
            Trace.emit(TraceEvent.BMDMA_ADDR_READ, bus.index, value);
        }
        return value;
    }

    void write(int offset, int size, int value) {
        if (offset < REG_TABLE_ADDRESS) {
            if (TraceEvent.BMDMA_WRITE.enabled) {
                Trace.emit(TraceEvent.BMDMA_WRITE, bus.index, offset, value);
            }
            if (size != 1) {
                return;
            }
            if (offset == REG_COMMAND) {
                writeCommand(value & 0xFF);
            } else if (offset == REG_STATUS) {
                // Drive-capable bits are storage, Error/Interrupt are write-1-to-clear, Active is read-only.
                status = (value & (STATUS_DRIVE0_DMA | STATUS_DRIVE1_DMA)) | (status & STATUS_ACTIVE)
                        | (status & ~value & (STATUS_ERROR | STATUS_INTERRUPT));
            }
            return;
        }
        for (int i = 0; i < size; i++) {
            int lane = offset + i - REG_TABLE_ADDRESS;
            if (lane < 4) {
                int shift = 8 * lane;
                tableAddress = (tableAddress & ~(0xFF << shift)) | (((value >>> (8 * i)) & 0xFF) << shift);
            }
        }
        tableAddress &= ~3;
        if (TraceEvent.BMDMA_ADDR_WRITE.enabled) {
            Trace.emit(TraceEvent.BMDMA_ADDR_WRITE, bus.index, tableAddress);
        }
    }

    private void writeCommand(int value) {
        if (TraceEvent.BMDMA_CMD_WRITEB.enabled) {
            Trace.emit(TraceEvent.BMDMA_CMD_WRITEB, bus.index, value);
        }
        if ((value & COMMAND_START) != (command & COMMAND_START)) {
            if ((value & COMMAND_START) == 0) {
                // The guest stops the engine. QEMU cannot abort a transfer half way: it waits for
                // the in-flight request, so the stop behaves as if the DMA had finished first.
                while (running != null && running.inFlight) {
                    bus.controller.awaitCompletion();
                }
                status &= ~STATUS_ACTIVE;
            } else {
                table.rewind(tableAddress & 0xFFFF_FFFFL);
                if ((status & STATUS_ACTIVE) == 0) {
                    status |= STATUS_ACTIVE;
                    if (armed != null && running == null) {
                        run();
                    }
                }
            }
        }
        command = value & COMMAND_MASK;
    }

    int status() {
        return status;
    }

    /** The channel raised its IRQ: BM Interrupt follows every raise, PIO included. */
    void setInterrupt() {
        status |= STATUS_INTERRUPT;
    }

    /** End of a DMA command: forget it; Active stays only for an over-long PRD table. */
    void setInactive(boolean moreEntries) {
        disarm();
        if (moreEntries) {
            status |= STATUS_ACTIVE;
        } else {
            status &= ~STATUS_ACTIVE;
        }
    }

    /** SRST / DEVICE RESET of {@code device}: a DMA command it had armed is dropped. */
    void forget(IdeDevice device) {
        if (armed != null && armed.device() == device) {
            disarm();
        }
    }

    /** The one place an armed command and its transfer are dropped. */
    private void disarm() {
        armed = null;
        running = null;
    }

    /** Machine reset (the caller has waited for I/O). */
    void reset() {
        if (TraceEvent.BMDMA_RESET.enabled) {
            Trace.emit(TraceEvent.BMDMA_RESET, bus.index);
        }
        command = 0;
        status = 0;
        tableAddress = 0;
        table.rewind(0);
        table.newCommand();
        disarm();
    }

    /** A transfer is parked waiting for the VM to continue, or running. */
    boolean busy() {
        return running != null;
    }

    // =====================================================================================
    // The engine (§8.4)
    // =====================================================================================

    /** An ATA DMA command was accepted: it runs now if the engine is active, else at Start. */
    void arm(IdeDevice device, DmaKind kind) {
        armed = new ArmedCommand.Ata(device, kind);
        table.newCommand();
        if ((status & STATUS_ACTIVE) != 0) {
            run();
        }
    }

    /** An ATAPI packet command moves its data by DMA (§9.2 step 8). */
    void armAtapi(ArmedCommand command) {
        if (!command.kind().isAtapi()) {
            throw new IllegalStateException("ATAPI DMA with an ATA command of kind " + command.kind());
        }
        armed = command;
        table.newCommand();
        if ((status & STATUS_ACTIVE) != 0) {
            run();
        }
    }

    private void run() {
        if (armed instanceof ArmedCommand.AtapiRead read) {
            runAtapi(read.kind(), read.diskOffset(), read.length());
            return;
        }
        if (armed instanceof ArmedCommand.AtapiReply reply) {
            runAtapi(reply.kind(), 0, reply.length());
            return;
        }
        IdeDevice device = armed.device();
        DmaKind kind = armed.kind();
        AtaRegisters regs = device.regs;
        int sectors = regs.nsector;
        if (sectors == 0) {
            // TRIM with a block count of 0: done as soon as the engine starts.
            device.commands.dmaCompleted(0, 0, false);
            return;
        }
        long needed = (long) sectors * Ata.SECTOR_SIZE;
        boolean busMaster = bus.controller.busMasterEnabled();
        PrdTable.Scatter scatter = table.walk(bus.controller.memory(), busMaster, tableAddress & 0xFFFF_FFFFL,
                needed, bus.index);
        long sector = device.commands.currentAddress();
        if (TraceEvent.IDE_DMA_CB.enabled) {
            Trace.emit(TraceEvent.IDE_DMA_CB, bus.index, (int) scatter.size(), sector, sectors,
                    kind == DmaKind.READ ? 0 : 1);
        }
        if (scatter.size() < needed) {
            // PRDs too short for the request: Active cleared, no interrupt, no error (§8.4).
            device.errors.guestError("PRD table shorter than the transfer");
            regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
            setInactive(false);
            return;
        }
        boolean stayActive = scatter.described() > needed;
        if (kind != DmaKind.TRIM && !device.rangeOk(sector, sectors)) {
            device.errors.guestError("DMA out of range");
            device.errors.dmaError();
            return;
        }
        running = new Transfer(device, kind, sector, sectors, sector * Ata.SECTOR_SIZE, scatter.regions(),
                stayActive, busMaster);
        running.start();
    }

    /** ATAPI: a table too short ends the transfer silently — Active cleared, no IRQ, status kept. */
    private void runAtapi(DmaKind kind, long diskOffset, long length) {
        IdeDevice device = armed.device();
        boolean busMaster = bus.controller.busMasterEnabled();
        PrdTable.Scatter scatter = table.walk(bus.controller.memory(), busMaster, tableAddress & 0xFFFF_FFFFL,
                length, bus.index);
        if (scatter.size() < length) {
            device.errors.guestError("PRD table shorter than the ATAPI transfer");
            setInactive(false);
            return;
        }
        running = new Transfer(device, kind, 0, 0, diskOffset, scatter.regions(), false, busMaster);
        running.start();
    }

    /**
     * One DMA command's data movement. READ/WRITE: one block request per PRD region, all in
     * flight together on the drive's ordered I/O thread. TRIM: the range list is copied out of
     * guest memory once, then one discard per entry, in order.
     */
    private final class Transfer {
        private final IdeDevice device;
        private final DmaKind kind;
        private final long sector;
        private final int sectors;
        private final long diskOffset;
        private final List<PrdTable.Region> regions;
        private final boolean stayActive;
        private final boolean busMaster;
        private final PhysicalMemory memory;
        boolean inFlight;
        private int pending;
        private int firstError;
        // TRIM only
        private List<TrimRange> ranges;
        private int nextRange;

        Transfer(IdeDevice device, DmaKind kind, long sector, int sectors, long diskOffset,
                 List<PrdTable.Region> regions, boolean stayActive, boolean busMaster) {
            this.device = device;
            this.kind = kind;
            this.sector = sector;
            this.sectors = sectors;
            this.diskOffset = diskOffset;
            this.regions = regions;
            this.stayActive = stayActive;
            this.busMaster = busMaster;
            this.memory = bus.controller.memory();
        }

        void start() {
            if (kind == DmaKind.TRIM) {
                ranges = TrimRange.parse(gather());
                nextRange = 0;
                nextDiscard();
            } else if (kind == DmaKind.ATAPI_REPLY) {
                // QEMU's rw_buf: the command owns the bytes, the engine moves them.
                device.atapi().sendReplyByDma(this::scatterToGuest);
                finish(0);
            } else {
                submitRegions();
            }
        }

        private void submitRegions() {
            inFlight = true;
            pending = regions.size();
            firstError = 0;
            long offset = diskOffset;
            for (PrdTable.Region region : regions) {
                long at = offset;
                offset += region.length();
                if (kind.usesReadPolicy()) {
                    ByteBuffer target = directView(region);
                    ByteBuffer buffer = target != null ? target : ByteBuffer.allocate(region.length());
                    bus.controller.submit(bus, c -> device.aio().read(at, buffer, c), result -> {
                        if (target == null && result >= 0) {
                            copyToGuest(region, buffer);
                        }
                        regionDone(result);
                    });
                } else {
                    ByteBuffer source = directView(region);
                    ByteBuffer buffer = source != null ? source : copyFromGuest(region);
                    bus.controller.submit(bus, c -> device.aio().write(at, buffer, c), this::regionDone);
                }
            }
        }

        private void regionDone(int result) {
            if (result < 0 && firstError == 0) {
                firstError = result;
            }
            if (--pending == 0) {
                inFlight = false;
                finish(firstError);
            }
        }

        private void nextDiscard() {
            if (nextRange < ranges.size()) {
                TrimRange range = ranges.get(nextRange);
                nextRange++;
                long lba = range.lba();
                int count = range.count();
                if (!device.rangeOk(lba, count)) {
                    device.errors.guestError("TRIM range out of bounds");
                    finish(-Errno.EINVAL);
                    return;
                }
                inFlight = true;
                bus.controller.submit(bus,
                        c -> device.aio().discard(lba * Ata.SECTOR_SIZE, (long) count * Ata.SECTOR_SIZE, c),
                        result -> {
                            inFlight = false;
                            if (TraceEvent.IDE_TRIM.enabled) {
                                Trace.emit(TraceEvent.IDE_TRIM, bus.index, device.unit, lba, count, result);
                            }
                            if (result < 0) {
                                nextRange--;
                                finish(result);
                            } else {
                                nextDiscard();
                            }
                        });
                return;
            }
            finish(0);
        }

        /** Maps the outcome to guest status (QEMU's ide_dma_cb after the request). */
        private void finish(int result) {
            if (running != this) {
                return;
            }
            if (busMaster && (kind.usesReadPolicy() || kind == DmaKind.ATAPI_REPLY)) {
                // The block layer filled RAM through zero-copy windows: CPU engines must not run
                // instructions they decoded from the old bytes.
                for (PrdTable.Region region : regions) {
                    memory.ramWritten(region.address(), region.length());
                }
            }
            if (kind.isAtapi()) {
                finishAtapi(result);
                return;
            }
            if (result == -Errno.EINVAL) {
                // Invalid requests (TRIM range, write past the end) abort without consulting werror.
                device.errors.dmaError();
                return;
            }
            if (result < 0) {
                String op = kind.name().toLowerCase();
                if (device.errors.handleIoError(-result, kind.usesReadPolicy(), "dma-" + op, this::retry, device.errors::dmaError)) {
                    return;
                }
            }
            device.commands.dmaCompleted(sector, sectors, stayActive);
        }

        private void finishAtapi(int result) {
            Atapi atapi = device.atapi();
            if (result < 0 && device.errors.handleIoError(-result, true, "atapi-dma", this::retry, () -> {
                atapi.dmaFinished(result);
                setInactive(false);
            })) {
                return;
            }
            atapi.dmaFinished(0);
            setInactive(false);
        }

        /** werror/rerror=stop: the VM continued, issue the request again. */
        private void retry() {
            running = this;
            if (kind == DmaKind.TRIM) {
                nextDiscard();
            } else {
                submitRegions();
            }
        }

        /** Device to memory: {@code data} fills the regions in table order. */
        private void scatterToGuest(ByteBuffer data) {
            int at = data.position();
            for (PrdTable.Region region : regions) {
                ByteBuffer piece = data.slice(at, region.length());
                at += region.length();
                ByteBuffer target = directView(region);
                if (target != null) {
                    target.put(piece);
                } else {
                    byte[] copy = new byte[region.length()];
                    piece.get(copy);
                    copyToGuest(region, ByteBuffer.wrap(copy));
                }
            }
        }

        /** A zero-copy view of the region, or null if it must go through a scratch buffer. */
        private ByteBuffer directView(PrdTable.Region region) {
            MemorySpan span = busMaster ? memory.ramSpan(region.address(), region.length()) : null;
            return span != null ? span.buffer() : null;
        }

        /** Guest memory the device reads (ROM bytes, zeros where unassigned); all zeros with bus mastering off. */
        private ByteBuffer copyFromGuest(PrdTable.Region region) {
            byte[] data = new byte[region.length()];
            if (busMaster) {
                memory.read(region.address(), data, 0, data.length);
            }
            return ByteBuffer.wrap(data);
        }

        /** Device writes to memory: RAM keeps them, ROM and unassigned space drop them; nothing lands with bus mastering off. */
        private void copyToGuest(PrdTable.Region region, ByteBuffer data) {
            if (busMaster) {
                memory.write(region.address(), data.array(), 0, region.length());
            }
        }

        /** The TRIM payload: all regions concatenated, read through the bus-master view. */
        private ByteBuffer gather() {
            ByteBuffer all = ByteBuffer.allocate(sectors * Ata.SECTOR_SIZE);
            for (PrdTable.Region region : regions) {
                ByteBuffer view = directView(region);
                all.put(view != null ? view : copyFromGuest(region));
            }
            return all.flip();
        }
    }
}
