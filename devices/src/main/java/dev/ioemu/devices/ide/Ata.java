package dev.ioemu.devices.ide;

/**
 * ATA, ATAPI and bus-master register names, bits, opcodes and limits with the spec's names
 * (shared/spec/ide.md §0, §1, §3, §4, §8, §9): the one public list that the device model and guest
 * drivers ({@code dev.ioemu.devices.ide.guest}, tests, tools) share.
 */
public final class Ata {
    private Ata() {
    }

    // Command block register offsets from the channel's command base (§1.1)
    public static final int REG_DATA = 0;
    /** Error on read, Features on write. */
    public static final int REG_ERROR = 1;
    public static final int REG_FEATURES = 1;
    public static final int REG_NSECTOR = 2;
    public static final int REG_LBA_LOW = 3;
    public static final int REG_LBA_MID = 4;
    public static final int REG_LBA_HIGH = 5;
    public static final int REG_DEVICE = 6;
    /** Status on read, Command on write. */
    public static final int REG_STATUS = 7;
    public static final int REG_COMMAND = 7;

    // Status register (+7 / alternate status)
    public static final int STATUS_BSY = 0x80;
    public static final int STATUS_DRDY = 0x40;
    public static final int STATUS_DF = 0x20;
    public static final int STATUS_DSC = 0x10;
    public static final int STATUS_DRQ = 0x08;
    public static final int STATUS_CORR = 0x04;
    public static final int STATUS_IDX = 0x02;
    public static final int STATUS_ERR = 0x01;

    // Error register (+1)
    public static final int ERR_ABRT = 0x04;
    /** Not an error bit: EXECUTE DEVICE DIAGNOSTIC's "device 0 passed" code. */
    public static final int DIAGNOSTIC_PASSED = 0x01;

    // Device/Head register (+6)
    public static final int DEVICE_ALWAYS_ON = 0xA0;
    public static final int DEVICE_LBA = 0x40;
    public static final int DEVICE_DEV = 0x10;
    public static final int DEVICE_HEAD = 0x0F;

    // Device Control register (control block)
    public static final int CONTROL_HOB = 0x80;
    public static final int CONTROL_SRST = 0x04;
    public static final int CONTROL_NIEN = 0x02;

    // Command opcodes (§3)
    public static final int CMD_DATA_SET_MANAGEMENT = 0x06;
    public static final int CMD_DEVICE_RESET = 0x08;
    public static final int CMD_READ_SECTORS = 0x20;
    public static final int CMD_READ_SECTORS_EXT = 0x24;
    public static final int CMD_READ_DMA_EXT = 0x25;
    public static final int CMD_READ_NATIVE_MAX_ADDRESS_EXT = 0x27;
    public static final int CMD_READ_MULTIPLE_EXT = 0x29;
    public static final int CMD_WRITE_SECTORS = 0x30;
    public static final int CMD_WRITE_SECTORS_EXT = 0x34;
    public static final int CMD_WRITE_DMA_EXT = 0x35;
    public static final int CMD_WRITE_MULTIPLE_EXT = 0x39;
    public static final int CMD_READ_VERIFY_SECTORS = 0x40;
    public static final int CMD_EXECUTE_DEVICE_DIAGNOSTIC = 0x90;
    public static final int CMD_INITIALIZE_DEVICE_PARAMETERS = 0x91;
    public static final int CMD_PACKET = 0xA0;
    public static final int CMD_IDENTIFY_PACKET_DEVICE = 0xA1;
    public static final int CMD_SMART = 0xB0;
    public static final int CMD_READ_MULTIPLE = 0xC4;
    public static final int CMD_WRITE_MULTIPLE = 0xC5;
    public static final int CMD_SET_MULTIPLE_MODE = 0xC6;
    public static final int CMD_READ_DMA = 0xC8;
    public static final int CMD_WRITE_DMA = 0xCA;
    public static final int CMD_CHECK_POWER_MODE = 0xE5;
    public static final int CMD_FLUSH_CACHE = 0xE7;
    public static final int CMD_FLUSH_CACHE_EXT = 0xEA;
    public static final int CMD_IDENTIFY_DEVICE = 0xEC;
    public static final int CMD_SET_FEATURES = 0xEF;
    public static final int CMD_READ_NATIVE_MAX_ADDRESS = 0xF8;

    // SET FEATURES subcommands (Features register) and DSM's TRIM bit (§5.1, §5.9)
    public static final int FEATURE_ENABLE_WRITE_CACHE = 0x02;
    public static final int FEATURE_SET_TRANSFER_MODE = 0x03;
    public static final int FEATURE_DISABLE_WRITE_CACHE = 0x82;
    /** The next reset keeps the current CHS translation / restores the native one. */
    public static final int FEATURE_DISABLE_REVERT = 0x66;
    public static final int FEATURE_ENABLE_REVERT = 0xCC;
    public static final int DSM_TRIM = 0x01;

    // IDENTIFY DEVICE words (§4)
    public static final int IDENTIFY_WORDS = 256;
    public static final int IDENTIFY_SERIAL = 10;
    public static final int IDENTIFY_FIRMWARE = 23;
    public static final int IDENTIFY_MODEL = 27;
    public static final int IDENTIFY_LBA28_SECTORS = 60;
    public static final int IDENTIFY_COMMAND_SET_ENABLED = 85;
    /** Word 85 bit 5: volatile write cache enabled. */
    public static final int IDENTIFY_WRITE_CACHE_ENABLED = 1 << 5;

    public static final int SECTOR_SIZE = 512;
    /** Largest READ/WRITE MULTIPLE block QEMU allows (IDENTIFY word 47). */
    public static final int MAX_MULT_SECTORS = 16;
    /** LBA28 capacity cap of IDENTIFY words 60-61. */
    public static final long LBA28_MAX = 0x0FFF_FFFFL;

    // Signature in Sector Count / Sector Number / Cyl Low / Cyl High (§1.6, §9.1)
    public static final int ATAPI_SIGNATURE_LCYL = 0x14;
    public static final int ATAPI_SIGNATURE_HCYL = 0xEB;
    public static final int ABSENT_SIGNATURE_CYL = 0xFF;

    // ATAPI PACKET protocol (§9): CDB size, Features bits, Interrupt Reason in Sector Count
    public static final int ATAPI_PACKET_SIZE = 12;
    public static final int ATAPI_FEATURE_DMA = 0x01;
    public static final int ATAPI_REASON_COD = 0x01;
    public static final int ATAPI_REASON_IO = 0x02;
    public static final int CD_SECTOR_SIZE = 2048;
    public static final int SCSI_INQUIRY = 0x12;
    public static final int SCSI_READ_10 = 0x28;

    // Bus-master IDE registers from a channel's BAR4 offset (§8.2); the secondary's block is +8
    public static final int BM_REG_COMMAND = 0;
    public static final int BM_REG_STATUS = 2;
    public static final int BM_REG_TABLE = 4;
    public static final int BM_CHANNEL_STRIDE = 8;
    public static final int BM_COMMAND_START = 0x01;
    /** Direction bit: the device writes guest memory (a read from disk). */
    public static final int BM_COMMAND_READ = 0x08;
    public static final int BM_STATUS_ACTIVE = 0x01;
    public static final int BM_STATUS_ERROR = 0x02;
    public static final int BM_STATUS_INTERRUPT = 0x04;

    // Physical Region Descriptor (§8.3)
    public static final int PRD_SIZE = 8;
    /** Largest byte count one PRD describes (a count field of 0 means this). */
    public static final int PRD_MAX_BYTES = 0x10000;
    public static final int PRD_EOT = 0x8000_0000;
}
