package dev.ioemu.devices.ide;

import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;

/**
 * The ATA command set of one unit (shared/spec/ide.md §3, §5): the handlers the command table
 * {@link AtaCommand} points at by opcode, and the state those commands keep — the current CHS
 * translation (§6.1), the multiple count (§5.2), the cached IDENTIFY data (§4.4) and SMART
 * (§5.15). The unit ({@link IdeDevice}) is the register file and dispatch; a failed command or
 * request goes through its {@link DriveErrorPolicy}.
 *
 * <p>Guarded by the controller lock, like the unit that owns it.
 */
final class AtaCommandSet {
    private final IdeDevice device;
    private final AtaRegisters regs;
    private final IdeBus bus;
    private final DriveErrorPolicy errors;
    private final Smart smart = new Smart();

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

    AtaCommandSet(IdeDevice device, DriveErrorPolicy errors) {
        this.device = device;
        this.regs = device.regs;
        this.bus = device.bus;
        this.errors = errors;
    }

    /** A drive was attached: the translation starts at its default device.geometry(). */
    void driveAttached() {
        heads = device.geometry().heads();
        sectors = device.geometry().sectors();
    }

    /** Per-unit reset (QEMU's ide_reset): multiple count 16, the native geometry back if 0xCC asked. */
    void reset() {
        if (resetReverts) {
            resetReverts = false;
            heads = device.geometry().heads();
            sectors = device.geometry().sectors();
        }
        multSectors = Ata.MAX_MULT_SECTORS;
    }

    // =====================================================================================
    // Sector addressing (§6.1)
    // =====================================================================================

    /** The sector the address registers name, in the current translation. */
    long currentAddress() {
        return regs.address(heads, sectors);
    }

    private void advanceAddress(long sector) {
        regs.setAddress(sector, heads, sectors);
    }

    // =====================================================================================
    // PIO read/write (§7.1, §7.2, §5.3)
    // =====================================================================================

    /** READ SECTORS / READ MULTIPLE (+EXT). */
    Outcome readSectorsPio(boolean ext, boolean multiple) {
        if (device.kind() == IdeDriveKind.CDROM) {
            // ATA-4 §8.27.5.2: a packet device answers with its signature, then aborts.
            regs.writeSignature(device.kind(), true);
            return Outcome.ABORTED;
        }
        if (!device.present() || (multiple && multSectors == 0)) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        requestSectors = multiple ? multSectors : 1;
        sectorRead();
        return Outcome.CONTINUES;
    }

    /** Fetches the next PIO-in block, or ends the command when none is left (no IRQ). */
    void sectorRead() {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        regs.error = 0;
        long sector = currentAddress();
        int n = regs.nsector;
        if (n == 0) {
            device.transferHalt();
            return;
        }
        regs.status |= Ata.STATUS_BSY;
        n = Math.min(n, requestSectors);
        if (TraceEvent.IDE_SECTOR_READ.enabled) {
            Trace.emit(TraceEvent.IDE_SECTOR_READ, bus.index, device.unit, sector, n);
        }
        if (!device.rangeOk(sector, n)) {
            errors.guestError("PIO read out of range");
            errors.abortAndInterrupt();
            return;
        }
        int count = n;
        ByteBuffer buffer = device.io().slice(0, n * Ata.SECTOR_SIZE);
        device.submit(c -> device.aio().read(sector * Ata.SECTOR_SIZE, buffer, c), result -> sectorReadDone(count, result));
    }

    private void sectorReadDone(int n, int result) {
        regs.status &= ~Ata.STATUS_BSY;
        if (result < 0 && errors.handleIoError(-result, true, "pio-read", this::sectorRead, errors::abortAndInterrupt)) {
            return;
        }
        advanceAddress(currentAddress() + n);
        regs.nsector -= n;
        device.transferStart(n * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_READ);
        bus.setIrq();
    }

