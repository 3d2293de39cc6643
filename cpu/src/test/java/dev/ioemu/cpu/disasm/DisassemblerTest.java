package dev.ioemu.cpu.disasm;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Instructions as QEMU 7.2's {@code -d in_asm} (capstone, AT&T) printed them for the boot sector
 * of CpuTraceFormatTest and for GRUB's core.img (the tests module diffs whole logs against QEMU;
 * these rows keep the disassembler's rules checkable without it).
 */
class DisassemblerTest {
    @ParameterizedTest(name = "{0} ({1}-bit): {2}")
    @CsvSource(delimiter = '|', value = {
            "fa|16|cli|",
            "31 c0|16|xorw|%ax, %ax",
            "8e d8|16|movw|%ax, %ds",
            "8e d8|32|movl|%eax, %ds",
            "be 43 7c|16|movw|$0x7c43, %si",
            "b9 03 00|16|movw|$3, %cx",
            "ac|16|lodsb|(%si), %al",
            "f3 a4|16|rep movsb|(%si), %es:(%di)",
            "e2 fb|16|loop|0x7bfd",
            "cd 10|16|int|$0x10",
            "66 a1 00 7c|16|movl|0x7c00, %eax",
            "0f 01 16 60 7c|16|lgdtw|0x7c60",
            "0f 20 c0|16|movl|%cr0, %eax",
            "0f 22 c0|16|movl|%eax, %cr0",
            "ea 2c 7c 08 00|16|ljmpw|$0x8:$0x7c2c",
            "8d 4c b3 08|32|leal|8(%ebx, %esi, 4), %ecx",
            "8d 1c 0f|32|leal|(%edi, %ecx), %ebx",
            "51|32|pushl|%ecx",
            "cc|32|int3|",
            "d1 f8|16|sarw|$1, %ax",
            "92|16|xchgw|%dx, %ax",
            "0f cf|32|bswapl|%edi",
            "83 46 00 02|16|addw|$2, (%bp)",
            "c7 46 fe 34 12|16|movw|$0x1234, -2(%bp)",
            "6b d2 03|32|imull|$3, %edx, %edx",
            "0f be 05 af 7c 00 00|32|movsbl|0x7caf, %eax",
            "66 0f b6 c8|16|movzbl|%al, %ecx",
            "c3|16|retw|",
    })
    void printsWhatCapstonePrints(String hex, int bits, String mnemonic, String operands) {
        String[] parts = hex.split(" ");
        int[] bytes = new int[parts.length + 16];
        for (int i = 0; i < parts.length; i++) {
            bytes[i] = Integer.parseInt(parts[i], 16);
        }
        int base = 0x7c00;
        Disassembler d = new Disassembler(a -> bytes[a - base]);
        Disassembler.Instruction insn = d.decode(base, bits == 32);
        assertEquals(parts.length, insn.length(), "length");
        assertEquals(mnemonic, insn.mnemonic());
        assertEquals(operands == null ? "" : operands, insn.operands());
    }
}
