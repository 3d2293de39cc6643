package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The ATAPI packet layer of a CD/DVD-ROM unit (shared/spec/ide.md §9): the PACKET protocol with
 * BCL-sized PIO chunks or one DMA transfer, sense data, and the packet commands a guest needs
 * to find and read a disc. Guarded by the controller lock, like {@link IdeDevice}.
 *
 * <p>Not modelled (they answer ILLEGAL REQUEST / invalid opcode or invalid field): raw
 * 2352-byte READ CD (0xF8), READ DVD STRUCTURE, the WWN descriptor of INQUIRY page 0x83, tray and
 * media-change events.
 */
final class Atapi {
    static final int PACKET_SIZE = 12;
    static final int CD_SECTOR_SIZE = 2048;
    /** Features bits of the PACKET command. */
    static final int FEATURE_DMA = 0x01;
    static final int FEATURE_OVERLAP = 0x02;
    /** Interrupt reason in Sector Count: bit 0 CoD, bit 1 IO. */
    static final int REASON_COD = 0x01;
    static final int REASON_IO = 0x02;

    static final int SENSE_NONE = 0x00;
    static final int SENSE_NOT_READY = 0x02;
    static final int SENSE_ILLEGAL_REQUEST = 0x05;
    static final int SENSE_UNIT_ATTENTION = 0x06;
    static final int ASC_ILLEGAL_OPCODE = 0x20;
    static final int ASC_LOGICAL_BLOCK_OOR = 0x21;
    static final int ASC_INV_FIELD_IN_CMD_PACKET = 0x24;
    static final int ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x39;
    static final int ASC_MEDIUM_NOT_PRESENT = 0x3A;
    static final int ASC_DATA_PHASE_ERROR = 0x4B;
    static final int ASC_MEDIA_REMOVAL_PREVENTED = 0x53;

    /** Media larger than this many 512-byte sectors are reported as DVD (§9.1). */
    private static final long CD_MAX_SECTORS_512 = 1_440_000;
    private static final int MAX_SPEED_KBS = 704;
    private static final int ENOMEDIUM = 123;

    private final IdeDevice device;
    private final AtaRegisters regs;
    private int senseKey;
    private int asc;
    private boolean dma;
    private boolean locked;

    // The PIO reply in progress: bytes from `reply`, or CD sectors from `readLba`.
    private byte[] reply;
    private long readLba = -1;
    private long position;
    private long remaining;
    private int chunk;
    /** The reply of a DMA packet command, until the engine runs it. */
    private ByteBuffer dmaReply;

    Atapi(IdeDevice device) {
        this.device = device;
        this.regs = device.regs;
    }

    /** Per-unit reset: sense data and the reply state go away. */
    void reset() {
        senseKey = SENSE_NONE;
        asc = 0;
        reply = null;
        dmaReply = null;
        readLba = -1;
        remaining = 0;
    }

    void setDma(boolean dmaRequested) {
        dma = dmaRequested;
    }

    /** The packet commands, with QEMU's flags (§9.3). */
    private enum PacketCommand {
        TEST_UNIT_READY(0x00, Flags.CHECK_READY | Flags.NON_DATA, Atapi::testUnitReady),
        REQUEST_SENSE(0x03, Flags.ALLOW_UA, Atapi::requestSense),
        INQUIRY(0x12, Flags.ALLOW_UA, Atapi::inquiry),
        START_STOP_UNIT(0x1B, Flags.NON_DATA, Atapi::startStopUnit),
        PREVENT_ALLOW_MEDIUM_REMOVAL(0x1E, Flags.NON_DATA, Atapi::preventAllow),
        READ_CAPACITY(0x25, Flags.CHECK_READY, Atapi::readCapacity),
        READ_10(0x28, Flags.CHECK_READY, Atapi::read10),
        SEEK_10(0x2B, Flags.CHECK_READY | Flags.NON_DATA, Atapi::seek10),
        READ_TOC(0x43, Flags.CHECK_READY, Atapi::readToc),
        GET_CONFIGURATION(0x46, Flags.ALLOW_UA, Atapi::getConfiguration),
        GET_EVENT_STATUS_NOTIFICATION(0x4A, Flags.ALLOW_UA, Atapi::getEventStatusNotification),
        READ_DISC_INFORMATION(0x51, Flags.CHECK_READY, Atapi::readDiscInformation),
        MODE_SENSE_10(0x5A, 0, Atapi::modeSense10),
        READ_12(0xA8, Flags.CHECK_READY, Atapi::read12),
        READ_CD(0xBE, Flags.CHECK_READY | Flags.CONDITIONAL_DATA, Atapi::readCd),
        SET_CD_SPEED(0xBB, Flags.NON_DATA, Atapi::testUnitReady),
        MECHANISM_STATUS(0xBD, 0, Atapi::mechanismStatus);

