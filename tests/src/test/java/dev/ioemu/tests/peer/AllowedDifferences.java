package dev.ioemu.tests.peer;

import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * THE list of places where ioemu answers differently from QEMU 7.2 on purpose. Each allowance
 * names the request it covers (the step's tag and a pattern of the request line), the field of the
 * reply whose bytes may differ and how, and the reason. The comparator decodes both replies to
 * bytes (a port or memory value little-endian, a {@code read}'s hex, a {@code b64read}'s base64)
 * and excuses a difference only if every differing byte lies in the allowed field; anything else —
 * another byte, another request, FAIL against OK, different lengths — is a divergence.
 */
public final class AllowedDifferences {
    /** Which differing bytes an allowance excuses: a byte at {@code offset} that reads {@code qemu} in QEMU and {@code ioemu} in ioemu. */
    @FunctionalInterface
    public interface ByteRule {
        boolean allows(int offset, int qemu, int ioemu);
    }

    /**
     * One allowed difference.
     *
     * @param tag     the step tag (a regular expression) the generators put on the requests concerned
     * @param request the request lines concerned (a regular expression)
     * @param field   which bytes of the reply may differ, in words
     * @param bytes   the rule each differing byte must satisfy
     */
    public record Allowance(String name, String reason, Pattern tag, Pattern request, String field, ByteRule bytes) {
        boolean covers(Step step, String qemuReply, String ioemuReply) {
            if (!tag.matcher(step.tag()).matches() || !request.matcher(step.request()).matches()) {
                return false;
            }
            byte[] q = payload(step.request(), qemuReply);
            byte[] i = payload(step.request(), ioemuReply);
            if (q == null || i == null || q.length != i.length) {
                return false;
            }
            boolean differs = false;
            for (int k = 0; k < q.length; k++) {
                if (q[k] != i[k]) {
                    differs = true;
                    if (!bytes.allows(k, q[k] & 0xFF, i[k] & 0xFF)) {
                        return false;
                    }
                }
            }
            return differs;
        }
    }

    private AllowedDifferences() {
    }

    /** An ATA/SCSI string character: printable ASCII (space included). */
    private static boolean text(int b) {
        return b >= 0x20 && b <= 0x7E;
    }

    private static Allowance allow(String name, String reason, String tag, String request, String field, ByteRule rule) {
        return new Allowance(name, reason, Pattern.compile(tag), Pattern.compile(request), field, rule);
    }

    public static final List<Allowance> ALL = List.of(
            allow("identify-strings",
                    "IDENTIFY model (words 27-46), serial (10-19) and firmware revision (23-26) are ioemu's own "
                            + "unless -global/-device set them (issue 4: model string our own, layout kept)",
                    "identify:word:(1[0-9]|2[3-9]|3[0-9]|4[0-6])", "inw 0x(1f0|170)",
                    "both bytes of the data word: text characters on both sides",
                    (offset, q, i) -> text(q) && text(i)),
            allow("inquiry-strings",
                    "ATAPI INQUIRY vendor (bytes 8-15) and product (16-31) are ioemu's own ('IOEMU', 'IOEMU "
                            + "DVD-ROM'); QEMU hard-codes 'QEMU' and 'QEMU DVD-ROM' whatever the drive's model",
                    "inquiry:strings", "inw 0x(1f0|170)",
                    "both bytes of the data word (INQUIRY words 4-15): text characters on both sides",
                    (offset, q, i) -> text(q) && text(i)),
            allow("piix4-pm",
                    "PCI 00:01.3, the PIIX4 ACPI/power-management function QEMU's pc machine adds (acpi=on), "
                            + "is not modelled yet: its configuration space reads all-ones in ioemu",
                    "pci:piix4-pm", "in[bwl] 0xcfc",
                    "any byte of the configuration read, all-ones in ioemu",
                    (offset, q, i) -> i == 0xFF),
            allow("bios-rom",
                    "ioemu loads no firmware: 0xe0000-0xfffff and 0xfffc0000-0xffffffff read as zeros, where QEMU "
                            + "shows SeaBIOS",
                    "memory:bios-rom", "(read[bwlq]|read|b64read) 0x([ef][0-9a-f]{4}|fff[c-f][0-9a-f]{4})( .*)?",
                    "any byte read from the BIOS ranges, zero in ioemu",
                    (offset, q, i) -> i == 0),
            allow("fw-cfg-id",
                    "fw_cfg's DMA interface is not implemented: FW_CFG_ID (item 0x0001) reports 0x1, traditional "
                            + "interface only, where QEMU reports 0x3",
                    "fw_cfg:id", "in[bwl] 0x5(0[c-f]|1[01])",
                    "the byte of FW_CFG_ID bit 1 (DMA): 0x03 in QEMU, 0x01 in ioemu",
                    (offset, q, i) -> q == 0x03 && i == 0x01),
            allow("fw-cfg-file-dir",
                    "fw_cfg's file directory (items 0x0019/0x0020) lists only the files SeaBIOS needs for a "
                            + "disk boot (bootorder, etc/boot-fail-wait, etc/e820); QEMU also lists ROM, ACPI "
                            + "and SMBIOS files, so counts, keys and names differ",
                    "fw_cfg:file-dir", "in[bwl] 0x5(0[c-f]|1[01])",
                    "any byte of the directory or of the first file",
                    (offset, q, i) -> q != i),
            allow("fw-cfg-arch-tables",
                    "fw_cfg's x86 tables for firmware (ACPI, SMBIOS, HPET at 0x8000-0x8004) are not provided; "
                            + "only the IRQ0 override item is",
                    "fw_cfg:arch", "in[bwl] 0x5(0[c-f]|1[01])",
                    "any byte of the item, zero in ioemu (an absent item reads 0)",
                    (offset, q, i) -> i == 0),
            // ---- platform chips (PlatformChipsDifferentialTest): ioemu follows the datasheet here ----
            allow("port61-refresh",
                    "Port 61h bit 4 (refresh toggle) follows the clock in ioemu (one flip per 15.085 us, so a "
                            + "polling loop ends under virtual time); QEMU 7.2 flips it on every read",
                    "port61.*", "inb 0x61",
                    "bit 4 of the port 61h byte only",
                    (offset, q, i) -> (q ^ i) == 0x10),
            allow("pit-mode-6-7-status",
                    "8254 control words with M2-M0 = 6 or 7 select modes 2 and 3 (datasheet: X10, X11), as in "
                            + "ioemu; QEMU 7.2 keeps 6/7 and computes OUT as in mode 0: read-back status bit 7",
                    "pit:status-mode-6-7", "inb 0x4[0-2]",
                    "bit 7 (OUT) of the read-back status byte only",
                    (offset, q, i) -> (q ^ i) == 0x80),
            allow("pit-mode-6-7-port61",
                    "the same mode 6/7 difference seen through port 61h: bit 5 (OUT2), possibly with bit 4",
                    "port61:out2-mode-6-7", "inb 0x61",
                    "bit 5 (OUT2), with or without bit 4 (refresh), of the port 61h byte",
                    (offset, q, i) -> ((q ^ i) & ~0x30) == 0 && ((q ^ i) & 0x20) != 0));

    /** The allowance covering this difference, or null if it is a divergence. */
    public static Allowance explain(Step step, String qemuReply, String ioemuReply) {
        for (Allowance a : ALL) {
            if (a.covers(step, qemuReply, ioemuReply)) {
                return a;
            }
        }
        return null;
    }

    /**
     * The bytes a reply carries: a port or memory value little-endian in its access width, a
     * {@code read}'s hex data, a {@code b64read}'s decoded data; null for anything else (FAIL,
     * ERR, a bare OK, a malformed value).
     */
    static byte[] payload(String request, String reply) {
        if (!reply.startsWith("OK ")) {
            return null;
        }
        String verb = request.split(" ", 2)[0];
        String data = reply.substring(3).trim();
        try {
            if (verb.equals("b64read")) {
                return Base64.getDecoder().decode(data);
            }
            if (!data.startsWith("0x")) {
                return null;
            }
            if (verb.equals("read")) {
                return HexFormat.of().parseHex(data.substring(2));
            }
            int width = switch (verb) {
                case "inb", "readb" -> 1;
                case "inw", "readw" -> 2;
                case "inl", "readl" -> 4;
                case "readq" -> 8;
                default -> 0;
            };
            if (width == 0) {
                return null;
            }
            long value = Long.parseUnsignedLong(data.substring(2), 16);
            byte[] out = new byte[width];
            for (int k = 0; k < width; k++) {
                out[k] = (byte) (value >>> (8 * k));
            }
            return out;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