    /** WRITE SECTORS / WRITE MULTIPLE (+EXT), WRITE VERIFY: the first block is requested without an IRQ. */
    Outcome writeSectorsPio(boolean ext, boolean multiple) {
        if (!device.present() || (multiple && multSectors == 0)) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        requestSectors = multiple ? multSectors : 1;
        regs.status = Ata.STATUS_DSC | Ata.STATUS_DRDY;
        device.transferStart(Math.min(regs.nsector, requestSectors) * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_WRITE);
        return Outcome.CONTINUES;
    }

    /** The guest supplied a whole block: range check, then write it. */
    void sectorWrite() {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_BSY;
        long sector = currentAddress();
        int n = Math.min(regs.nsector, requestSectors);
        if (TraceEvent.IDE_SECTOR_WRITE.enabled) {
            Trace.emit(TraceEvent.IDE_SECTOR_WRITE, bus.index, device.unit, sector, n);
        }
        if (!device.rangeOk(sector, n)) {
            errors.guestError("PIO write out of range");
            errors.abortAndInterrupt();
            return;
        }
        ByteBuffer buffer = device.io().slice(0, n * Ata.SECTOR_SIZE);
        device.submit(c -> device.aio().write(sector * Ata.SECTOR_SIZE, buffer, c), this::sectorWriteDone);
    }

    private void sectorWriteDone(int result) {
        regs.status &= ~Ata.STATUS_BSY;
        if (result < 0 && errors.handleIoError(-result, false, "pio-write", this::sectorWrite, errors::abortAndInterrupt)) {
            return;
        }
        int n = Math.min(regs.nsector, requestSectors);
        regs.nsector -= n;
        advanceAddress(currentAddress() + n);
        if (regs.nsector == 0) {
            device.transferHalt();
        } else {
            device.transferStart(Math.min(regs.nsector, requestSectors) * Ata.SECTOR_SIZE, PioTransfer.Next.SECTOR_WRITE);
        }
        bus.setIrq();
    }

    // =====================================================================================
    // DMA commands (§8.4, §5.9)
    // =====================================================================================

    /** READ/WRITE DMA (+EXT): ST=DRDY|DSC|DRQ and the command waits for the bus-master engine. */
    Outcome startDmaCommand(boolean ext, DmaKind kind) {
        if (!device.present()) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        armDma(kind);
        return Outcome.CONTINUES;
    }

    /** DATA SET MANAGEMENT: only TRIM, and only by DMA; the raw Sector Count is the block count. */
    Outcome dataSetManagement() {
        if (regs.feature != Ata.DSM_TRIM || !device.present()) {
            return Outcome.ABORTED;
        }
        armDma(DmaKind.TRIM);
        return Outcome.CONTINUES;
    }

