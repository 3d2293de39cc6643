package dev.ioemu.devices.ide;

/** What sits on an IDE unit: an ATA hard disk ({@code ide-hd}) or an ATAPI CD/DVD-ROM ({@code ide-cd}). */
public enum IdeDriveKind {
    DISK,
    CDROM
}
