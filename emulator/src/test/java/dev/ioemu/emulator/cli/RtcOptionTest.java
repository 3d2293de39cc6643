package dev.ioemu.emulator.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RtcOptionTest {
    @Test
    void fixedBaseIsSecondsSince1970Utc() throws UsageException {
        RtcOption o = RtcOption.parse("base=2006-06-17T16:01:21,clock=vm");
        assertEquals(1150560081L, o.baseEpochSeconds(42));
        assertEquals(1150502400L, RtcOption.parse("base=2006-06-17").baseEpochSeconds(42));
    }

    @Test
    void utcIsTheHostsTimeAndTheDefault() throws UsageException {
        assertEquals(42, RtcOption.parse("base=utc,driftfix=slew").baseEpochSeconds(42));
        assertEquals(42, RtcOption.DEFAULT.baseEpochSeconds(42));
    }

    @Test
    void badValuesNameTheOption() {
        UsageException e = assertThrows(UsageException.class, () -> RtcOption.parse("base=yesterday"));
        assertTrue(e.getMessage().startsWith("-rtc base=yesterday: invalid date format"), e.getMessage());
        assertThrows(UsageException.class, () -> RtcOption.parse("clock=wall"));
        assertThrows(UsageException.class, () -> RtcOption.parse("speed=2"));
    }

    @Test
    void commandLineCarriesIt() throws UsageException {
        VmConfig c = CommandLine.parse(new String[] {"-qtest", "stdio", "-rtc", "base=2006-06-17T16:01:21"});
        assertEquals(1150560081L, c.rtc().baseEpochSeconds(0));
    }
}
