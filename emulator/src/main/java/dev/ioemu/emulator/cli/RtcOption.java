package dev.ioemu.emulator.cli;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * QEMU's {@code -rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew]}: where the
 * guest's real-time clock starts. DATE is {@code 2006-06-17T16:01:21} or {@code 2006-06-17}. The
 * RTC always counts on the machine's clock (virtual under qtest, so {@code clock=vm} is what it
 * does; {@code host}/{@code rt} are accepted for QEMU command lines); {@code driftfix} is accepted
 * and ignored, since a virtual clock loses no ticks.
 *
 * @param base      "utc", "localtime" or an ISO date-time in UTC
 * @param fixedBase the parsed date in seconds since 1970 UTC, or null for utc/localtime
 */
public record RtcOption(String base, Long fixedBase) {
    public static final RtcOption DEFAULT = new RtcOption("utc", null);

    public static RtcOption parse(String value) throws UsageException {
        Map<String, String> o = QemuOpts.parse("-rtc", value, null);
        String base = "utc";
        Long fixed = null;
        for (Map.Entry<String, String> e : o.entrySet()) {
            String v = e.getValue();
            switch (e.getKey()) {
                case "base" -> {
                    base = v;
                    if (!v.equals("utc") && !v.equals("localtime")) {
                        fixed = parseDate(value, v);
                    }
                }
                case "clock" -> {
                    if (!v.equals("host") && !v.equals("rt") && !v.equals("vm")) {
                        throw new UsageException("-rtc " + value + ": invalid clock '" + v + "' (expected: host, rt or vm)");
                    }
                }
                case "driftfix" -> {
                    if (!v.equals("none") && !v.equals("slew")) {
                        throw new UsageException("-rtc " + value + ": invalid driftfix '" + v + "' (expected: none or slew)");
                    }
                }
                default -> throw new UsageException("-rtc " + value + ": Invalid parameter '" + e.getKey() + "'");
            }
        }
        return new RtcOption(base, fixed);
    }

    private static long parseDate(String option, String v) throws UsageException {
        try {
            if (v.length() == 10) {
                return LocalDate.parse(v).atStartOfDay().toEpochSecond(ZoneOffset.UTC);
            }
            return LocalDateTime.parse(v).toEpochSecond(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new UsageException("-rtc " + option + ": invalid date format '" + v
                    + "' (expected: utc, localtime or e.g. 2006-06-17T16:01:21)");
        }
    }

    /** The guest's time at start, seconds since 1970 as the RTC counts them (local time for localtime). */
    public long baseEpochSeconds(long hostEpochSeconds) {
        if (fixedBase != null) {
            return fixedBase;
        }
        if (base.equals("localtime")) {
            return hostEpochSeconds + ZoneId.systemDefault().getRules()
                    .getOffset(java.time.Instant.ofEpochSecond(hostEpochSeconds)).getTotalSeconds();
        }
        return hostEpochSeconds;
    }
}
