package dev.ioemu.tests.peer;

import java.util.List;

/**
 * THE list of places where ioemu answers differently from QEMU 7.2 on purpose, each with its
 * reason. The comparator consults it for every differing reply; anything not explained here is a
 * divergence. Keep entries narrow (match the step's tag or address range, not "any reply").
 */
public final class AllowedDifferences {
    /** One allowed difference. */
    public record Allowance(String name, String reason, Matcher matcher) {
    }

    /** Decides whether a differing reply is covered. */
    @FunctionalInterface
    public interface Matcher {
        boolean matches(Step step, String qemuReply, String ioemuReply);
    }

    private AllowedDifferences() {
    }

    public static final List<Allowance> ALL = List.of(
            new Allowance("identify-strings",
                    "IDENTIFY model (words 27-46), serial (10-19) and firmware revision (23-26) are ioemu's own "
                            + "unless -global/-device set them (issue 4: model string our own, layout kept)",
                    (step, q, i) -> step.tag().matches("identify:word:(1[0-9]|2[3-9]|3[0-9]|4[0-6])")),
            new Allowance("inquiry-strings",
                    "ATAPI INQUIRY vendor (bytes 8-15) and product (16-31) are ioemu's own ('IOEMU', 'IOEMU "
                            + "DVD-ROM'); QEMU hard-codes 'QEMU' and 'QEMU DVD-ROM' whatever the drive's model",
                    (step, q, i) -> step.tag().equals("inquiry:strings")),
            new Allowance("piix4-pm",
                    "PCI 00:01.3, the PIIX4 ACPI/power-management function QEMU's pc machine adds (acpi=on), "
                            + "is not modelled yet: its configuration space reads all-ones in ioemu",
                    (step, q, i) -> step.tag().equals("pci:piix4-pm") && i.startsWith("OK 0xffff")),
            new Allowance("bios-rom",
                    "ioemu loads no firmware: 0xe0000-0xfffff and 0xfffc0000-0xffffffff read as zeros, where QEMU "
                            + "shows SeaBIOS",
                    (step, q, i) -> step.tag().equals("memory:bios-rom")),
            new Allowance("fw-cfg-dma",
                    "fw_cfg's DMA interface is not implemented: FW_CFG_ID reports 0x1 (QEMU 0x3) and the file "
                            + "directory is empty (QEMU lists its ROM/ACPI files)",
                    (step, q, i) -> step.tag().equals("fw_cfg:id") || step.tag().equals("fw_cfg:file-dir")),
            new Allowance("fw-cfg-arch-tables",
                    "fw_cfg's x86 tables for firmware (ACPI, SMBIOS, HPET at 0x8000-0x8004) are not provided; "
                            + "only the IRQ0 override item is",
                    (step, q, i) -> step.tag().equals("fw_cfg:arch")),
            new Allowance("b64write-overlong",
                    "QEMU 7.2 writes SIZE bytes for a b64write whose data decodes shorter (reading past the decoded "
                            + "buffer, fixed upstream 2026-05); ioemu writes the decoded bytes only, as master",
                    (step, q, i) -> step.tag().equals("memory:b64write-short")),
            // ---- platform chips (PlatformChipsDifferentialTest): ioemu follows the datasheet here ----
            new Allowance("port61-refresh",
                    "Port 61h bit 4 (refresh toggle) follows the clock in ioemu (one flip per 15.085 us, so a "
                            + "polling loop ends under virtual time); QEMU 7.2 flips it on every read",
                    (step, q, i) -> step.tag().startsWith("port61") && (Long.decode(q.substring(3)) ^ Long.decode(i.substring(3))) == 0x10),
            new Allowance("pit-mode-6-7",
                    "8254 control words with M2-M0 = 6 or 7 select modes 2 and 3 (datasheet: X10, X11), as in "
                            + "ioemu; QEMU 7.2 keeps 6/7 and computes OUT as in mode 0. Seen only in OUT: "
                            + "read-back status bit 7 and port 61h bit 5",
                    (step, q, i) -> {
                        long diff = Long.decode(q.substring(3)) ^ Long.decode(i.substring(3));
                        return step.tag().equals("pit:status-mode-6-7") && diff == 0x80
                                || step.tag().equals("port61:out2-mode-6-7") && (diff & ~0x30L) == 0 && (diff & 0x20) != 0;
                    }),
            new Allowance("malformed-qtest",
                    "QEMU aborts on malformed qtest lines (missing arguments, bad numbers, port > 0xffff, empty "
                            + "line); ioemu answers FAIL. Such lines are never sent to QEMU in a differential run",
                    (step, q, i) -> step.tag().equals("qtest:malformed")));

    /** The allowance covering this difference, or null if it is a divergence. */
    public static Allowance explain(Step step, String qemuReply, String ioemuReply) {
        for (Allowance a : ALL) {
            if (a.matcher().matches(step, qemuReply, ioemuReply)) {
                return a;
            }
        }
        return null;
    }
}
