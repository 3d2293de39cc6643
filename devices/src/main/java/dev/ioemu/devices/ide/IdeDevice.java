package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockCompletion;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * One IDE unit (master or slave): the ATA register file, the handlers of the command table
 * (shared/spec/ide.md §3, §5) and the rerror/werror policy for failed requests (§6.5). Its PIO
 * data phase is a {@link PioTransfer} (§7); DMA data moves in {@link BusMasterDma}. A unit with no drive
 * still exists — it keeps shadow registers and answers per §1.5 — and QEMU treats it as a disk.
 *
 * <p>Threading: every method runs with the controller lock held ({@link PiixIde}), either on
 * the machine thread (port access) or on the drive's I/O thread (a block completion that
 * re-entered through {@link PiixIde#submit}). Block requests are only ever submitted, never
 * waited for, so a command never blocks the machine thread.
 *
 * <p>Public for the machine and the BIOS ({@link PiixIde#drive}): what a drive is
 * ({@link #kind()}, {@link #sectorCount()}, {@link #geometry()}) and its ordered request queue
 * ({@link #requestQueue()}). These do not change after the drive is attached and need no lock.
 */
public final class IdeDevice {
    /** Largest PIO block: one READ/WRITE MULTIPLE block of 16 sectors. */
    private static final int IO_BUFFER_SIZE = Ata.MAX_MULT_SECTORS * Ata.SECTOR_SIZE;
    /** An ATAPI PIO chunk: up to a 0xFFFE-byte byte count limit, spread over whole CD sectors. */
    private static final int ATAPI_IO_BUFFER_SIZE = 0x10000 + 2 * Atapi.CD_SECTOR_SIZE;

    /** SET FEATURES sub-commands (§5.1). */
    static final int FEATURE_ENABLE_WRITE_CACHE = 0x02;
    static final int FEATURE_SET_TRANSFER_MODE = 0x03;
    static final int FEATURE_DISABLE_WRITE_CACHE = 0x82;
    static final int FEATURE_DISABLE_REVERT = 0x66;
    static final int FEATURE_ENABLE_REVERT = 0xCC;
    static final int DSM_TRIM = 0x01;

    final IdeBus bus;
    final int unit;
    final AtaRegisters regs = new AtaRegisters();
    private final Smart smart = new Smart();

    // ---- the drive (null/zero when no drive is attached) ----
    private IdeDriveConfig config;
    private IdeDriveKind kind = IdeDriveKind.DISK;
    private BlockDevice block;
    private BlockAio aio;
    private long totalSectors;
    private Geometry geometry = new Geometry(0, 0, 0);
    private String serial;
    private String firmware;
    private String model;

    // ---- mutable device state ----
    /** Current CHS translation (INITIALIZE DEVICE PARAMETERS changes it). */
    private int heads;
    private int sectors;
    private int multSectors = Ata.MAX_MULT_SECTORS;
    /** Sectors per DRQ block of the running PIO command: 1, or the multiple count. */
    private int requestSectors = 1;
    /** SET FEATURES 0xCC: the next reset restores the native heads/sectors. */
    private boolean resetReverts;
    /** IDENTIFY data, built on the first IDENTIFY and then only patched (§4.4). */
    private final byte[] identifyData = new byte[512];
    private boolean identifySet;

    // ---- PIO ----
    private final PioTransfer pio = new PioTransfer(this, IO_BUFFER_SIZE);
    /** The ATAPI packet layer of a CD-ROM unit, null for disks. */
    private Atapi atapi;

    IdeDevice(IdeBus bus, int unit) {
        this.bus = bus;
        this.unit = unit;
        resetRegisters();
    }

    // =====================================================================================
    // Configuration
    // =====================================================================================

    /** Attaches a drive (machine set-up, before the guest runs). */
    void attach(IdeDriveConfig cfg) {
        if (config != null) {
            throw new IllegalArgumentException("IDE unit " + bus.index + "." + unit + ": already has a drive");
        }
        BlockDevice b = cfg.block();
        if (cfg.kind() == IdeDriveKind.DISK && b.isReadOnly()) {
            throw new IllegalArgumentException("ide-hd " + b.name()
                    + ": read-only image (expected: a writable drive; QEMU refuses read-only IDE disks)");
        }
        config = cfg;
        kind = cfg.kind();
        block = b;
        if (b != null) {
            aio = new BlockAio(b, "ide" + bus.index + (kind == IdeDriveKind.CDROM ? "-cd" : "-hd") + unit);
            totalSectors = b.size() / Ata.SECTOR_SIZE;
            boolean writeCache = cfg.writeCache() != null ? cfg.writeCache() : b.cacheMode().writeback;
            b.setWriteCacheEnabled(writeCache);
        }
        if (kind == IdeDriveKind.DISK) {
            geometry = Geometry.guess(b, totalSectors);
        } else {
            pio.resizeBuffer(ATAPI_IO_BUFFER_SIZE);
            atapi = new Atapi(this);
        }
        heads = geometry.heads();
        sectors = geometry.sectors();
        serial = truncate(cfg.serial() != null ? cfg.serial() : Identify.defaultSerial(bus.index, unit),
                Identify.SERIAL_LENGTH);
        firmware = truncate(cfg.version() != null ? cfg.version() : Identify.DEFAULT_FIRMWARE,
                Identify.FIRMWARE_LENGTH);
        String defaultModel = kind == IdeDriveKind.CDROM ? Identify.DEFAULT_CD_MODEL : Identify.DEFAULT_DISK_MODEL;
        model = truncate(cfg.model() != null ? cfg.model() : defaultModel, Identify.MODEL_LENGTH);
        resetRegisters();
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    /** True if a drive is attached (QEMU: the unit has a block backend). */
    boolean present() {
        return config != null;
    }

    /** Disk or CD-ROM. */
    public IdeDriveKind kind() {
        return kind;
    }

    /**
     * The drive's ordered request queue, the one its ATA and ATAPI commands use: firmware disk
     * services (INT 13h) submit here too, so their requests and the controller's are served in
     * submission order on the drive's I/O thread (completions arrive on that thread). Null when
     * no drive (or no medium) is attached.
     */
    public BlockAio requestQueue() {
        return aio;
    }

    /** Capacity in 512-byte sectors (0 for an empty unit). */
    public long sectorCount() {
        return totalSectors;
    }

    BlockDevice block() {
        return block;
    }

    BlockAio aio() {
        return aio;
    }

    /** The default (power-on) CHS geometry of a disk, as QEMU chose it (shared/spec/ide.md §6.2). */
    public Geometry geometry() {
        return geometry;
    }

    long totalSectors() {
        return totalSectors;
    }

    String serial() {
        return serial;
    }

    String firmware() {
        return firmware;
    }

    String model() {
        return model;
    }

    Atapi atapi() {
        return atapi;
    }

    /** The PIO/ATAPI data buffer (direct, page aligned). */
    ByteBuffer io() {
        return pio.buffer();
    }

    // =====================================================================================
    // Reset
    // =====================================================================================

    /**
     * QEMU's per-unit reset (ide_reset): registers to power-on values, signature, multiple count
     * 16, PIO halted. Cached IDENTIFY data survives (§4.4). The caller has waited for I/O.
     */
    void resetRegisters() {
        if (resetReverts) {
            resetReverts = false;
            heads = geometry.heads();
            sectors = geometry.sectors();
        }
        multSectors = Ata.MAX_MULT_SECTORS;
        regs.reset();
        regs.writeSignature(kind, present());
        transferHalt();
        if (atapi != null) {
            atapi.reset();
        }
    }

    // =====================================================================================
    // PIO data transfer (§7): the state machine is PioTransfer; this unit decides what a finished
    // block leads to.
    // =====================================================================================

    /** Opens a DRQ block of {@code length} bytes of the I/O buffer. DRQ is never set with ERR. */
    private void transferStart(int length, PioTransfer.Next next) {
        pio.start(0, length, next);
    }

    /** Opens a DRQ block on [start, start+length) of the I/O buffer. */
    void transferStart(int start, int length, PioTransfer.Next next) {
        pio.start(start, length, next);
    }

    /** Halts any PIO transfer: DRQ off, nothing left to move. */
    void transferHalt() {
        pio.halt();
    }

    /** The guest moved the last byte of a DRQ block that leads to {@code next} (QEMU's end_transfer_func). */
    void endOfBlock(PioTransfer.Next next) {
        switch (next) {
            case STOP -> transferHalt();
            case SECTOR_READ -> sectorRead();
            case SECTOR_WRITE -> sectorWrite();
            case ATAPI_PACKET -> atapi.packetReceived();
            case ATAPI_REPLY -> atapi.chunkDone();
        }
    }

    int readData(int size) {
        return pio.readData(size);
    }

    void writeData(int size, int value) {
        pio.writeData(size, value);
    }

    int readDataString(int size, int count, MemorySpan dst) {
        return pio.readDataString(size, count, dst);
    }

    int writeDataString(int size, int count, MemorySpan src) {
        return pio.writeDataString(size, count, src);
    }

    // =====================================================================================
    // Sector addressing and errors
    // =====================================================================================

    long currentAddress() {
        return regs.address(heads, sectors);
    }

    private void advanceAddress(long sector) {
        regs.setAddress(sector, heads, sectors);
    }

    /** QEMU's range rule (§6.4): start ≤ total and count ≤ total − start. */
    boolean rangeOk(long sector, long count) {
        return sector >= 0 && count >= 0 && sector <= totalSectors && count <= totalSectors - sector;
    }

    /** ABRT: ST=DRDY|ERR, ER=ABRT, PIO stopped. The caller raises the IRQ if the command completes. */
    void abortCommand() {
        transferHalt();
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_ERR;
        regs.error = Ata.ERR_ABRT;
    }

    /** Abort and interrupt: a failed PIO block. */
    private void rwError() {
        abortCommand();
        bus.setIrq();
    }

    /** Abort a DMA command: the engine goes inactive, the IRQ (and BM Interrupt) is raised. */
    void dmaError() {
        abortCommand();
        bus.dma.setInactive(false);
        bus.setIrq();
    }

    /**
     * Applies the drive's rerror/werror policy to a failed request (§6.5).
     *
     * @param retry  re-issues the request when the VM continues (policy stop)
     * @param report makes the guest see the error (policy report)
     * @return false if the caller should carry on as if the request had succeeded (ignore)
     */
    boolean handleIoError(int errno, boolean isRead, String operation, Runnable retry, Runnable report) {
        ErrorPolicy policy = isRead ? config.rerror() : config.werror();
        ErrorPolicy.Action action = policy.actionFor(errno);
        if (action == ErrorPolicy.Action.STOP && !bus.controller.canStop()) {
            // Without a machine to pause (VmStateControl.NONE) the error is reported instead.
            action = ErrorPolicy.Action.REPORT;
        }
        if (TraceEvent.IDE_IO_ERROR.enabled) {
            Trace.emit(TraceEvent.IDE_IO_ERROR, bus.index, unit, operation, errno, action.name().toLowerCase());
        }
        switch (action) {
            case STOP -> {
                bus.retry = retry;
                bus.controller.requestStop();
                return true;
            }
            case REPORT -> {
                report.run();
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    /** Submits a block request; {@code done} runs later under the controller lock. */
    void submit(Consumer<BlockCompletion> request, IntConsumer done) {
        bus.controller.submit(bus, request, done);
    }

    // =====================================================================================
    // PIO read/write (§7.1, §7.2, §5.3)
    // =====================================================================================

    /** READ SECTORS / READ MULTIPLE (+EXT). */
    Outcome readSectorsPio(boolean ext, boolean multiple) {
        if (kind == IdeDriveKind.CDROM) {
            // ATA-4 §8.27.5.2: a packet device answers with its signature, then aborts.
            regs.writeSignature(kind, true);
            return Outcome.ABORTED;
        }
        if (!present() || (multiple && multSectors == 0)) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        requestSectors = multiple ? multSectors : 1;
        sectorRead();
        return Outcome.CONTINUES;
    }

    /** Fetches the next PIO-in block, or ends the command when none is left (no IRQ). */
    private void sectorRead() {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        regs.error = 0;
        long sector = currentAddress();
        int n = regs.nsector;
        if (n == 0) {
            transferHalt();
            return;
        }
        regs.status |= Ata.STATUS_BSY;
        n = Math.min(n, requestSectors);
        if (TraceEvent.IDE_SECTOR_READ.enabled) {
            Trace.emit(TraceEvent.IDE_SECTOR_READ, bus.index, unit, sector, n);
        }
        if (!rangeOk(sector, n)) {
            guestError("PIO read out of range");
            rwError();
            return;
        }
        int count = n;
        ByteBuffer buffer = pio.buffer().slice(0, n * Ata.SECTOR_SIZE);
        submit(c -> aio.read(sector * Ata.SECTOR_SIZE, buffer, c), result -> sectorReadDone(count, result));
    }

    private void sectorReadDone(int n, int result) {
        regs.status &= ~Ata.STATUS_BSY;
        if (result < 0 && handleIoError(-result, true, "pio-read", this::sectorRead, this::rwError)) {
            return;
        }
        advanceAddress(currentAddress() + n);
        regs.nsector -= n;
        transferStart(n * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_READ);
        bus.setIrq();
    }

    /** WRITE SECTORS / WRITE MULTIPLE (+EXT), WRITE VERIFY: the first block is requested without an IRQ. */
    Outcome writeSectorsPio(boolean ext, boolean multiple) {
        if (!present() || (multiple && multSectors == 0)) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        requestSectors = multiple ? multSectors : 1;
        regs.status = Ata.STATUS_DSC | Ata.STATUS_DRDY;
        transferStart(Math.min(regs.nsector, requestSectors) * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_WRITE);
        return Outcome.CONTINUES;
    }

    /** The guest supplied a whole block: range check, then write it. */
    private void sectorWrite() {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_BSY;
        long sector = currentAddress();
        int n = Math.min(regs.nsector, requestSectors);
        if (TraceEvent.IDE_SECTOR_WRITE.enabled) {
            Trace.emit(TraceEvent.IDE_SECTOR_WRITE, bus.index, unit, sector, n);
        }
        if (!rangeOk(sector, n)) {
            guestError("PIO write out of range");
            rwError();
            return;
        }
        ByteBuffer buffer = pio.buffer().slice(0, n * Ata.SECTOR_SIZE);
        submit(c -> aio.write(sector * Ata.SECTOR_SIZE, buffer, c), this::sectorWriteDone);
    }

    private void sectorWriteDone(int result) {
        regs.status &= ~Ata.STATUS_BSY;
        if (result < 0 && handleIoError(-result, false, "pio-write", this::sectorWrite, this::rwError)) {
            return;
        }
        int n = Math.min(regs.nsector, requestSectors);
        regs.nsector -= n;
        advanceAddress(currentAddress() + n);
        if (regs.nsector == 0) {
            transferHalt();
        } else {
            transferStart(Math.min(regs.nsector, requestSectors) * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_WRITE);
        }
        bus.setIrq();
    }

    // =====================================================================================
    // DMA commands (§8.4, §5.9)
    // =====================================================================================

    /** READ/WRITE DMA (+EXT): ST=DRDY|DSC|DRQ and the command waits for the bus-master engine. */
    Outcome startDmaCommand(boolean ext, DmaKind kind) {
        if (!present()) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        armDma(kind);
        return Outcome.CONTINUES;
    }

    /** DATA SET MANAGEMENT: only TRIM, and only by DMA; the raw Sector Count is the block count. */
    Outcome dataSetManagement() {
        if (regs.feature != DSM_TRIM || !present()) {
            return Outcome.ABORTED;
        }
        armDma(DmaKind.TRIM);
        return Outcome.CONTINUES;
    }

    private void armDma(DmaKind dmaKind) {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_DRQ;
        bus.dma.arm(this, dmaKind);
    }

    /** Successful end of a DMA transfer of {@code n} sectors starting at {@code sector}. */
    void dmaCompleted(long sector, int n, boolean stayActive) {
        if (n > 0) {
            advanceAddress(sector + n);
            regs.nsector -= n;
        }
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        bus.setIrq();
        bus.dma.setInactive(stayActive);
    }

    // =====================================================================================
    // Non-data commands (§5)
    // =====================================================================================

    /** SEEK, RECALIBRATE and the power-management no-ops. */
    Outcome noOperation() {
        return Outcome.COMPLETED;
    }

    /** READ VERIFY SECTORS: count conversion only — no media access, no range check (§5.4). */
    Outcome readVerify(boolean ext) {
        regs.applyCountConversion(ext);
        return Outcome.COMPLETED;
    }

    Outcome checkPowerMode() {
        regs.nsector = 0xFF;
        return Outcome.COMPLETED;
    }

    /** 0xF5: QEMU shares it with CFA WEAR LEVEL; Windows 8 only needs it to succeed. */
    Outcome securityFreezeLock() {
        regs.nsector = 0;
        return Outcome.COMPLETED;
    }

    /** SET MULTIPLE MODE (§5.2): 0 turns multiple mode off; else a power of two up to 16. */
    Outcome setMultipleMode() {
        int n = regs.nsector;
        if (n > Ata.MAX_MULT_SECTORS || (n & (n - 1)) != 0) {
            return Outcome.ABORTED;
        }
        multSectors = n & 0xFF;
        return Outcome.COMPLETED;
    }

    /** INITIALIZE DEVICE PARAMETERS (§5.12): 0 sectors per track is accepted. */
    Outcome initializeDeviceParameters() {
        if (!present() || kind == IdeDriveKind.CDROM) {
            return Outcome.ABORTED;
        }
        heads = (regs.select & Ata.DEVICE_HEAD) + 1;
        sectors = regs.nsector;
        return Outcome.COMPLETED;
    }

    /**
     * READ NATIVE MAX ADDRESS (+EXT) (§5.11, §12): last sector into the address registers. CHS
     * uses the current geometry as our peer QEMU 7.2 does (the differential suite caught the
     * native-geometry variant of later QEMUs); where 7.2 divides by zero (0 sectors per track set
     * by INITIALIZE DEVICE PARAMETERS) we take the native geometry instead, as QEMU 8.0+ does.
     */
    Outcome readNativeMaxAddress(boolean ext) {
        if (totalSectors == 0) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        boolean usable = heads != 0 && sectors != 0;
        regs.setAddress(totalSectors - 1, usable ? heads : geometry.heads(), usable ? sectors : geometry.sectors());
        return Outcome.COMPLETED;
    }

    /** EXECUTE DEVICE DIAGNOSTIC (§5.13); also the second half of SRST. */
    Outcome executeDeviceDiagnostic() {
        regs.select = Ata.DEVICE_ALWAYS_ON;
        regs.writeSignature(kind, present());
        regs.error = Ata.DIAGNOSTIC_PASSED;
        if (kind == IdeDriveKind.CDROM) {
            // Packet devices must not assert BSY or interrupt here (ATAPI-6 §9.10).
            regs.status = 0;
        } else {
            regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
            bus.setIrq();
        }
        return Outcome.CONTINUES;
    }

    /** DEVICE RESET (ATAPI only, §3.2): halt PIO, let DMA finish, reset; ST=0, no IRQ. */
    Outcome deviceReset() {
        transferHalt();
        bus.controller.awaitBusIdle(bus);
        bus.dma.forget(this);
        resetRegisters();
        regs.status = 0;
        return Outcome.CONTINUES;
    }

    Outcome smart() {
        byte[] page = new byte[512];
        return switch (smart.execute(regs, page)) {
            case DONE -> Outcome.COMPLETED;
            case ABORT -> Outcome.ABORTED;
            case DATA_READY -> {
                sendBlock(page);
                yield Outcome.CONTINUES;
            }
        };
    }

    /** A 512-byte PIO-in reply: ST=DRDY|DSC|DRQ and an IRQ now; no IRQ when it has been read (§7.3). */
    private void sendBlock(byte[] block) {
        pio.buffer().put(0, block, 0, 512);
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        transferStart(512, PioTransfer.Next.STOP);
        bus.setIrq();
    }

    // =====================================================================================
    // IDENTIFY, SET FEATURES, FLUSH
    // =====================================================================================

    Outcome identifyDevice() {
        if (present() && kind != IdeDriveKind.CDROM) {
            if (!identifySet) {
                Identify.buildDisk(identifyData, new Identify.DiskInfo(serial, firmware, model, totalSectors,
                        geometry.cylinders(), heads, sectors, multSectors, block.isWriteCacheEnabled(), true));
                identifySet = true;
            }
            sendBlock(identifyData);
            return Outcome.CONTINUES;
        }
        if (kind == IdeDriveKind.CDROM) {
            regs.writeSignature(kind, true);
        }
        return Outcome.ABORTED;
    }

    Outcome identifyPacketDevice() {
        if (!identifySet) {
            Identify.buildPacket(identifyData, serial, firmware, model);
            identifySet = true;
        }
        sendBlock(identifyData);
        return Outcome.CONTINUES;
    }

    /** The IDENTIFY block as cached now (tests and the retry path). */
    byte[] identifySnapshot() {
        return identifyData.clone();
    }

    Outcome setFeatures() {
        if (!present()) {
            return Outcome.ABORTED;
        }
        switch (regs.feature) {
            case FEATURE_ENABLE_WRITE_CACHE -> {
                setWriteCache(true);
                return Outcome.COMPLETED;
            }
            case FEATURE_DISABLE_WRITE_CACHE -> {
                // QEMU flushes what the cache held before reporting the cache off.
                setWriteCache(false);
                return flushCache();
            }
            case FEATURE_ENABLE_REVERT -> {
                resetReverts = true;
                return Outcome.COMPLETED;
            }
            case FEATURE_DISABLE_REVERT -> {
                resetReverts = false;
                return Outcome.COMPLETED;
            }
            // Look-ahead, APM, AAM and vendor values: accepted, no effect.
            case 0xAA, 0x55, 0x05, 0x85, 0x42, 0xC2, 0x67, 0x69, 0x96, 0x9A -> {
                return Outcome.COMPLETED;
            }
            case FEATURE_SET_TRANSFER_MODE -> {
                return setTransferMode();
            }
            default -> {
                return Outcome.ABORTED;
            }
        }
    }

    /** Write cache follows the guest; word 85 of the cached IDENTIFY data follows too (§5.1, §4.4). */
    private void setWriteCache(boolean enabled) {
        if (block != null) {
            block.setWriteCacheEnabled(enabled);
        }
        Identify.put(identifyData, Identify.WORD_COMMAND_SET_ENABLED,
                (1 << 14) | (enabled ? Identify.WRITE_CACHE_ENABLED : 0) | 1);
    }

    /** SET FEATURES 0x03: record the mode in words 62/63/88; behaviour does not change (§5.1). */
    private Outcome setTransferMode() {
        int mode = regs.nsector & 0x07;
        int sw = 0x07;
        int mw = 0x07;
        int udma = 0x3F;
        switch (regs.nsector >> 3) {
            case 0x00, 0x01 -> { }
            case 0x02 -> sw |= 1 << (mode + 8);
            case 0x04 -> mw |= 1 << (mode + 8);
            case 0x08 -> udma |= 1 << (mode + 8);
            default -> {
                return Outcome.ABORTED;
            }
        }
        Identify.put(identifyData, Identify.WORD_SW_DMA, sw);
        Identify.put(identifyData, Identify.WORD_MW_DMA, mw);
        Identify.put(identifyData, Identify.WORD_UDMA, udma);
        return Outcome.COMPLETED;
    }

    /**
     * FLUSH CACHE (EXT) (§5.8): BSY until the backend's flush completion arrives — the flush is
     * the durability point, so success is reported only from that callback.
     */
    Outcome flushCache() {
        if (aio == null) {
            // QEMU 7.2 (checked over qtest): an empty CD tray fails the flush with ENOMEDIUM, which
            // goes through werror like any flush error; an absent unit has nothing to flush.
            flushDone(kind == IdeDriveKind.CDROM ? -Errno.ENOMEDIUM : 0);
            return Outcome.CONTINUES;
        }
        regs.status |= Ata.STATUS_BSY;
        submit(aio::flush, this::flushDone);
        return Outcome.CONTINUES;
    }

    private void reissueFlush() {
        if (aio == null) {
            flushCache();
            return;
        }
        submit(aio::flush, this::flushDone);
    }

    private void flushDone(int result) {
        if (TraceEvent.IDE_FLUSH.enabled) {
            Trace.emit(TraceEvent.IDE_FLUSH, bus.index, unit, result);
        }
        if (result < 0 && handleIoError(-result, false, "flush", this::reissueFlush, this::rwError)) {
            return;
        }
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        bus.setIrq();
    }

    /**
     * PACKET (§9.2): DRQ for the 12-byte command packet, interrupt reason "command out", no IRQ.
     * Overlapped commands are not supported.
     */
    Outcome packet() {
        if ((regs.feature & Atapi.FEATURE_OVERLAP) != 0) {
            return Outcome.ABORTED;
        }
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        atapi.setDma((regs.feature & Atapi.FEATURE_DMA) != 0);
        regs.nsector = Atapi.REASON_COD;
        transferStart(Atapi.PACKET_SIZE, PioTransfer.Next.ATAPI_PACKET);
        return Outcome.CONTINUES;
    }

    void guestError(String what) {
        if (TraceEvent.IDE_GUEST_ERROR.enabled) {
            Trace.emit(TraceEvent.IDE_GUEST_ERROR, bus.index, unit, what);
        }
    }
}
