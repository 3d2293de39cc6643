package dev.ioemu.devices.ide;

/**
 * The ATA command table as data (shared/spec/ide.md §3): opcode, handler (in {@link AtaCommandSet})
 * and flags. The table has a 256-entry lookup; {@link IdeBus#executeCommand} is the one gate that applies the BSY rule,
 * the permission check and completion.
 */
enum AtaCommand {
    DATA_SET_MANAGEMENT(0x06, AtaCommandSet::dataSetManagement, Flags.DISK),
    DEVICE_RESET(0x08, AtaCommandSet::deviceReset, Flags.CD | Flags.CD_ALLOWED_WHILE_BUSY),
    RECALIBRATE(0x10, AtaCommandSet::noOperation, Flags.DISK | Flags.SET_DSC),
    READ_SECTORS(0x20, d -> d.readSectorsPio(false, false), Flags.DISK | Flags.CD),
    READ_SECTORS_NO_RETRY(0x21, d -> d.readSectorsPio(false, false), Flags.DISK),
    READ_SECTORS_EXT(0x24, d -> d.readSectorsPio(true, false), Flags.DISK),
    READ_DMA_EXT(0x25, d -> d.startDmaCommand(true, DmaKind.READ), Flags.DISK),
    READ_NATIVE_MAX_ADDRESS_EXT(0x27, d -> d.readNativeMaxAddress(true), Flags.DISK | Flags.SET_DSC),
    READ_MULTIPLE_EXT(0x29, d -> d.readSectorsPio(true, true), Flags.DISK),
    WRITE_SECTORS(0x30, d -> d.writeSectorsPio(false, false), Flags.DISK),
    WRITE_SECTORS_NO_RETRY(0x31, d -> d.writeSectorsPio(false, false), Flags.DISK),
    WRITE_SECTORS_EXT(0x34, d -> d.writeSectorsPio(true, false), Flags.DISK),
    WRITE_DMA_EXT(0x35, d -> d.startDmaCommand(true, DmaKind.WRITE), Flags.DISK),
    WRITE_MULTIPLE_EXT(0x39, d -> d.writeSectorsPio(true, true), Flags.DISK),
    WRITE_VERIFY(0x3C, d -> d.writeSectorsPio(false, false), Flags.DISK),
    READ_VERIFY_SECTORS(0x40, d -> d.readVerify(false), Flags.DISK | Flags.SET_DSC),
    READ_VERIFY_SECTORS_NO_RETRY(0x41, d -> d.readVerify(false), Flags.DISK | Flags.SET_DSC),
    READ_VERIFY_SECTORS_EXT(0x42, d -> d.readVerify(true), Flags.DISK | Flags.SET_DSC),
    SEEK(0x70, AtaCommandSet::noOperation, Flags.DISK | Flags.SET_DSC),
    EXECUTE_DEVICE_DIAGNOSTIC(0x90, AtaCommandSet::executeDeviceDiagnostic, Flags.DISK | Flags.CD),
    INITIALIZE_DEVICE_PARAMETERS(0x91, AtaCommandSet::initializeDeviceParameters, Flags.DISK | Flags.SET_DSC),
    STANDBY_IMMEDIATE_OLD(0x94, AtaCommandSet::noOperation, Flags.DISK),
    IDLE_IMMEDIATE_OLD(0x95, AtaCommandSet::noOperation, Flags.DISK),
    STANDBY_OLD(0x96, AtaCommandSet::noOperation, Flags.DISK),
    IDLE_OLD(0x97, AtaCommandSet::noOperation, Flags.DISK),
    CHECK_POWER_MODE_OLD(0x98, AtaCommandSet::checkPowerMode, Flags.DISK | Flags.SET_DSC),
    SLEEP_OLD(0x99, AtaCommandSet::noOperation, Flags.DISK),
    PACKET(0xA0, AtaCommandSet::packet, Flags.CD),
    IDENTIFY_PACKET_DEVICE(0xA1, AtaCommandSet::identifyPacketDevice, Flags.CD),
    SMART(0xB0, AtaCommandSet::smart, Flags.DISK | Flags.SET_DSC),
    READ_MULTIPLE(0xC4, d -> d.readSectorsPio(false, true), Flags.DISK),
    WRITE_MULTIPLE(0xC5, d -> d.writeSectorsPio(false, true), Flags.DISK),
    SET_MULTIPLE_MODE(0xC6, AtaCommandSet::setMultipleMode, Flags.DISK | Flags.SET_DSC),
    READ_DMA(0xC8, d -> d.startDmaCommand(false, DmaKind.READ), Flags.DISK),
    READ_DMA_NO_RETRY(0xC9, d -> d.startDmaCommand(false, DmaKind.READ), Flags.DISK),
    WRITE_DMA(0xCA, d -> d.startDmaCommand(false, DmaKind.WRITE), Flags.DISK),
    WRITE_DMA_NO_RETRY(0xCB, d -> d.startDmaCommand(false, DmaKind.WRITE), Flags.DISK),
    STANDBY_IMMEDIATE(0xE0, AtaCommandSet::noOperation, Flags.DISK),
    IDLE_IMMEDIATE(0xE1, AtaCommandSet::noOperation, Flags.DISK),
    STANDBY(0xE2, AtaCommandSet::noOperation, Flags.DISK),
    IDLE(0xE3, AtaCommandSet::noOperation, Flags.DISK),
    CHECK_POWER_MODE(0xE5, AtaCommandSet::checkPowerMode, Flags.DISK | Flags.SET_DSC),
    SLEEP(0xE6, AtaCommandSet::noOperation, Flags.DISK),
    FLUSH_CACHE(0xE7, AtaCommandSet::flushCache, Flags.DISK | Flags.CD),
    FLUSH_CACHE_EXT(0xEA, AtaCommandSet::flushCache, Flags.DISK),
    IDENTIFY_DEVICE(0xEC, AtaCommandSet::identifyDevice, Flags.DISK | Flags.CD),
    SET_FEATURES(0xEF, AtaCommandSet::setFeatures, Flags.DISK | Flags.CD | Flags.SET_DSC),
    SECURITY_FREEZE_LOCK(0xF5, AtaCommandSet::securityFreezeLock, Flags.DISK | Flags.SET_DSC),
    READ_NATIVE_MAX_ADDRESS(0xF8, d -> d.readNativeMaxAddress(false), Flags.DISK | Flags.SET_DSC);

