package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.time.Clock;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Motorola MC146818 real-time clock with 128 bytes of CMOS RAM, as on the PC: index port at offset
 * 0 (bit 7 = NMI mask, index in bits 6-0; reads 0xFF as on QEMU), data port at offset 1, IRQ 8.
 * Registers A-D, time and alarm in BCD or binary, 12 or 24 hours, the SET bit, the century byte at
 * 0x32 (0x37, IBM PS/2's, aliases it), and three interrupt sources: periodic (rate from register A),
 * update-ended (each second) and alarm.
 *
 * <p>Time is the {@link Clock} plus a base (QEMU's {@code -rtc base=}): guest time = base seconds +
 * the clock's nanoseconds since the time was last set + a sub-second offset, so the RTC is
 * deterministic under a virtual clock. The time registers are refreshed from it when read, as on
 * QEMU. UIP reads 1 during the last 244 us of each second while the divider runs. The periodic
 * flag PF is computed on the fly when PIE is off (no 1024 Hz timer runs for nobody).
 */
public final class Mc146818Rtc implements PortDevice {
    public static final int RTC_SECONDS = 0x00;
    public static final int RTC_SECONDS_ALARM = 0x01;
    public static final int RTC_MINUTES = 0x02;
    public static final int RTC_MINUTES_ALARM = 0x03;
    public static final int RTC_HOURS = 0x04;
    public static final int RTC_HOURS_ALARM = 0x05;
    public static final int RTC_DAY_OF_WEEK = 0x06;
    public static final int RTC_DAY_OF_MONTH = 0x07;
    public static final int RTC_MONTH = 0x08;
    public static final int RTC_YEAR = 0x09;
    public static final int RTC_REG_A = 0x0a;
    public static final int RTC_REG_B = 0x0b;
    public static final int RTC_REG_C = 0x0c;
    public static final int RTC_REG_D = 0x0d;
    public static final int RTC_CENTURY = 0x32;
    public static final int RTC_IBM_PS2_CENTURY_BYTE = 0x37;

    public static final int REG_A_UIP = 0x80;
    /** Divider bits DV2-DV0 (6-4): 010 = 32.768 kHz time base running; 11x = divider reset. */
    public static final int REG_A_DV = 0x70;
    public static final int REG_A_DV_NORMAL = 0x20;
    public static final int REG_A_DV_RESET = 0x60;
    public static final int REG_A_RS = 0x0f;
    private static final int REG_A_RESET_MASK = 0x60;
    public static final int REG_B_SET = 0x80;
    public static final int REG_B_PIE = 0x40;
    public static final int REG_B_AIE = 0x20;
    public static final int REG_B_UIE = 0x10;
    public static final int REG_B_SQWE = 0x08;
    public static final int REG_B_DM = 0x04;
    public static final int REG_B_24H = 0x02;
    public static final int REG_C_IRQF = 0x80;
    public static final int REG_C_PF = 0x40;
    public static final int REG_C_AF = 0x20;
    public static final int REG_C_UF = 0x10;
    public static final int REG_C_MASK = 0x70;
    public static final int REG_D_VRT = 0x80;
    public static final int NMI_DISABLE = 0x80;

    public static final int CMOS_SIZE = 128;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final long TIME_BASE_HZ = 32_768;
    /** UIP is high for 244 us (8 time-base cycles) before each update. */
    private static final long UIP_HOLD_NANOS = 8 * NANOS_PER_SECOND / TIME_BASE_HZ;

    private final Clock clock;
    private final IrqLine irq;
    private final byte[] cmos = new byte[CMOS_SIZE];
    private final Clock.Timer updateTimer;
    private final Clock.Timer periodicTimer;
    private int index;
    private boolean nmiDisabled;
    /** Guest time in seconds when {@link #setNanos} was the clock's reading. */
    private long baseSeconds;
    private long setNanos;
    /** Sub-second part of the guest time at {@link #setNanos}. */
    private long offsetNanos;
    /** Periodic-interrupt count seen by the last read of register C (for PF while PIE is off). */
    private long periodsSeenByRegC;

    /**
     * @param baseEpochSeconds the guest's time at clock time 0, seconds since 1970 UTC
     */
    public Mc146818Rtc(Clock clock, IrqLine irq, long baseEpochSeconds) {
        this.clock = clock;
        this.irq = irq;
        this.updateTimer = clock.newTimer("rtc-update", this::updateEnded);
        this.periodicTimer = clock.newTimer("rtc-periodic", this::periodicInterrupt);
        cmos[RTC_REG_A] = 0x26;
        cmos[RTC_REG_B] = REG_B_24H;
        cmos[RTC_REG_D] = (byte) REG_D_VRT;
        setGuestTime(baseEpochSeconds, 0);
        writeTimeRegisters();
        scheduleUpdate();
    }

    /** System reset: the shutdown status (unless S3 resume 0xFE) and the interrupt enables clear. */
    public synchronized void reset() {
        if (reg(0x0f) != 0xfe) {
            cmos[0x0f] = 0;
        }
        cmos[RTC_REG_B] &= (byte) ~(REG_B_PIE | REG_B_AIE | REG_B_SQWE);
        cmos[RTC_REG_C] &= (byte) ~(REG_C_UF | REG_C_IRQF | REG_C_PF | REG_C_AF);
        irq.lower();
        periodicTimer.cancel();
        scheduleUpdate();
    }

    /** Sets the guest's time to {@code epochSeconds} now (the host's {@code -rtc base=}). */
    public synchronized void setTime(long epochSeconds) {
        setGuestTime(epochSeconds, 0);
        writeTimeRegisters();
        scheduleUpdate();
    }

    /** Firmware-visible CMOS contents set by the machine ({@link PcCmosLayout}). */
    public synchronized void setCmosByte(int address, int value) {
        if (address < 0 || address >= CMOS_SIZE) {
            throw new IllegalArgumentException("CMOS address: " + address + " (expected: 0 to 127)");
        }
        cmos[address] = (byte) value;
    }

    public synchronized int cmosByte(int address) {
        return reg(address);
    }

    /** Port 70h bit 7: the NMI mask a CPU engine consults. */
    public synchronized boolean nmiDisabled() {
        return nmiDisabled;
    }

    private int reg(int address) {
        return cmos[address] & 0xff;
    }

    private boolean running() {
        return (reg(RTC_REG_B) & REG_B_SET) == 0 && (reg(RTC_REG_A) & REG_A_DV) <= REG_A_DV_NORMAL;
    }

    private boolean dividerRunning() {
        return (reg(RTC_REG_A) & REG_A_DV_RESET) != REG_A_DV_RESET;
    }

    private long guestNanos() {
        return baseSeconds * NANOS_PER_SECOND + (clock.nanos() - setNanos) + offsetNanos;
    }

    private void setGuestTime(long seconds, long subSecondNanos) {
        baseSeconds = seconds;
        setNanos = clock.nanos();
        offsetNanos = subSecondNanos;
    }

    // ---- binary/BCD and 12/24 h register formats ----

    private int toRegister(int value) {
        return (reg(RTC_REG_B) & REG_B_DM) != 0 ? value : (value / 10) << 4 | value % 10;
    }

    /** A register's value, or -1 for an alarm "don't care" (0xC0-0xFF). */
    private int fromRegister(int value) {
        if ((value & 0xc0) == 0xc0) {
            return -1;
        }
        return (reg(RTC_REG_B) & REG_B_DM) != 0 ? value : (value >> 4) * 10 + (value & 0x0f);
    }

    private int hourFromRegister(int value) {
        int h = fromRegister(value & 0x7f);
        if ((reg(RTC_REG_B) & REG_B_24H) == 0) {
            h %= 12;
            if ((value & 0x80) != 0) {
                h += 12;
            }
        }
        return h;
    }

    private int hourToRegister(int hour) {
        if ((reg(RTC_REG_B) & REG_B_24H) != 0) {
            return toRegister(hour);
        }
        int h = hour % 12 == 0 ? 12 : hour % 12;
        return toRegister(h) | (hour >= 12 ? 0x80 : 0);
    }

    /** Refreshes the time registers from the clock (not while SET holds them). */
    private void writeTimeRegisters() {
        if ((reg(RTC_REG_B) & REG_B_SET) != 0) {
            return;
        }
        LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(guestNanos(), NANOS_PER_SECOND), 0, ZoneOffset.UTC);
        cmos[RTC_SECONDS] = (byte) toRegister(t.getSecond());
        cmos[RTC_MINUTES] = (byte) toRegister(t.getMinute());
        cmos[RTC_HOURS] = (byte) hourToRegister(t.getHour());
        cmos[RTC_DAY_OF_WEEK] = (byte) toRegister(t.getDayOfWeek().getValue() % 7 + 1);   // Sunday = 1
        cmos[RTC_DAY_OF_MONTH] = (byte) toRegister(t.getDayOfMonth());
        cmos[RTC_MONTH] = (byte) toRegister(t.getMonthValue());
        cmos[RTC_YEAR] = (byte) toRegister(t.getYear() % 100);
        cmos[RTC_CENTURY] = (byte) toRegister(t.getYear() / 100);
    }

    /**
     * The guest set the time registers: the clock continues from them. Out-of-range fields carry
     * over as with mktime (minute 82 is 1:22 later, June 32 is July 2), as QEMU computes it.
     */
    private void timeFromRegisters() {
        long year = fromRegister(reg(RTC_CENTURY)) * 100L + fromRegister(reg(RTC_YEAR));
        long months = year * 12 + fromRegister(reg(RTC_MONTH)) - 1;
        long days = LocalDate.of((int) Math.floorDiv(months, 12), (int) Math.floorMod(months, 12) + 1, 1).toEpochDay()
                + fromRegister(reg(RTC_DAY_OF_MONTH)) - 1;
        baseSeconds = days * 86_400L + hourFromRegister(reg(RTC_HOURS)) * 3600L + fromRegister(reg(RTC_MINUTES)) * 60L
                + fromRegister(reg(RTC_SECONDS));
        setNanos = clock.nanos();
    }

    // ---- interrupts ----

    private void raiseFlags(int flags) {
        int newFlags = flags & ~reg(RTC_REG_C);
        cmos[RTC_REG_C] |= (byte) flags;
        if ((newFlags & reg(RTC_REG_B) & REG_C_MASK) != 0) {
            cmos[RTC_REG_C] |= (byte) REG_C_IRQF;
            irq.raise();
        }
    }

    /**
     * Arms the update-ended timer for the next second boundary of guest time. Like QEMU 7.2, which
     * computes the next alarm from freshly rendered time registers here, the time registers are
     * refreshed from the clock (unless SET holds them) whenever the divider is not in reset.
     */
    private void scheduleUpdate() {
        if (!dividerRunning()) {
            updateTimer.cancel();
            return;
        }
        writeTimeRegisters();
        long intoSecond = Math.floorMod(guestNanos(), NANOS_PER_SECOND);
        updateTimer.arm(clock.nanos() + NANOS_PER_SECOND - intoSecond);
    }

    private void updateEnded() {
        synchronized (this) {
            if (!dividerRunning()) {
                return;
            }
            int flags = 0;
            if ((reg(RTC_REG_B) & REG_B_SET) == 0) {
                flags |= REG_C_UF;   // no update cycle while SET holds the registers
                writeTimeRegisters();
                if (alarmMatches()) {
                    flags |= REG_C_AF;
                }
            }
            raiseFlags(flags);
            scheduleUpdate();
        }
    }

    private boolean alarmMatches() {
        return matches(RTC_SECONDS_ALARM, RTC_SECONDS) && matches(RTC_MINUTES_ALARM, RTC_MINUTES)
                && ((reg(RTC_HOURS_ALARM) & 0xc0) == 0xc0 || hourFromRegister(reg(RTC_HOURS_ALARM)) == hourFromRegister(reg(RTC_HOURS)));
    }

    private boolean matches(int alarm, int time) {
        int a = fromRegister(reg(alarm));
        return a < 0 || a == fromRegister(reg(time));
    }

    /** The periodic rate in 32.768 kHz cycles (datasheet table: RS 1-2 as 8-9), 0 if off. */
    private long periodCycles() {
        int rs = reg(RTC_REG_A) & REG_A_RS;
        if (rs == 0 || (reg(RTC_REG_A) & REG_A_DV) != REG_A_DV_NORMAL) {
            return 0;
        }
        return rs <= 2 ? 1L << (rs + 6) : 1L << (rs - 1);
    }

    /** Time of 32.768 kHz cycle k, exactly: ceil(k * 10^9 / 32768). */
    private static long nanosOfCycle(long k) {
        long whole = k / TIME_BASE_HZ;
        long rest = k % TIME_BASE_HZ;
        return whole * NANOS_PER_SECOND + (rest * NANOS_PER_SECOND + TIME_BASE_HZ - 1) / TIME_BASE_HZ;
    }

    private static long cyclesAt(long nanos) {
        return nanos / NANOS_PER_SECOND * TIME_BASE_HZ + nanos % NANOS_PER_SECOND * TIME_BASE_HZ / NANOS_PER_SECOND;
    }

    private long periodsElapsed(long period) {
        return period == 0 ? 0 : cyclesAt(clock.nanos()) / period;
    }

    private void schedulePeriodic() {
        long period = periodCycles();
        if (period == 0 || (reg(RTC_REG_B) & REG_B_PIE) == 0) {
            periodicTimer.cancel();
            return;
        }
        periodicTimer.arm(nanosOfCycle((periodsElapsed(period) + 1) * period));
    }

    private void periodicInterrupt() {
        synchronized (this) {
            periodsSeenByRegC = periodsElapsed(periodCycles());
            raiseFlags(REG_C_PF);
            schedulePeriodic();
        }
    }

    private boolean updateInProgress() {
        return running() && Math.floorMod(guestNanos(), NANOS_PER_SECOND) >= NANOS_PER_SECOND - UIP_HOLD_NANOS;
    }

    // ---- ports ----

    @Override
    public synchronized int read(int offset, int size) {
        return ByteRegisters.read(this::readByte, offset, size);
    }

    private int readByte(int offset) {
        if ((offset & 1) == 0) {
            return 0xff;   // the index register is write-only; QEMU answers 0xFF
        }
        switch (index) {
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR,
                    RTC_CENTURY -> {
                if (running()) {
                    writeTimeRegisters();
                }
                return reg(index);
            }
            case RTC_IBM_PS2_CENTURY_BYTE -> {
                index = RTC_CENTURY;
                return readByte(offset);
            }
            case RTC_REG_A -> {
                return reg(RTC_REG_A) | (updateInProgress() ? REG_A_UIP : 0);
            }
            case RTC_REG_C -> {
                long period = periodCycles();
                if (period != 0 && (reg(RTC_REG_B) & REG_B_PIE) == 0) {
                    long periods = periodsElapsed(period);
                    if (periods != periodsSeenByRegC) {
                        cmos[RTC_REG_C] |= REG_C_PF;   // PF sets at the rate even with PIE off
                    }
                    periodsSeenByRegC = periods;
                }
                int value = reg(RTC_REG_C);
                cmos[RTC_REG_C] = 0;   // reading C acknowledges every flag
                irq.lower();
                return value;
            }
            default -> {
                return reg(index);
            }
        }
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        ByteRegisters.write(this::writeByte, offset, size, value);
    }

    private void writeByte(int offset, int value) {
        if ((offset & 1) == 0) {
            index = value & 0x7f;
            nmiDisabled = (value & NMI_DISABLE) != 0;
            return;
        }
        switch (index) {
            case RTC_SECONDS_ALARM, RTC_MINUTES_ALARM, RTC_HOURS_ALARM -> {
                cmos[index] = (byte) value;
                scheduleUpdate();
            }
            case RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR,
                    RTC_CENTURY, RTC_IBM_PS2_CENTURY_BYTE -> {
                if (index == RTC_IBM_PS2_CENTURY_BYTE) {
                    index = RTC_CENTURY;
                }
                cmos[index] = (byte) value;
                if (running()) {
                    timeFromRegisters();
                }
            }
            case RTC_REG_A -> writeRegisterA(value);
            case RTC_REG_B -> writeRegisterB(value);
            case RTC_REG_C, RTC_REG_D -> { }   // read-only
            default -> cmos[index] = (byte) value;
        }
    }

    private void writeRegisterA(int value) {
        int old = reg(RTC_REG_A);
        if ((value & REG_A_RESET_MASK) == REG_A_DV_RESET) {
            if (running()) {
                writeTimeRegisters();   // the divider chain stops: the registers hold the time
            }
        } else if ((old & REG_A_RESET_MASK) == REG_A_DV_RESET && (value & REG_A_DV) <= REG_A_DV_NORMAL) {
            // Divider reset released: the first update comes half a second later (datasheet).
            if ((reg(RTC_REG_B) & REG_B_SET) == 0) {
                timeFromRegisters();
                offsetNanos = NANOS_PER_SECOND / 2;
            }
        } else if (running() && (value & REG_A_DV) > REG_A_DV_NORMAL) {
            writeTimeRegisters();
        }
        cmos[RTC_REG_A] = (byte) (value & ~REG_A_UIP);
        scheduleUpdate();
        schedulePeriodic();
    }

    private void writeRegisterB(int value) {
        int old = reg(RTC_REG_B);
        if ((value & REG_B_SET) != 0) {
            if (running()) {
                writeTimeRegisters();   // freeze the registers at the current time
            }
            value &= ~REG_B_UIE;   // SET clears UIE (datasheet)
        } else if ((old & REG_B_SET) != 0 && (reg(RTC_REG_A) & REG_A_DV) <= REG_A_DV_NORMAL) {
            // SET released: the clock continues from the registers, within the current second.
            long sub = Math.floorMod(guestNanos(), NANOS_PER_SECOND);
            timeFromRegisters();
            offsetNanos = sub;
        }
        // A flag already set when its interrupt becomes enabled interrupts at once.
        if ((value & reg(RTC_REG_C) & REG_C_MASK) != 0) {
            cmos[RTC_REG_C] |= (byte) REG_C_IRQF;
            irq.raise();
        } else {
            cmos[RTC_REG_C] &= (byte) ~REG_C_IRQF;
            irq.lower();
        }
        cmos[RTC_REG_B] = (byte) value;
        scheduleUpdate();   // re-renders the time registers in the (new) format unless the divider is in reset
        schedulePeriodic();
    }

    @Override
    public String name() {
        return "rtc";
    }
}
