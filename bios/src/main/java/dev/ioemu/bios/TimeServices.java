package dev.ioemu.bios;

import dev.ioemu.devices.bus.PhysicalMemory;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * INT 1Ah time services (shared/spec/int13.md §8.5): the tick count at 40:6C that the ROM's
 * INT 08h code advances, and the real-time clock read from an injected {@link InstantSource}
 * (UTC, QEMU's default RTC base) plus whatever offset the guest set with AH=03h/05h.
 */
public final class TimeServices implements BiosService {
    /** PCI BIOS "function not supported" (int13.md §8.5). */
    static final int PCI_FUNC_NOT_SUPPORTED = 0x81;

    private final Bda bda;
    private final InstantSource rtc;
    private Duration guestOffset = Duration.ZERO;

    public TimeServices(PhysicalMemory memory, InstantSource rtc) {
        this.bda = new Bda(memory);
        this.rtc = rtc;
    }

    /** The clock the guest sees: host time plus the guest's adjustments. */
    LocalDateTime now() {
        return LocalDateTime.ofInstant(rtc.instant(), ZoneOffset.UTC).plus(guestOffset);
    }

    /** Ticks since midnight at 1,193,182 / 65,536 Hz, as POST seeds 40:6C (int13.md §8.6). */
    static int ticksSinceMidnight(LocalTime time) {
        return (int) (time.toSecondOfDay() * 1_193_182L / 65_536L);
    }

    @Override
    public void serve(BiosCall call) {
        RegisterFile r = call.regs();
        switch (r.ah()) {
            case 0x00 -> readTicks(call);
            case 0x01 -> setTicks(call);
            case 0x02 -> readTime(call);
            case 0x03 -> setTime(call);
            case 0x04 -> readDate(call);
            case 0x05 -> setDate(call);
            case 0xB1 -> {
                // No PCI BIOS: callers must see EDX untouched and CF=1 (int13.md §8.5).
                call.unsupportedKeepingAh();
                r.setAh(PCI_FUNC_NOT_SUPPORTED);
            }
            // TCG/TPM: with no TPM, EAX must stay non-zero (GRUB's boot.img then skips measuring).
            case 0xBB -> call.unsupportedKeepingAh();
            default -> call.unsupported();
        }
    }

    /** CX:DX = ticks, AL = the midnight flag, which reading clears. */
    private void readTicks(BiosCall call) {
        RegisterFile r = call.regs();
        int ticks = bda.readDword(Bda.TIMER_COUNTER);
        r.setCx(ticks >>> 16);
        r.setDx(ticks);
        r.setAl(bda.readByte(Bda.TIMER_ROLLOVER));
        bda.writeByte(Bda.TIMER_ROLLOVER, 0);
        call.setCarry(false);
    }

    private void setTicks(BiosCall call) {
        RegisterFile r = call.regs();
        bda.writeDword(Bda.TIMER_COUNTER, r.cx() << 16 | r.dx());
        bda.writeByte(Bda.TIMER_ROLLOVER, 0);
        r.setAh(0);
        call.setCarry(false);
    }

    private void readTime(BiosCall call) {
        RegisterFile r = call.regs();
        LocalDateTime t = now();
        r.setCh(toBcd(t.getHour()));
        r.setCl(toBcd(t.getMinute()));
        r.setDh(toBcd(t.getSecond()));
        r.setDl(0);     // no daylight saving
        r.setAh(0);
        r.setAl(r.ch());
        call.setCarry(false);
    }

    private void readDate(BiosCall call) {
        RegisterFile r = call.regs();
        LocalDateTime t = now();
        r.setCh(toBcd(t.getYear() / 100));
        r.setCl(toBcd(t.getYear() % 100));
        r.setDh(toBcd(t.getMonthValue()));
        r.setDl(toBcd(t.getDayOfMonth()));
        r.setAh(0);
        r.setAl(r.ch());
        call.setCarry(false);
    }

    private void setTime(BiosCall call) {
        RegisterFile r = call.regs();
        try {
            LocalDateTime now = now();
            LocalDateTime wanted = now.with(LocalTime.of(fromBcd(r.ch()), fromBcd(r.cl()), fromBcd(r.dh())));
            adjustTo(now, wanted);
            r.setAh(0);
            call.setCarry(false);
        } catch (DateTimeException e) {
            call.unsupportedKeepingAh();
        }
    }

    private void setDate(BiosCall call) {
        RegisterFile r = call.regs();
        try {
            LocalDateTime now = now();
            LocalDate date = LocalDate.of(fromBcd(r.ch()) * 100 + fromBcd(r.cl()), fromBcd(r.dh()), fromBcd(r.dl()));
            adjustTo(now, LocalDateTime.of(date, now.toLocalTime()));
            r.setAh(0);
            call.setCarry(false);
        } catch (DateTimeException e) {
            call.unsupportedKeepingAh();
        }
    }

    private void adjustTo(LocalDateTime now, LocalDateTime wanted) {
        guestOffset = guestOffset.plus(Duration.between(now, wanted));
    }

    static int toBcd(int value) {
        return (value / 10) << 4 | (value % 10);
    }

    /** Decodes a BCD byte; a nibble above 9 is a value no clock field accepts. */
    static int fromBcd(int bcd) {
        int hi = (bcd >>> 4) & 0xF;
        int lo = bcd & 0xF;
        if (hi > 9 || lo > 9) {
            throw new DateTimeException("not BCD: " + Integer.toHexString(bcd));
        }
        return hi * 10 + lo;
    }
}
