package dev.ioemu.tests.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * THE list of places where ioemu's HLE BIOS answers the INT 13h probe differently from SeaBIOS
 * on purpose, each with its reason. Every entry names the probe lines it covers, one field, the
 * exact character range of that field's printed value, and the exact values on each side (as
 * regular expressions over that range); a difference is allowed only if every differing character
 * is inside the range of an entry whose values match. Anything else is a divergence.
 *
 * <p>The E820 chain is compared as a block ({@link ProbeE820Chain}); its allowed differences are
 * {@link #E820}, each an exact rewrite of SeaBIOS's map into the map ioemu must report.
 */
final class ProbeAllowedDifferences {
    /** One allowed difference: field characters [from, to) of lines whose name matches {@code lines}. */
    record Allowance(String id, String reason, Pattern lines, String field, int from, int to, Pattern qemu, Pattern ioemu) {
        boolean covers(String name, String field, String qemuValue, String ioemuValue) {
            return lines.matcher(name).matches() && this.field.equals(field)
                    && qemuValue.length() >= to && ioemuValue.length() >= to
                    && qemu.matcher(qemuValue.substring(from, to)).matches()
                    && ioemu.matcher(ioemuValue.substring(from, to)).matches();
        }
    }

    private ProbeAllowedDifferences() {
    }

    /** Bytes [from, to) of a hex field such as buf. */
    private static Allowance bytes(String id, String reason, String lines, String field, int from, int to, String qemu, String ioemu) {
        return new Allowance(id, reason, Pattern.compile(lines), field, 2 * from, 2 * to, Pattern.compile(qemu), Pattern.compile(ioemu));
    }

    static final List<Allowance> ALL = List.of(
            bytes("edd-returned-size",
                    "AH=48h: SeaBIOS leaves the returned size at 1Eh although it filled the EDD-3 block; the HLE "
                            + "returns the size it filled, 42h or 4Ah (int13.md §3.11.4, §12 item 1)",
                    "13/48 size=(42|4A|50)", "buf", 0, 2, "1E00", "(42|4A)00"),
            bytes("edd-dma-boundary-flag",
                    "AH=48h information flags: the HLE sets bit 0 (DMA boundary errors handled transparently), "
                            + "SeaBIOS never does (int13.md §3.11.3 step 3, §3.11.4); CHS valid (bit 1) as SeaBIOS",
                    "13/48 size=.*", "buf", 2, 3, "02", "03"),
            bytes("edd-dma-boundary-flag-no-chs",
                    "the same flag on a disk larger than 16383 physical cylinders, where CHS is not valid (flags 0000h)",
                    "13/48 size=.*", "buf", 2, 3, "00", "01"),
            bytes("dpte-address",
                    "AH=48h: the DPTE lives in SeaBIOS's data segment; the HLE keeps its own in a BIOS-owned RAM "
                            + "area (int13.md §3.11.4), so the far pointer at 1Ah differs (its contents are compared "
                            + "in the dpte field)",
                    "13/48 size=(1E|1E again|42|4A|50)", "buf", 0x1A, 0x1E, "C0F480D9", "[0-9A-F]{8}"),
            bytes("edd3-t13-layout-length",
                    "AH=48h with an 80-byte buffer: SeaBIOS uses the T13 layout only for exactly 4Ah bytes and "
                            + "gives 36-byte Phoenix path information; the HLE uses T13 (44 bytes) for any size >= 4Ah "
                            + "(int13.md §3.11.4, §12 item 2)",
                    "13/48 size=50", "buf", 0x20, 0x21, "24", "2C"),
            bytes("edd3-t13-layout-tail",
                    "the same: Phoenix ends with reserved 40h (SeaBIOS leaves it unwritten) and the checksum at 41h; "
                            + "T13 carries 16 device-path bytes and puts the checksum at 49h",
                    "13/48 size=50", "buf", 0x40, 0x4A, "CC01(CC){8}", "[0-9A-F]{20}"),
            new Allowance("ah01-clears-status",
                    "AH=01h: the HLE clears 40:74 after reporting it (Bochs/RBIL, int13.md §3.2); SeaBIOS leaves it, "
                            + "so a second AH=01h still reports 01h",
                    Pattern.compile("13/01 status again"), "EAX", 4, 6, Pattern.compile("01"), Pattern.compile("00")),
            new Allowance("ah01-clears-status-flag",
                    "the CF of that second AH=01h follows its status (int13.md §3.2)",
                    Pattern.compile("13/01 status again"), "FL", 3, 4, Pattern.compile("1"), Pattern.compile("0")),
            new Allowance("ah01-clears-status-bda",
                    "40:74 after that second AH=01h (int13.md §3.2)",
                    Pattern.compile("13/01 status again"), "40:74", 0, 2, Pattern.compile("01"), Pattern.compile("00")),
            new Allowance("el-torito-on-hard-disk",
                    "AH=4B01h on a hard disk: SeaBIOS answers success with a zeroed status packet; the HLE fails "
                            + "with AH=01h so GRUB does not take the disk for a CD (int13.md §3.12, §12 item 22)",
                    Pattern.compile("13/4B01 El Torito status"), "EAX", 4, 6, Pattern.compile("00"), Pattern.compile("01")),
            new Allowance("el-torito-on-hard-disk-flag",
                    "CF of that failure", Pattern.compile("13/4B01 El Torito status"), "FL", 3, 4,
                    Pattern.compile("0"), Pattern.compile("1")),
            new Allowance("el-torito-on-hard-disk-bda",
                    "40:74 of that failure", Pattern.compile("13/4B01 El Torito status"), "40:74", 0, 2,
                    Pattern.compile("00"), Pattern.compile("01")),
            bytes("el-torito-packet-untouched",
                    "the failed AH=4B01h writes no status packet (the probe pre-filled it with CCh)",
                    "13/4B01 El Torito status", "buf", 0, 0x13, "13(00){18}", "(CC){19}"),
            new Allowance("edd30-bitmap-64bit-dap",
                    "AH=41h CX: the HLE sets bit 3 because it implements the EDD-3 64-bit flat DAP buffer; SeaBIOS "
                            + "answers 0007h (bios/BIOS.md, int13.md §3.8)",
                    Pattern.compile("13/41 BX=(55AA|0000)"), "ECX", 4, 8, Pattern.compile("0007"), Pattern.compile("000F")),
            new Allowance("flat-64bit-dap-buffer",
                    "AH=42h with an 18h-byte packet, FFFF:FFFF at +04h and the flat address 20000h at +10h: SeaBIOS "
                            + "ignores the 64-bit field and reads to FFFF:FFFF, leaving the flat buffer at its CCh fill "
                            + "(512 x CCh = 19800h); the HLE honours it (int13.md §3.9, bios/BIOS.md). That ioemu's sum "
                            + "is LBA 0's is checked against QEMU's '13/42 LBA 0 n=1' in Int13ProbeIoemuTest",
                    Pattern.compile("13/42 flat 64-bit buffer"), "sum", 0, 8, Pattern.compile("00019800"),
                    Pattern.compile("(?!00019800)[0-9A-F]{8}")),
            // issue 9: "a hostile packet (... 64-bit buffer above RAM) is answered with an error status
            // and writes nothing outside guest RAM"; SeaBIOS ignores the flat field and reads to FFFF:FFFF.
            new Allowance("flat-buffer-above-ram-status",
                    "AH=42h with the 64-bit flat buffer FFFFFFFF00000000h, far above RAM: the HLE refuses it with "
                            + "AH=01h (invalid parameter) and moves nothing (issue 9); SeaBIOS ignores the flat field "
                            + "and succeeds into FFFF:FFFF",
                    Pattern.compile("13/42 flat buffer above RAM"), "EAX", 4, 8, Pattern.compile("0000"),
                    Pattern.compile("0100")),
            new Allowance("flat-buffer-above-ram-cf",
                    "the same refusal's carry flag (FLAGS bit 0)",
                    Pattern.compile("13/42 flat buffer above RAM"), "FL", 3, 4, Pattern.compile("0"), Pattern.compile("1")),
            new Allowance("flat-buffer-above-ram-bda",
                    "the same refusal's last status at 40:74",
                    Pattern.compile("13/42 flat buffer above RAM"), "40:74", 0, 2, Pattern.compile("00"),
                    Pattern.compile("01")),
            new Allowance("flat-buffer-above-ram-count",
                    "the same refusal writes 0 blocks transferred back into the packet; SeaBIOS reports its 1",
                    Pattern.compile("13/42 flat buffer above RAM"), "dap", 4, 8, Pattern.compile("0100"),
                    Pattern.compile("0000")),
            bytes("edd3-phoenix-reserved-and-checksum",
                    "AH=48h with a 42h-byte buffer (Phoenix layout): the HLE writes the reserved byte at 40h as 0 "
                            + "(int13.md §3.11 table), SeaBIOS leaves it unwritten (CCh); the checksum at 41h covers it "
                            + "and the DPTE pointer (dpte-address), so it differs too. That ioemu's checksum is right "
                            + "is checked in Int13ProbeIoemuTest",
                    "13/48 size=42", "buf", 0x40, 0x42, "CC01", "00[0-9A-F]{2}"),
            bytes("edd3-t13-reserved-and-checksum",
                    "the same for the T13 layout of a 4Ah-byte buffer: reserved byte 48h and the checksum at 49h",
                    "13/48 size=4A", "buf", 0x48, 0x4A, "CCF9", "00[0-9A-F]{2}"),
            new Allowance("equipment-word-truthful",
                    "INT 11h: SeaBIOS on QEMU's CPU reports an x87 (bit 1) and a PS/2 mouse port (bit 2) and, with no "
                            + "VGA ROM under -nodefaults, no video mode; the HLE reports its 80x25 colour text console "
                            + "(bits 5-4 = 10b) and no x87, since the software CPU has none (bios/BIOS.md, int13.md §9.2)",
                    Pattern.compile("11 equipment"), "EAX", 4, 8, Pattern.compile("0006"), Pattern.compile("0020")),
            new Allowance("e801-seabios-high-memory",
                    "INT 15h E801h BX/DX (64 KiB blocks above 16 MiB): the 128 KiB SeaBIOS reserves at the top of RAM "
                            + "(e820-seabios-high-memory) are 2 blocks fewer than the HLE, whose RAM runs to the top",
                    Pattern.compile("15/E801"), "EBX", 4, 8, Pattern.compile("06FE"), Pattern.compile("0700")),
            new Allowance("e801-seabios-high-memory-dx",
                    "the same count in DX (configured memory above 16 MiB)",
                    Pattern.compile("15/E801"), "EDX", 4, 8, Pattern.compile("06FE"), Pattern.compile("0700")),
            new Allowance("int10-without-vga",
                    "-nodefaults gives SeaBIOS no VGA ROM, so its INT 10h is a stub that returns AX unchanged; the "
                            + "HLE BIOS has a text console and answers AH=0Fh with mode 03h, 80 columns (int13.md §8.1)",
                    Pattern.compile("10/0F video mode"), "EAX", 4, 8, Pattern.compile("0F00"), Pattern.compile("5003")));

    /** One allowed difference in the E820 map: an exact rewrite of SeaBIOS's entries towards ioemu's. */
    record E820Allowance(String id, String reason, UnaryOperator<List<ProbeE820Chain.Entry>> rewrite) {
    }

    /** SeaBIOS's own high-memory area at the top of RAM below 4 GiB (as QEMU 7.2 + SeaBIOS show it). */
    static final long SEABIOS_HIGH_TABLE_BYTES = 0x20000;
    /** QEMU 7.1+ pc: the AMD HyperTransport window it reserves in its fw_cfg E820 table. */
    static final ProbeE820Chain.Entry QEMU_HT_WINDOW = new ProbeE820Chain.Entry(0xFD_0000_0000L, 0x3_0000_0000L, 2);

    static final List<E820Allowance> E820 = List.of(
            new E820Allowance("e820-seabios-high-memory",
                    "SeaBIOS carves 128 KiB off the top of RAM below 4 GiB for its own tables and lists it reserved; "
                            + "the HLE keeps its tables in the EBDA and F segment, so its RAM entry from 1 MiB runs to the "
                            + "top (int13.md §9.1): SeaBIOS's RAM [1 MiB, X) + reserved [X, X+20000h) is read as RAM "
                            + "[1 MiB, X+20000h)",
                    ProbeAllowedDifferences::withoutSeaBiosHighTable),
            new E820Allowance("e820-qemu-ht-window",
                    "QEMU 7.2 reserves the AMD HyperTransport window FD_0000_0000-FF_FFFF_FFFF in the E820 table it "
                            + "hands SeaBIOS; ioemu's machine has no such window (nothing is mapped near 1 TiB), so the "
                            + "HLE does not list it. Only that exact entry may be missing",
                    map -> map.stream().filter(e -> !e.equals(QEMU_HT_WINDOW)).toList()));

    /** SeaBIOS's map with every {@link #E820} rewrite applied: the map ioemu must report. */
    static List<ProbeE820Chain.Entry> e820AsIoemuShouldReport(List<ProbeE820Chain.Entry> seabios) {
        List<ProbeE820Chain.Entry> map = seabios;
        for (E820Allowance a : E820) {
            map = a.rewrite().apply(map);
        }
        return map;
    }

    /** How many {@link #E820} rewrites change SeaBIOS's map (for the comparison's summary). */
    static int e820RewritesApplied(List<ProbeE820Chain.Entry> seabios) {
        int applied = 0;
        List<ProbeE820Chain.Entry> map = seabios;
        for (E820Allowance a : E820) {
            List<ProbeE820Chain.Entry> next = a.rewrite().apply(map);
            applied += next.equals(map) ? 0 : 1;
            map = next;
        }
        return applied;
    }

    private static List<ProbeE820Chain.Entry> withoutSeaBiosHighTable(List<ProbeE820Chain.Entry> map) {
        List<ProbeE820Chain.Entry> out = new ArrayList<>(map);
        for (int i = 0; i + 1 < out.size(); i++) {
            ProbeE820Chain.Entry ram = out.get(i);
            ProbeE820Chain.Entry table = out.get(i + 1);
            if (ram.type() == ProbeE820Chain.TYPE_RAM && ram.base() == 0x10_0000L && table.type() == 2
                    && table.base() == ram.end() && table.length() == SEABIOS_HIGH_TABLE_BYTES) {
                out.set(i, new ProbeE820Chain.Entry(ram.base(), table.end() - ram.base(), ProbeE820Chain.TYPE_RAM));
                out.remove(i + 1);
                break;
            }
        }
        return List.copyOf(out);
    }

    /** Whether an allowance covers all of this field's differences. */
    static boolean explained(String name, String field, String qemuValue, String ioemuValue) {
        if (qemuValue.length() != ioemuValue.length()) {
            return false;
        }
        for (int i = 0; i < qemuValue.length(); i++) {
            if (qemuValue.charAt(i) != ioemuValue.charAt(i) && !covered(name, field, qemuValue, ioemuValue, i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean covered(String name, String field, String qemuValue, String ioemuValue, int index) {
        for (Allowance a : ALL) {
            if (index >= a.from() && index < a.to() && a.covers(name, field, qemuValue, ioemuValue)) {
                return true;
            }
        }
        return false;
    }
}
