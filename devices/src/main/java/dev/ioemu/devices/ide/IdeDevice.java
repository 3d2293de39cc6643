package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockCompletion;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.MemorySpan;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * One IDE unit (master or slave): the ATA register file and what the drive is, and the dispatch
 * to the parts the spec separates — the ATA command set ({@link AtaCommandSet}, §3, §5), its
 * PIO data phase ({@link PioTransfer}, §7), the ATAPI packet layer of a CD-ROM ({@link Atapi},
 * §9) and the error policy for failed commands and requests ({@link DriveErrorPolicy}, §6.5);
 * DMA data moves in {@link BusMasterDma}. A unit with no drive still exists — it keeps shadow
 * registers and answers per §1.5 — and QEMU treats it as a disk.
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

    final IdeBus bus;
    final int unit;
    final AtaRegisters regs = new AtaRegisters();
    /** What failed commands and requests do (ABRT, rerror/werror). */
    final DriveErrorPolicy errors;
    /** The handlers of the command table and the state they keep. */
    final AtaCommandSet commands;

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

    // ---- PIO ----
    private final PioTransfer pio = new PioTransfer(this, IO_BUFFER_SIZE);
    /** The ATAPI packet layer of a CD-ROM unit, null for disks. */
    private Atapi atapi;

    IdeDevice(IdeBus bus, int unit) {
        this.bus = bus;
        this.unit = unit;
        this.errors = new DriveErrorPolicy(this);
        this.commands = new AtaCommandSet(this, errors);
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
        commands.driveAttached();
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

    /** The drive's configuration (null when no drive is attached). */
    IdeDriveConfig config() {
        return config;
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
        commands.reset();
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
    void transferStart(int length, PioTransfer.Next next) {
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
            case SECTOR_READ -> commands.sectorRead();
            case SECTOR_WRITE -> commands.sectorWrite();
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
    // Requests
    // =====================================================================================

    /** QEMU's range rule (§6.4): start ≤ total and count ≤ total − start. */
    boolean rangeOk(long sector, long count) {
        return sector >= 0 && count >= 0 && sector <= totalSectors && count <= totalSectors - sector;
    }

    /** Submits a block request; {@code done} runs later under the controller lock. */
    void submit(Consumer<BlockCompletion> request, IntConsumer done) {
        bus.controller.submit(bus, request, done);
    }
}