        private static final class Flags {
            static final int ALLOW_UA = 1;
            static final int CHECK_READY = 2;
            static final int NON_DATA = 4;
            /** Transfers data only for some field values: exempt from the BCL=0 abort. */
            static final int CONDITIONAL_DATA = 8;
        }

        private static final PacketCommand[] BY_OPCODE = new PacketCommand[256];

        static {
            for (PacketCommand c : values()) {
                BY_OPCODE[c.opcode] = c;
            }
        }

        final int opcode;
        final int flags;
        final Handler handler;

        PacketCommand(int opcode, int flags, Handler handler) {
            this.opcode = opcode;
            this.flags = flags;
            this.handler = handler;
        }

        interface Handler {
            void run(Atapi atapi, byte[] cdb);
        }
    }

    // =====================================================================================
    // Protocol (§9.2)
    // =====================================================================================

    /** The 12th packet byte arrived: run the command. */
    void packetReceived() {
        byte[] cdb = new byte[PACKET_SIZE];
        device.io().get(0, cdb);
        int opcode = cdb[0] & 0xFF;
        if (TraceEvent.IDE_ATAPI_CMD.enabled) {
            Trace.emit(TraceEvent.IDE_ATAPI_CMD, device.bus.index, device.unit, opcode, dma ? 1 : 0);
        }
        PacketCommand c = PacketCommand.BY_OPCODE[opcode];
        if (c == null) {
            error(SENSE_ILLEGAL_REQUEST, ASC_ILLEGAL_OPCODE);
            return;
        }
        if ((c.flags & PacketCommand.Flags.CHECK_READY) != 0 && !mediumPresent()) {
            error(SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
            return;
        }
        int bclExempt = PacketCommand.Flags.NON_DATA | PacketCommand.Flags.CONDITIONAL_DATA;
        if ((c.flags & bclExempt) == 0 && !dma && byteCountLimit() == 0) {
            // A PIO data command with BCL 0 is refused at the ATA level, without an interrupt.
            device.errors.abortCommand();
            return;
        }
        c.handler.run(this, cdb);
    }

    private boolean mediumPresent() {
        return device.block() != null;
    }

    private long capacity() {
        BlockDevice b = device.block();
        return b == null ? 0 : b.size() / CD_SECTOR_SIZE;
    }

    private int byteCountLimit() {
        int bcl = regs.lcyl | regs.hcyl << 8;
        return bcl == 0xFFFF ? 0xFFFE : bcl;
    }

    /** Good completion: ST=0x50, interrupt reason IO|CoD, IRQ. */
    private void ok() {
        regs.error = 0;
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        regs.nsector = (regs.nsector & ~7) | REASON_IO | REASON_COD;
        device.transferHalt();
        device.bus.setIrq();
    }

    /** CHECK CONDITION: ER = sense key << 4, ST=0x41, reason IO|CoD, IRQ; sense kept for REQUEST SENSE. */
    void error(int key, int additionalSense) {
        if (TraceEvent.IDE_ATAPI_CMD_ERROR.enabled) {
            Trace.emit(TraceEvent.IDE_ATAPI_CMD_ERROR, device.bus.index, key, additionalSense);
        }
        regs.error = key << 4;
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_ERR;
        regs.nsector = (regs.nsector & ~7) | REASON_IO | REASON_COD;
        senseKey = key;
        asc = additionalSense;
        device.transferHalt();
        device.bus.setIrq();
    }

    /** A failed sector read: no medium → NOT READY, anything else → LBA out of range (QEMU's mapping). */
    void ioError(int errno) {
        if (errno == ENOMEDIUM) {
            error(SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        } else {
            error(SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR);
        }
    }

    /** Sends {@code min(length, maxLength)} bytes of {@code data}: BCL chunks by PIO, or one DMA transfer. */
    private void reply(byte[] data, int length, int maxLength) {
        int size = Math.min(length, maxLength);
        if (dma) {
            regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_DRQ;
            dmaReply = ByteBuffer.wrap(data, 0, size).slice();
            device.bus.dma.armAtapi(new ArmedCommand.AtapiReply(device, size));
            return;
        }
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        reply = data;
        readLba = -1;
        position = 0;
        remaining = size;
        nextChunk();
    }

    /** Sends {@code count} CD sectors from {@code lba}. */
    private void readSectors(long lba, long count) {
        if (dma) {
            regs.status = Ata.STATUS_BSY | Ata.STATUS_DRDY | Ata.STATUS_DSC | Ata.STATUS_DRQ;
            device.bus.dma.armAtapi(new ArmedCommand.AtapiRead(device, lba * CD_SECTOR_SIZE, count * CD_SECTOR_SIZE));
            return;
        }
        regs.status = Ata.STATUS_DRDY | Ata.STATUS_DSC;
        reply = null;
        readLba = lba;
        position = 0;
        remaining = count * CD_SECTOR_SIZE;
        nextChunk();
    }

    /**
     * Starts the next elementary transfer: byte count into Cyl Low/High, reason IO, DRQ and IRQ.
     * Sector data for the chunk is fetched asynchronously first (ST=0xD0 meanwhile).
     */
    private void nextChunk() {
        if (remaining == 0) {
            ok();
            return;
        }
        int limit = byteCountLimit();
        long size = remaining;
        if (size > limit) {
            // A chunk smaller than the rest must have an even length.
            size = (limit & 1) != 0 ? limit - 1 : limit;
        }
        if (size <= 0) {
            size = Math.min(remaining, 0xFFFE);
        }
        int length = (int) size;
        chunk = length;
        regs.lcyl = length & 0xFF;
        regs.hcyl = (length >>> 8) & 0xFF;
        regs.nsector = (regs.nsector & ~7) | REASON_IO;
        if (readLba < 0) {
            device.io().put(0, reply, (int) position, length);
            showChunk(0, length);
            return;
        }
        long first = position / CD_SECTOR_SIZE;
        long last = (position + length - 1) / CD_SECTOR_SIZE;
        int sectors = (int) (last - first + 1);
        int start = (int) (position % CD_SECTOR_SIZE);
        long offset = (readLba + first) * CD_SECTOR_SIZE;
        ByteBuffer buffer = device.io().slice(0, sectors * CD_SECTOR_SIZE);
        regs.status |= Ata.STATUS_BSY;
        device.submit(c -> device.aio().read(offset, buffer, c), result -> {
            regs.status &= ~Ata.STATUS_BSY;
            if (result < 0) {
                // ATAPI PIO read errors bypass rerror (§6.5).
                ioError(-result);
                return;
            }
            showChunk(start, length);
        });
    }

    private void showChunk(int start, int length) {
        device.transferStart(start, length, PioTransfer.Next.ATAPI_REPLY);
        device.bus.setIrq();
    }

    /** The guest read the whole chunk. */
    void chunkDone() {
        position += chunk;
        remaining -= chunk;
        nextChunk();
    }

    /**
     * The engine runs the armed reply (QEMU's rw_buf from the ATAPI DMA callback): the reply
     * bytes go to {@code toGuest} as one chunk, and are then dropped.
     */
    void sendReplyByDma(Consumer<ByteBuffer> toGuest) {
        ByteBuffer data = dmaReply;
        dmaReply = null;
        if (data == null) {
            throw new IllegalStateException("ATAPI DMA reply armed without reply data");
        }
        toGuest.accept(data);
    }

    /** End of an ATAPI DMA transfer (data moved, or a report-policy error). */
    void dmaFinished(int result) {
        if (result < 0) {
            ioError(-result);
        } else {
            ok();
        }
    }

    // =====================================================================================
    // Packet commands (§9.3)
    // =====================================================================================

    private void testUnitReady(byte[] cdb) {
        ok();
    }

    private void requestSense(byte[] cdb) {
        byte[] b = new byte[18];
        b[0] = (byte) 0xF0;
        b[2] = (byte) senseKey;
        b[7] = 10;
        b[12] = (byte) asc;
        if (senseKey == SENSE_UNIT_ATTENTION) {
            senseKey = SENSE_NONE;
        }
        reply(b, b.length, cdb[4] & 0xFF);
    }

    private void inquiry(byte[] cdb) {
        int maxLength = cdb[4] & 0xFF;
        if ((cdb[1] & 1) != 0) {
            vitalProductData(cdb[2] & 0xFF, maxLength);
            return;
        }
        byte[] b = new byte[36];
        b[0] = 0x05;
        b[1] = (byte) 0x80;
        b[2] = 0x00;
        b[3] = 0x21;
        b[4] = 36 - 5;
        putAscii(b, 8, "IOEMU", 8);
        putAscii(b, 16, "IOEMU DVD-ROM", 16);
        putAscii(b, 32, device.firmware(), 4);
        reply(b, b.length, maxLength);
    }

    /** INQUIRY with EVPD: page 0x00 (supported pages) and 0x83 (device identification, libata's shape). */
    private void vitalProductData(int page, int maxLength) {
        byte[] b = new byte[4 + 24 + 72];
        b[0] = 0x05;
        b[1] = (byte) page;
        int q = 4;
        if (page == 0x00) {
            b[q++] = 0x00;
            b[q++] = (byte) 0x83;
        } else if (page == 0x83) {
            if (q + 24 > maxLength) {
                error(SENSE_ILLEGAL_REQUEST, ASC_DATA_PHASE_ERROR);
                return;
            }
            b[q++] = 0x02;
            b[q++] = 0x00;
            b[q++] = 0x00;
            b[q++] = 20;
            putAscii(b, q, device.serial(), 20);
            q += 20;
            if (q + 72 <= maxLength) {
                b[q++] = 0x02;
                b[q++] = 0x01;
                b[q++] = 0x00;
                b[q++] = 68;
                putAscii(b, q, "ATA", 8);
                putAscii(b, q + 8, device.model(), 40);
                putAscii(b, q + 48, device.serial(), 20);
                q += 68;
            }
        } else {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        b[3] = (byte) (q - 4);
        reply(b, q, maxLength);
    }

    private void startStopUnit(byte[] cdb) {
        boolean start = (cdb[4] & 1) != 0;
        boolean loadEject = (cdb[4] & 2) != 0;
        boolean powerCondition = (cdb[4] & 0xF0) != 0;
        if (!powerCondition && loadEject && !start && locked) {
            error(mediumPresent() ? SENSE_NOT_READY : SENSE_ILLEGAL_REQUEST, ASC_MEDIA_REMOVAL_PREVENTED);
            return;
        }
        // The tray itself is not modelled: load/eject succeed without changing the medium.
        ok();
    }

    private void preventAllow(byte[] cdb) {
        locked = (cdb[4] & 1) != 0;
        ok();
    }

    private void readCapacity(byte[] cdb) {
        byte[] b = new byte[8];
        putBe32(b, 0, capacity() - 1);
        putBe32(b, 4, CD_SECTOR_SIZE);
        reply(b, 8, 8);
    }

    private void read10(byte[] cdb) {
        read(be32(cdb, 2), be16(cdb, 7));
    }

    private void read12(byte[] cdb) {
        read(be32(cdb, 2), be32(cdb, 6));
    }

    private void read(long lba, long count) {
        if (count == 0) {
            ok();
            return;
        }
        long cap = capacity();
        if (lba >= cap || lba + count - 1 >= cap) {
            error(SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR);
            return;
        }
        readSectors(lba, count);
    }

    /**
     * READ CD: expected-sector-type field 0x00 transfers nothing, 0x10 the 2048-byte user data;
     * raw 2352-byte sectors (0xF8) are not modelled and answer INVALID FIELD like other values.
     */
    private void readCd(byte[] cdb) {
        long count = (cdb[6] & 0xFF) << 16 | (cdb[7] & 0xFF) << 8 | (cdb[8] & 0xFF);
        long lba = be32(cdb, 2);
        if (count == 0) {
            ok();
            return;
        }
        long cap = capacity();
        if (lba >= cap || lba + count - 1 >= cap) {
            error(SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR);
            return;
        }
        int request = cdb[9] & 0xF8;
        if (request == 0x00) {
            ok();
            return;
        }
        if (!dma && byteCountLimit() == 0) {
            device.errors.abortCommand();
            return;
        }
        if (request == 0x10) {
            readSectors(lba, count);
        } else {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
        }
    }

    private void seek10(byte[] cdb) {
        if (be32(cdb, 2) >= capacity()) {
            error(SENSE_ILLEGAL_REQUEST, ASC_LOGICAL_BLOCK_OOR);
            return;
        }
        ok();
    }

    private void readToc(byte[] cdb) {
        int format = (cdb[9] & 0xFF) >> 6;
        boolean msf = (cdb[1] & 2) != 0;
        int startTrack = cdb[6] & 0xFF;
        int maxLength = be16(cdb, 7);
        if (format == 1) {
            // Multi-session info: a single session.
            byte[] b = {0x00, 0x0A, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
            reply(b, b.length, maxLength);
            return;
        }
        if (format == 2) {
            rawToc(msf, maxLength);
            return;
        }
        if (format != 0) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        if (startTrack > 1 && startTrack != 0xAA) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        byte[] b = new byte[20];
        int q = 2;
        b[q++] = 1;
        b[q++] = 1;
        if (startTrack <= 1) {
            b[q++] = 0;
            b[q++] = 0x14;
            b[q++] = 1;
            b[q++] = 0;
            q = putAddress(b, q, 0, msf);
        }
        b[q++] = 0;
        b[q++] = 0x16;
        b[q++] = (byte) 0xAA;
        b[q++] = 0;
        q = putAddress(b, q, capacity(), msf);
        b[0] = (byte) ((q - 2) >> 8);
        b[1] = (byte) (q - 2);
        reply(b, q, maxLength);
    }

    /** READ TOC format 2: session 1 with points A0 (first track), A1 (last track), A2 (lead-out), 01. */
    private void rawToc(boolean msf, int maxLength) {
        byte[] b = new byte[4 + 4 * 11];
        int q = 2;
        b[q++] = 1;
        b[q++] = 1;
        for (int point : new int[]{0xA0, 0xA1, 0xA2, 0x01}) {
            b[q++] = 1;
            b[q++] = 0x14;
            b[q++] = 0;
            b[q++] = (byte) point;
            q += 3;
            switch (point) {
                case 0xA0, 0xA1 -> {
                    b[q++] = 0;
                    b[q++] = 1;
                    q += 2;
                }
                case 0xA2 -> q = putAddress(b, q, capacity(), msf);
                default -> q = msf ? putAddress(b, q, 0, true) : q + 4;
            }
        }
        b[0] = (byte) ((q - 2) >> 8);
        b[1] = (byte) (q - 2);
        reply(b, q, maxLength);
    }

    private static int putAddress(byte[] b, int q, long lba, boolean msf) {
        if (msf) {
            long frames = lba + 150;
            b[q] = 0;
            b[q + 1] = (byte) (frames / (75 * 60));
            b[q + 2] = (byte) (frames / 75 % 60);
            b[q + 3] = (byte) (frames % 75);
        } else {
            putBe32(b, q, lba);
        }
        return q + 4;
    }

    private int currentProfile() {
        if (!mediumPresent()) {
            return 0;
        }
        return device.block().size() / 512 > CD_MAX_SECTORS_512 ? 0x0010 : 0x0008;
    }

    private void getConfiguration(byte[] cdb) {
        if (be16(cdb, 2) != 0) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        int maxLength = Math.min(be16(cdb, 7), 512);
        byte[] b = new byte[20];
        int profile = currentProfile();
        putBe32(b, 0, 16);
        b[6] = (byte) (profile >> 8);
        b[7] = (byte) profile;
        b[10] = 0x03;
        b[11] = 8;
        b[12] = 0x00;
        b[13] = 0x10;
        b[14] = (byte) (profile == 0x0010 ? 1 : 0);
        b[16] = 0x00;
        b[17] = 0x08;
        b[18] = (byte) (profile == 0x0008 ? 1 : 0);
        reply(b, b.length, maxLength);
    }

    private void getEventStatusNotification(byte[] cdb) {
        if ((cdb[1] & 1) == 0) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        int maxLength = be16(cdb, 7);
        if ((cdb[4] & 0x10) != 0) {
            byte[] b = {0x00, 0x04, 0x04, 0x10, 0x00, (byte) (mediumPresent() ? 2 : 0), 0x00, 0x00};
            reply(b, b.length, maxLength);
        } else {
            byte[] b = {0x00, 0x00, (byte) 0x80, 0x10};
            reply(b, b.length, maxLength);
        }
    }

    private void readDiscInformation(byte[] cdb) {
        if ((cdb[1] & 7) != 0) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        byte[] b = new byte[34];
        b[1] = 32;
        b[2] = 0x0E;
        b[3] = 1;
        b[4] = 1;
        b[5] = 1;
        b[6] = 1;
        b[7] = 0x20;
        reply(b, b.length, be16(cdb, 7));
    }

    private void modeSense10(byte[] cdb) {
        int pageControl = (cdb[2] & 0xFF) >> 6;
        int page = cdb[2] & 0x3F;
        int maxLength = be16(cdb, 7);
        if (pageControl == 3) {
            error(SENSE_ILLEGAL_REQUEST, ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
            return;
        }
        if (pageControl != 0 || (page != 0x01 && page != 0x0E && page != 0x2A)) {
            error(SENSE_ILLEGAL_REQUEST, ASC_INV_FIELD_IN_CMD_PACKET);
            return;
        }
        byte[] b;
        if (page == 0x01) {
            b = new byte[16];
            b[8] = 0x01;
            b[9] = 0x06;
            b[11] = 0x05;
        } else if (page == 0x0E) {
            // Audio control: volume levels all 0.
            b = new byte[24];
            b[8] = 0x0E;
            b[9] = 24 - 10;
        } else {
            b = new byte[30];
            b[8] = 0x2A;
            b[9] = 0x14;
            b[10] = 0x3B;
            b[12] = 0x71;
            b[13] = 0x60;
            b[14] = (byte) (0x29 | (locked ? 0x02 : 0));
            b[16] = (byte) (MAX_SPEED_KBS >> 8);
            b[17] = (byte) MAX_SPEED_KBS;
            b[19] = 2;
            b[20] = 512 >> 8;
            b[22] = (byte) (MAX_SPEED_KBS >> 8);
            b[23] = (byte) MAX_SPEED_KBS;
        }
        b[1] = (byte) (b.length - 2);
        b[2] = 0x70;
        reply(b, b.length, maxLength);
    }

    private void mechanismStatus(byte[] cdb) {
        byte[] b = new byte[8];
        b[5] = 1;
        reply(b, b.length, be16(cdb, 8));
    }

    // =====================================================================================
    // Byte helpers (SCSI is big-endian)
    // =====================================================================================

    private static int be16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long be32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24) | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    private static void putBe32(byte[] b, int at, long v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    private static void putAscii(byte[] b, int at, String s, int length) {
        byte[] text = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            b[at + i] = i < text.length ? text[i] : (byte) ' ';
        }
    }
}
