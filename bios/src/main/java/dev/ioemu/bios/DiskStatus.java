package dev.ioemu.bios;

/**
 * INT 13h status codes returned in AH and stored at 40:74 (shared/spec/int13.md §2.3), with
 * SeaBIOS's names where SeaBIOS has the code.
 */
final class DiskStatus {
    static final int DISK_RET_SUCCESS = 0x00;
    static final int DISK_RET_EPARAM = 0x01;
    static final int DISK_RET_EWRITEPROTECT = 0x03;
    /** RBIL "sector not found / read error": the backend refused the range (EINVAL). */
    static final int DISK_RET_ESECTORNOTFOUND = 0x04;
    static final int DISK_RET_EBOUNDARY = 0x09;
    /**
     * SeaBIOS's generic ATA failure, which is what it answers when a transfer runs past the last
     * sector, QEMU's drive having aborted the command (int13.md §2.3, §3.9). The HLE gives the
     * same code so a guest sees its peer's answer.
     */
    static final int DISK_RET_EBADTRACK = 0x0C;
    /** RBIL "uncorrectable CRC/ECC error on read": the host read failed. */
    static final int DISK_RET_EUNCORRECTABLE = 0x10;
    static final int DISK_RET_ECONTROLLER = 0x20;
    static final int DISK_RET_ENOTREMOVABLE = 0xB2;
    /** RBIL "write fault": the host write failed. */
    static final int DISK_RET_EWRITEFAULT = 0xCC;

    /** INT 13h AH=41h: EDD 3.0. */
    static final int EDD_VERSION_30 = 0x30;
    /** AH=41h CX: bit 0 AH=42h–44h/47h/48h, bit 1 removable functions, bit 2 EDD (DPTE, 4Eh), bit 3 64-bit DAP. */
    static final int EDD_API_BITMAP = 0x000F;
    /** AH=15h: "fixed disk present". */
    static final int DASD_FIXED_DISK = 0x03;

    private DiskStatus() {
    }
}