    private void armDma(DmaKind dmaKind) {
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_DRQ;
        bus.dma.arm(device, dmaKind);
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
        if (!device.present() || device.kind() == IdeDriveKind.CDROM) {
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
        if (device.totalSectors() == 0) {
            return Outcome.ABORTED;
        }
        regs.applyCountConversion(ext);
        boolean usable = heads != 0 && sectors != 0;
        regs.setAddress(device.totalSectors() - 1, usable ? heads : device.geometry().heads(), usable ? sectors : device.geometry().sectors());
        return Outcome.COMPLETED;
    }

    /** EXECUTE DEVICE DIAGNOSTIC (§5.13); also the second half of SRST. */
    Outcome executeDeviceDiagnostic() {
        regs.select = Ata.DEVICE_ALWAYS_ON;
        regs.writeSignature(device.kind(), device.present());
        regs.error = Ata.DIAGNOSTIC_PASSED;
        if (device.kind() == IdeDriveKind.CDROM) {
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
        device.transferHalt();
        bus.controller.awaitBusIdle(bus);
        bus.dma.forget(device);
        device.resetRegisters();
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
        device.io().put(0, block, 0, 512);
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        device.transferStart(512, PioTransfer.Next.STOP);
        bus.setIrq();
    }

    // =====================================================================================
    // IDENTIFY, SET FEATURES, FLUSH
    // =====================================================================================

    Outcome identifyDevice() {
        if (device.present() && device.kind() != IdeDriveKind.CDROM) {
            if (!identifySet) {
                Identify.buildDisk(identifyData, new Identify.DiskInfo(device.serial(), device.firmware(), device.model(), device.totalSectors(),
                        device.geometry().cylinders(), heads, sectors, multSectors, device.block().isWriteCacheEnabled(), true));
                identifySet = true;
            }
            sendBlock(identifyData);
            return Outcome.CONTINUES;
        }
        if (device.kind() == IdeDriveKind.CDROM) {
            regs.writeSignature(device.kind(), true);
        }
        return Outcome.ABORTED;
    }

    Outcome identifyPacketDevice() {
        if (!identifySet) {
            Identify.buildPacket(identifyData, device.serial(), device.firmware(), device.model());
            identifySet = true;
        }
        sendBlock(identifyData);
        return Outcome.CONTINUES;
    }

    Outcome setFeatures() {
        if (!device.present()) {
            return Outcome.ABORTED;
        }
        switch (regs.feature) {
            case Ata.FEATURE_ENABLE_WRITE_CACHE -> {
                setWriteCache(true);
                return Outcome.COMPLETED;
            }
            case Ata.FEATURE_DISABLE_WRITE_CACHE -> {
                // QEMU flushes what the cache held before reporting the cache off.
                setWriteCache(false);
                return flushCache();
            }
            case Ata.FEATURE_ENABLE_REVERT -> {
                resetReverts = true;
                return Outcome.COMPLETED;
            }
            case Ata.FEATURE_DISABLE_REVERT -> {
                resetReverts = false;
                return Outcome.COMPLETED;
            }
            // Look-ahead, APM, AAM and vendor values: accepted, no effect.
            case 0xAA, 0x55, 0x05, 0x85, 0x42, 0xC2, 0x67, 0x69, 0x96, 0x9A -> {
                return Outcome.COMPLETED;
            }
            case Ata.FEATURE_SET_TRANSFER_MODE -> {
                return setTransferMode();
            }
            default -> {
                return Outcome.ABORTED;
            }
        }
    }

    /** Write cache follows the guest; word 85 of the cached IDENTIFY data follows too (§5.1, §4.4). */
    private void setWriteCache(boolean enabled) {
        if (device.block() != null) {
            device.block().setWriteCacheEnabled(enabled);
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
        if (device.aio() == null) {
            // QEMU 7.2 (checked over qtest): an empty CD tray fails the flush with ENOMEDIUM, which
            // goes through werror like any flush error; an absent unit has nothing to flush.
            flushDone(device.kind() == IdeDriveKind.CDROM ? -Errno.ENOMEDIUM : 0);
            return Outcome.CONTINUES;
        }
        regs.status |= Ata.STATUS_BSY;
        device.submit(device.aio()::flush, this::flushDone);
        return Outcome.CONTINUES;
    }

    private void reissueFlush() {
        if (device.aio() == null) {
            flushCache();
            return;
        }
        device.submit(device.aio()::flush, this::flushDone);
    }

    private void flushDone(int result) {
        if (TraceEvent.IDE_FLUSH.enabled) {
            Trace.emit(TraceEvent.IDE_FLUSH, bus.index, device.unit, result);
        }
        if (result < 0 && errors.handleIoError(-result, false, "flush", this::reissueFlush, errors::abortAndInterrupt)) {
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
        device.atapi().setDma((regs.feature & Atapi.FEATURE_DMA) != 0);
        regs.nsector = Atapi.REASON_COD;
        device.transferStart(Atapi.PACKET_SIZE, PioTransfer.Next.ATAPI_PACKET);
        return Outcome.CONTINUES;
    }
}
