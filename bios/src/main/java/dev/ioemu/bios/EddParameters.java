package dev.ioemu.bios;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The INT 13h AH=48h result buffer and its DPTE (shared/spec/int13.md §3.11), built as SeaBIOS's
 * {@code fill_ata_edd} builds them, with the HLE choices of §3.11.4: the size word says what was
 * really returned (1Ah, 1Eh, 42h Phoenix or 4Ah T13), flags bit 0 (no DMA-boundary errors) is
 * set, and nothing is written past the caller's size.
 */
final class EddParameters {
    static final int SIZE_V1 = 0x1A;
    static final int SIZE_V2 = 0x1E;
    static final int SIZE_V3_PHOENIX = 0x42;
    static final int SIZE_V3_T13 = 0x4A;
    static final int INFO_DMA_BOUNDARY_TRANSPARENT = 1;
    static final int INFO_CHS_VALID = 1 << 1;
    static final int DEVICE_PATH_KEY = 0xBEDD;
    static final int DPI_LENGTH_PHOENIX = 36;
    static final int DPI_LENGTH_T13 = 44;
    static final int DPTE_REVISION = 0x11;
    /** DPTE byte 4: ATA device/head register value, bits 5 and 7 set, bit 4 slave, bit 6 LBA. */
    static final int ATA_CB_DH_DEV0 = 0xA0;
    static final int ATA_CB_DH_DEV1 = 0xB0;
    static final int ATA_CB_DH_LBA = 0x40;
    /** DPTE byte 5: Phoenix proprietary byte, SeaBIOS's value. */
    static final int DPTE_VENDOR_BYTE = 0xCB;
    static final int OPTION_CHS_TRANSLATION = 1 << 3;
    static final int OPTION_LBA_TRANSLATION = 1 << 4;
    static final int OPTION_TRANSLATION_TYPE_SHIFT = 9;

    private EddParameters() {
    }

    /** The number of bytes returned for a caller's buffer of {@code size} (≥ 1Ah). */
    static int returnedSize(int size) {
        return size >= SIZE_V3_T13 ? SIZE_V3_T13 : size >= SIZE_V3_PHOENIX ? SIZE_V3_PHOENIX
                : size >= SIZE_V2 ? SIZE_V2 : SIZE_V1;
    }

    /** The result buffer of {@code returnedSize(callerSize)} bytes; {@code dpte} is the DPTE's far pointer. */
    static byte[] resultBuffer(BiosDrive drive, int returned, int dpteFarPointer) {
        DiskGeometry g = drive.geometry();
        ByteBuffer b = ByteBuffer.allocate(returned).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) returned);
        boolean chsValid = g.physicalChsValid();
        b.putShort(2, (short) (INFO_DMA_BOUNDARY_TRANSPARENT | (chsValid ? INFO_CHS_VALID : 0)));
        b.putInt(4, chsValid ? g.physical().cylinders() : DiskGeometry.MAX_ATA_CYLINDERS);
        b.putInt(8, g.physical().heads());
        b.putInt(12, g.physical().sectors());
        b.putLong(16, drive.totalSectors());
        b.putShort(24, (short) BiosDrive.SECTOR_SIZE);
        if (returned >= SIZE_V2) {
            b.putInt(26, dpteFarPointer);
        }
        if (returned >= SIZE_V3_PHOENIX) {
            boolean t13 = returned == SIZE_V3_T13;
            AtaLocation at = drive.location();
            b.putShort(30, (short) DEVICE_PATH_KEY);
            b.put(32, (byte) (t13 ? DPI_LENGTH_T13 : DPI_LENGTH_PHOENIX));
            b.put(36, "PCI ".getBytes(StandardCharsets.US_ASCII));
            b.put(40, "ATA     ".getBytes(StandardCharsets.US_ASCII));
            b.put(48, (byte) at.pciBus());
            b.put(49, (byte) at.pciDevice());
            b.put(50, (byte) at.pciFunction());
            // Phoenix EDD 3.0 had no channel byte (SeaBIOS masks it off); T13 has one.
            b.put(51, (byte) (t13 ? at.channel() : 0));
            b.put(56, (byte) (at.slave() ? 1 : 0));
            int checksumAt = t13 ? 0x49 : 0x41;
            int sum = 0;
            for (int i = 0x1E; i < checksumAt; i++) {
                sum += b.get(i);
            }
            b.put(checksumAt, (byte) -sum);
        }
        return b.array();
    }

    /** The 16-byte Device Parameter Table Extension (RBIL table 00278), SeaBIOS's values for an ATA disk. */
    static byte[] dpte(BiosDrive drive) {
        AtaLocation at = drive.location();
        ByteBuffer b = ByteBuffer.allocate(Ebda.DPTE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) at.commandBase());
        b.putShort(2, (short) at.controlBase());
        b.put(4, (byte) ((at.slave() ? ATA_CB_DH_DEV1 : ATA_CB_DH_DEV0) | ATA_CB_DH_LBA));
        b.put(5, (byte) DPTE_VENDOR_BYTE);
        b.put(6, (byte) at.irq());
        b.put(7, (byte) 1);     // sectors per multi-sector transfer
        b.put(8, (byte) 0);     // DMA control
        b.put(9, (byte) 0);     // PIO control
        DiskGeometry g = drive.geometry();
        int options = OPTION_LBA_TRANSLATION;
        boolean translated = switch (g.translation()) {
            case NONE -> false;
            case LBA, LARGE, RECHS -> true;
            case HOST, PARTITION_TABLE -> !g.logical().equals(g.physical());
        };
        if (translated) {
            options |= OPTION_CHS_TRANSLATION | g.translation().dpteTranslationType() << OPTION_TRANSLATION_TYPE_SHIFT;
        }
        b.putShort(10, (short) options);
        b.put(14, (byte) DPTE_REVISION);
        int sum = 0;
        for (int i = 0; i < 15; i++) {
            sum += b.get(i);
        }
        b.put(15, (byte) -sum);
        return b.array();
    }
}
