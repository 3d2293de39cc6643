package dev.ioemu.devices.ide;

import java.util.Arrays;

/**
 * The SMART feature set of a QEMU disk (shared/spec/ide.md §5.15): enable state, autosave,
 * a fixed attribute table and a non-persistent self-test log. Guarded by the controller lock.
 */
final class Smart {
    static final int CYL_LOW_KEY = 0x4F;
    static final int CYL_HIGH_KEY = 0xC2;

    static final int READ_DATA = 0xD0;
    static final int READ_THRESHOLDS = 0xD1;
    static final int ATTRIBUTE_AUTOSAVE = 0xD2;
    static final int EXECUTE_OFFLINE = 0xD4;
    static final int READ_LOG = 0xD5;
    static final int ENABLE_OPERATIONS = 0xD8;
    static final int DISABLE_OPERATIONS = 0xD9;
    static final int RETURN_STATUS = 0xDA;

    static final int LOG_SUMMARY_ERROR = 0x01;
    static final int LOG_SELF_TEST = 0x06;
    private static final int SELF_TEST_ENTRY = 24;
    private static final int SELF_TEST_ENTRIES = 21;

    /** id, flags, flags-high, current, worst, raw[6], reserved, threshold. */
    private static final int[][] ATTRIBUTES = {
            {0x01, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06},
            {0x03, 0x03, 0x00, 0x64, 0x64, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
            {0x04, 0x02, 0x00, 0x64, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14},
            {0x05, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24},
            {0x09, 0x03, 0x00, 0x64, 0x64, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
            {0x0C, 0x03, 0x00, 0x64, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
            {0xBE, 0x03, 0x00, 0x45, 0x45, 0x1F, 0x00, 0x1F, 0x1F, 0x00, 0x00, 0x00, 0x32},
    };
    private static final int THRESHOLD = 12;

    /** What the SMART sub-command asks of the command gate. */
    enum Result { DONE, ABORT, DATA_READY }

    private boolean enabled = true;
    private boolean autosave = true;
    private int selfTestCount;
    private final byte[] selfTestLog = new byte[512];

    /** Runs the SMART sub-command in Features; DATA_READY leaves a 512-byte page in {@code page}. */
    Result execute(AtaRegisters r, byte[] page) {
        if (r.lcyl != CYL_LOW_KEY || r.hcyl != CYL_HIGH_KEY) {
            return Result.ABORT;
        }
        if (!enabled && r.feature != ENABLE_OPERATIONS) {
            return Result.ABORT;
        }
        switch (r.feature) {
            case ENABLE_OPERATIONS -> enabled = true;
            case DISABLE_OPERATIONS -> enabled = false;
            case ATTRIBUTE_AUTOSAVE -> {
                if (r.sector == 0x00) {
                    autosave = false;
                } else if (r.sector == 0xF1) {
                    autosave = true;
                } else {
                    return Result.ABORT;
                }
            }
            case RETURN_STATUS -> {
                // No threshold is ever exceeded: the "good" key stays in the cylinder registers.
                r.lcyl = CYL_LOW_KEY;
                r.hcyl = CYL_HIGH_KEY;
            }
            case READ_THRESHOLDS -> {
                Arrays.fill(page, 0, 512, (byte) 0);
                page[0] = 0x01;
                for (int n = 0; n < ATTRIBUTES.length; n++) {
                    page[2 + n * 12] = (byte) ATTRIBUTES[n][0];
                    page[2 + n * 12 + 1] = (byte) ATTRIBUTES[n][THRESHOLD];
                }
                checksum(page);
                return Result.DATA_READY;
            }
            case READ_DATA -> {
                readData(page);
                return Result.DATA_READY;
            }
            case READ_LOG -> {
                Arrays.fill(page, 0, 512, (byte) 0);
                page[0] = 0x01;
                if (r.sector == LOG_SUMMARY_ERROR) {
                    // Error count (bytes 452-453) is always 0: QEMU never counts SMART errors.
                    page[452] = 0;
                    page[453] = 0;
                } else if (r.sector == LOG_SELF_TEST) {
                    page[508] = (byte) selfTestCount;
                    if (selfTestCount != 0) {
                        System.arraycopy(selfTestLog, 2, page, 2, 504);
                    }
                } else {
                    return Result.ABORT;
                }
                checksum(page);
                return Result.DATA_READY;
            }
            case EXECUTE_OFFLINE -> {
                if (r.sector > 2) {
                    return Result.ABORT;
                }
                // Off-line, short and extended tests all "complete" at once with a good entry.
                selfTestCount = selfTestCount % SELF_TEST_ENTRIES + 1;
                int n = 2 + (selfTestCount - 1) * SELF_TEST_ENTRY;
                selfTestLog[n] = (byte) r.sector;
                selfTestLog[n + 1] = 0x00;
                selfTestLog[n + 2] = 0x34;
                selfTestLog[n + 3] = 0x12;
            }
            default -> {
                return Result.ABORT;
            }
        }
        return Result.DONE;
    }

    private void readData(byte[] page) {
        Arrays.fill(page, 0, 512, (byte) 0);
        page[0] = 0x01;
        for (int n = 0; n < ATTRIBUTES.length; n++) {
            for (int i = 0; i < 11; i++) {
                page[2 + n * 12 + i] = (byte) ATTRIBUTES[n][i];
            }
        }
        page[362] = (byte) (0x02 | (autosave ? 0x80 : 0x00));
        page[363] = selfTestCount == 0 ? 0 : selfTestLog[3 + (selfTestCount - 1) * SELF_TEST_ENTRY];
        page[364] = 0x20;
        page[365] = 0x01;
        page[367] = 0x19;
        page[368] = 0x03;
        page[369] = 0x00;
        page[370] = 0x01;
        page[372] = 0x02;
        page[373] = 0x36;
        page[374] = 0x01;
        checksum(page);
    }

    /** Byte 511 makes the page sum to 0 mod 256. */
    private static void checksum(byte[] page) {
        int sum = 0;
        for (int i = 0; i < 511; i++) {
            sum += page[i];
        }
        page[511] = (byte) -sum;
    }
}