    /** Flag bits of a table entry. */
    static final class Flags {
        /** Permitted on an ATA disk (and on a unit with no drive, which QEMU treats as a disk). */
        static final int DISK = 1;
        /** Permitted on an ATAPI CD/DVD-ROM. */
        static final int CD = 2;
        /** Successful completion ORs DSC (0x10) into the status. */
        static final int SET_DSC = 4;
        /** Accepted even while BSY or DRQ is set (DEVICE RESET on ATAPI). */
        static final int CD_ALLOWED_WHILE_BUSY = 8;

        private Flags() {
        }
    }

    /** A command handler; see {@link Outcome} for what it may return. */
    @FunctionalInterface
    interface Handler {
        Outcome run(AtaCommandSet commands);
    }

    private static final AtaCommand[] BY_OPCODE = new AtaCommand[256];

    static {
        for (AtaCommand c : values()) {
            assert BY_OPCODE[c.opcode] == null : "duplicate opcode " + c.opcode;
            BY_OPCODE[c.opcode] = c;
        }
    }

    final int opcode;
    final Handler handler;
    private final int flags;

    AtaCommand(int opcode, Handler handler, int flags) {
        this.opcode = opcode;
        this.handler = handler;
        this.flags = flags;
    }

    /** The command with {@code opcode}, or null for opcodes QEMU aborts on every device. */
    static AtaCommand forOpcode(int opcode) {
        return BY_OPCODE[opcode & 0xFF];
    }

    boolean permittedOn(IdeDriveKind kind) {
        return (flags & (kind == IdeDriveKind.CDROM ? Flags.CD : Flags.DISK)) != 0;
    }

    boolean setsDsc() {
        return (flags & Flags.SET_DSC) != 0;
    }

    /** DEVICE RESET to an ATAPI unit bypasses the BSY/DRQ rule (§2 step 3). */
    static boolean allowedWhileBusy(int opcode, IdeDriveKind kind) {
        AtaCommand c = forOpcode(opcode);
        return c != null && kind == IdeDriveKind.CDROM && (c.flags & Flags.CD_ALLOWED_WHILE_BUSY) != 0;
    }

    /** Name for traces: the table name, or "unknown". */
    static String nameOf(int opcode) {
        AtaCommand c = forOpcode(opcode);
        return c == null ? "unknown" : c.name();
    }
}
