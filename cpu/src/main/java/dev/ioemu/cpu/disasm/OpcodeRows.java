package dev.ioemu.cpu.disasm;

import java.util.Map;

/**
 * The disassembler's opcode map as data: one row per opcode, {@code "mnemonic operands"} with
 * operands in Intel order (destination first; the printer reverses them for AT&T) and kinds in
 * the Intel SDM's notation (Eb/Ev/Gv/Ib/Iv/Jb/Jv/Sw/Ap/Ob/Ov, Xb/Yb string operands, Zb/Zv the
 * register in the opcode's low bits, Ibs a sign-extended byte). A {@code *} after the mnemonic
 * appends the AT&T size suffix of the first sized operand; {@code {v}} becomes w or l with the
 * operand size. {@code GROUPn} rows pick one of eight rows by ModRM.reg.
 */
final class OpcodeRows {
    private OpcodeRows() {
    }

    private static final String[] ALU = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    private static final String[] CC = {"o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge",
            "le", "g"};

    static final String[] ONE_BYTE = new String[256];
    static final String[] TWO_BYTE = new String[256];

    private static final Map<String, String[]> GROUPS = Map.ofEntries(
            Map.entry("GROUP1b", rows(ALU, "* Eb,Ib")),
            Map.entry("GROUP1v", rows(ALU, "* Ev,Iv")),
            Map.entry("GROUP1s", rows(ALU, "* Ev,Ibs")),
            Map.entry("GROUP2b1", shifts("Eb,1")),
            Map.entry("GROUP2v1", shifts("Ev,1")),
            Map.entry("GROUP2bI", shifts("Eb,Ib")),
            Map.entry("GROUP2vI", shifts("Ev,Ib")),
            Map.entry("GROUP2bC", shifts("Eb,CL")),
            Map.entry("GROUP2vC", shifts("Ev,CL")),
            Map.entry("GROUP3b", new String[] {"test* Eb,Ib", "test* Eb,Ib", "not* Eb", "neg* Eb", "mul* Eb",
                    "imul* Eb", "div* Eb", "idiv* Eb"}),
            Map.entry("GROUP3v", new String[] {"test* Ev,Iv", "test* Ev,Iv", "not* Ev", "neg* Ev", "mul* Ev",
                    "imul* Ev", "div* Ev", "idiv* Ev"}),
            Map.entry("GROUP4", new String[] {"inc* Eb", "dec* Eb", null, null, null, null, null, null}),
            Map.entry("GROUP5", new String[] {"inc* Ev", "dec* Ev", "call{v} *Ev", "lcall{v} *M", "jmp{v} *Ev",
                    "ljmp{v} *M", "push* Ev", null}),
            Map.entry("GROUP8F", new String[] {"pop* Ev", null, null, null, null, null, null, null}),
            Map.entry("GROUPC6", new String[] {"mov* Eb,Ib", null, null, null, null, null, null, null}),
            Map.entry("GROUPC7", new String[] {"mov* Ev,Iv", null, null, null, null, null, null, null}),
            Map.entry("GROUP6", new String[] {"sldt Ew", "str Ew", "lldt Ew", "ltr Ew", "verr Ew", "verw Ew", null,
                    null}),
            Map.entry("GROUP7", new String[] {"sgdt{v} M", "sidt{v} M", "lgdt{v} M", "lidt{v} M", "smsw* Ew", null,
                    "lmsw* Ew", "invlpg M"}),
            Map.entry("GROUP8", new String[] {null, null, null, null, "bt* Ev,Ib", "bts* Ev,Ib", "btr* Ev,Ib",
                    "btc* Ev,Ib"}));

    static {
        for (int op = 0; op < 8; op++) {
            int base = op << 3;
            ONE_BYTE[base] = ALU[op] + "* Eb,Gb";
            ONE_BYTE[base + 1] = ALU[op] + "* Ev,Gv";
            ONE_BYTE[base + 2] = ALU[op] + "* Gb,Eb";
            ONE_BYTE[base + 3] = ALU[op] + "* Gv,Ev";
            ONE_BYTE[base + 4] = ALU[op] + "* AL,Ib";
            ONE_BYTE[base + 5] = ALU[op] + "* eAX,Iv";
        }
        ONE_BYTE[0x06] = "push{v} ES";
        ONE_BYTE[0x07] = "pop{v} ES";
        ONE_BYTE[0x0E] = "push{v} CS";
        ONE_BYTE[0x16] = "push{v} SS";
        ONE_BYTE[0x17] = "pop{v} SS";
        ONE_BYTE[0x1E] = "push{v} DS";
        ONE_BYTE[0x1F] = "pop{v} DS";
        ONE_BYTE[0x27] = "daa";
        ONE_BYTE[0x2F] = "das";
        ONE_BYTE[0x37] = "aaa";
        ONE_BYTE[0x3F] = "aas";
        for (int r = 0; r < 8; r++) {
            ONE_BYTE[0x40 + r] = "inc* Zv";
            ONE_BYTE[0x48 + r] = "dec* Zv";
            ONE_BYTE[0x50 + r] = "push* Zv";
            ONE_BYTE[0x58 + r] = "pop* Zv";
            ONE_BYTE[0x90 + r] = r == 0 ? "nop" : "xchg* eAX,Zv";
            ONE_BYTE[0xB0 + r] = "mov* Zb,Ib";
            ONE_BYTE[0xB8 + r] = "mov* Zv,Iv";
            TWO_BYTE[0xC8 + r] = "bswap* Zd";
        }
        ONE_BYTE[0x60] = "pusha{v}";
        ONE_BYTE[0x61] = "popa{v}";
        ONE_BYTE[0x62] = "bound* Gv,M";
        ONE_BYTE[0x63] = "arpl Ew,Gw";
        ONE_BYTE[0x68] = "push* Iv";
        ONE_BYTE[0x69] = "imul* Gv,Ev,Iv";
        ONE_BYTE[0x6A] = "push{v} Ibs";
        ONE_BYTE[0x6B] = "imul* Gv,Ev,Ibs";
        ONE_BYTE[0x6C] = "insb Yb,DX";
        ONE_BYTE[0x6D] = "ins{v} Yv,DX";
        ONE_BYTE[0x6E] = "outsb DX,Xb";
        ONE_BYTE[0x6F] = "outs{v} DX,Xv";
        for (int c = 0; c < 16; c++) {
            ONE_BYTE[0x70 + c] = "j" + CC[c] + " Jb";
            TWO_BYTE[0x80 + c] = "j" + CC[c] + " Jv";
            TWO_BYTE[0x90 + c] = "set" + CC[c] + " Eb";
            TWO_BYTE[0x40 + c] = "cmov" + CC[c] + "* Gv,Ev";
        }
        ONE_BYTE[0x80] = "GROUP1b";
        ONE_BYTE[0x81] = "GROUP1v";
        ONE_BYTE[0x82] = "GROUP1b";
        ONE_BYTE[0x83] = "GROUP1s";
        ONE_BYTE[0x84] = "test* Eb,Gb";
        ONE_BYTE[0x85] = "test* Ev,Gv";
        ONE_BYTE[0x86] = "xchg* Eb,Gb";
        ONE_BYTE[0x87] = "xchg* Ev,Gv";
        ONE_BYTE[0x88] = "mov* Eb,Gb";
        ONE_BYTE[0x89] = "mov* Ev,Gv";
        ONE_BYTE[0x8A] = "mov* Gb,Eb";
        ONE_BYTE[0x8B] = "mov* Gv,Ev";
        ONE_BYTE[0x8C] = "mov* Ev,Sw";
        ONE_BYTE[0x8D] = "lea* Gv,M";
        ONE_BYTE[0x8E] = "mov* Sw,Ev";
        ONE_BYTE[0x8F] = "GROUP8F";
        ONE_BYTE[0x98] = "{cbw}";
        ONE_BYTE[0x99] = "{cwd}";
        ONE_BYTE[0x9A] = "lcall{v} Ap";
        ONE_BYTE[0x9B] = "wait";
        ONE_BYTE[0x9C] = "pushf{v}";
        ONE_BYTE[0x9D] = "popf{v}";
        ONE_BYTE[0x9E] = "sahf";
        ONE_BYTE[0x9F] = "lahf";
        ONE_BYTE[0xA0] = "mov* AL,Ob";
        ONE_BYTE[0xA1] = "mov* eAX,Ov";
        ONE_BYTE[0xA2] = "mov* Ob,AL";
        ONE_BYTE[0xA3] = "mov* Ov,eAX";
        ONE_BYTE[0xA4] = "movsb Yb,Xb";
        ONE_BYTE[0xA5] = "movs{v} Yv,Xv";
        ONE_BYTE[0xA6] = "cmpsb Xb,Yb";
        ONE_BYTE[0xA7] = "cmps{v} Xv,Yv";
        ONE_BYTE[0xA8] = "test* AL,Ib";
        ONE_BYTE[0xA9] = "test* eAX,Iv";
        ONE_BYTE[0xAA] = "stosb Yb,AL";
        ONE_BYTE[0xAB] = "stos{v} Yv,eAX";
        ONE_BYTE[0xAC] = "lodsb AL,Xb";
        ONE_BYTE[0xAD] = "lods{v} eAX,Xv";
        ONE_BYTE[0xAE] = "scasb AL,Yb";
        ONE_BYTE[0xAF] = "scas{v} eAX,Yv";
        ONE_BYTE[0xC0] = "GROUP2bI";
        ONE_BYTE[0xC1] = "GROUP2vI";
        ONE_BYTE[0xC2] = "ret{v} Iw";
        ONE_BYTE[0xC3] = "ret{v}";
        ONE_BYTE[0xC4] = "les* Gv,Mp";
        ONE_BYTE[0xC5] = "lds* Gv,Mp";
        ONE_BYTE[0xC6] = "GROUPC6";
        ONE_BYTE[0xC7] = "GROUPC7";
        ONE_BYTE[0xC8] = "enter{v} Ib,Iw";
        ONE_BYTE[0xC9] = "leave{v}";
        ONE_BYTE[0xCA] = "lret{v} Iw";
        ONE_BYTE[0xCB] = "lret{v}";
        ONE_BYTE[0xCC] = "int3";
        ONE_BYTE[0xCD] = "int Ibb";
        ONE_BYTE[0xCE] = "into";
        ONE_BYTE[0xCF] = "iret{v}";
        ONE_BYTE[0xD0] = "GROUP2b1";
        ONE_BYTE[0xD1] = "GROUP2v1";
        ONE_BYTE[0xD2] = "GROUP2bC";
        ONE_BYTE[0xD3] = "GROUP2vC";
        ONE_BYTE[0xD4] = "aam Ib";
        ONE_BYTE[0xD5] = "aad Ib";
        ONE_BYTE[0xD6] = "salc";
        ONE_BYTE[0xD7] = "xlatb";
        ONE_BYTE[0xE0] = "loopne Jb";
        ONE_BYTE[0xE1] = "loope Jb";
        ONE_BYTE[0xE2] = "loop Jb";
        ONE_BYTE[0xE3] = "j{a}cxz Jb";
        ONE_BYTE[0xE4] = "in* AL,Ib";
        ONE_BYTE[0xE5] = "in* eAX,Ib";
        ONE_BYTE[0xE6] = "out* Ib,AL";
        ONE_BYTE[0xE7] = "out* Ib,eAX";
        ONE_BYTE[0xE8] = "call{v} Jv";
        ONE_BYTE[0xE9] = "jmp Jv";
        ONE_BYTE[0xEA] = "ljmp{v} Ap";
        ONE_BYTE[0xEB] = "jmp Jb";
        ONE_BYTE[0xEC] = "in* AL,DX";
        ONE_BYTE[0xED] = "in* eAX,DX";
        ONE_BYTE[0xEE] = "out* DX,AL";
        ONE_BYTE[0xEF] = "out* DX,eAX";
        ONE_BYTE[0xF4] = "hlt";
        ONE_BYTE[0xF5] = "cmc";
        ONE_BYTE[0xF6] = "GROUP3b";
        ONE_BYTE[0xF7] = "GROUP3v";
        ONE_BYTE[0xF8] = "clc";
        ONE_BYTE[0xF9] = "stc";
        ONE_BYTE[0xFA] = "cli";
        ONE_BYTE[0xFB] = "sti";
        ONE_BYTE[0xFC] = "cld";
        ONE_BYTE[0xFD] = "std";
        ONE_BYTE[0xFE] = "GROUP4";
        ONE_BYTE[0xFF] = "GROUP5";

        TWO_BYTE[0x00] = "GROUP6";
        TWO_BYTE[0x01] = "GROUP7";
        TWO_BYTE[0x02] = "lar* Gv,Ew";
        TWO_BYTE[0x03] = "lsl* Gv,Ew";
        TWO_BYTE[0x06] = "clts";
        TWO_BYTE[0x08] = "invd";
        TWO_BYTE[0x09] = "wbinvd";
        TWO_BYTE[0x0B] = "ud2";
        TWO_BYTE[0x20] = "mov* Rd,Cd";
        TWO_BYTE[0x21] = "mov* Rd,Dd";
        TWO_BYTE[0x22] = "mov* Cd,Rd";
        TWO_BYTE[0x23] = "mov* Dd,Rd";
        TWO_BYTE[0x30] = "wrmsr";
        TWO_BYTE[0x31] = "rdtsc";
        TWO_BYTE[0x32] = "rdmsr";
        TWO_BYTE[0xA0] = "push{v} FS";
        TWO_BYTE[0xA1] = "pop{v} FS";
        TWO_BYTE[0xA2] = "cpuid";
        TWO_BYTE[0xA3] = "bt* Ev,Gv";
        TWO_BYTE[0xA4] = "shld* Ev,Gv,Ib";
        TWO_BYTE[0xA5] = "shld* Ev,Gv,CL";
        TWO_BYTE[0xA8] = "push{v} GS";
        TWO_BYTE[0xA9] = "pop{v} GS";
        TWO_BYTE[0xAB] = "bts* Ev,Gv";
        TWO_BYTE[0xAC] = "shrd* Ev,Gv,Ib";
        TWO_BYTE[0xAD] = "shrd* Ev,Gv,CL";
        TWO_BYTE[0xAF] = "imul* Gv,Ev";
        TWO_BYTE[0xB0] = "cmpxchg* Eb,Gb";
        TWO_BYTE[0xB1] = "cmpxchg* Ev,Gv";
        TWO_BYTE[0xB2] = "lss* Gv,Mp";
        TWO_BYTE[0xB3] = "btr* Ev,Gv";
        TWO_BYTE[0xB4] = "lfs* Gv,Mp";
        TWO_BYTE[0xB5] = "lgs* Gv,Mp";
        TWO_BYTE[0xB6] = "movzb{v} Gv,Eb";
        TWO_BYTE[0xB7] = "movzwl Gv,Ew";
        TWO_BYTE[0xBA] = "GROUP8";
        TWO_BYTE[0xBB] = "btc* Ev,Gv";
        TWO_BYTE[0xBC] = "bsf* Gv,Ev";
        TWO_BYTE[0xBD] = "bsr* Gv,Ev";
        TWO_BYTE[0xBE] = "movsb{v} Gv,Eb";
        TWO_BYTE[0xBF] = "movswl Gv,Ew";
        TWO_BYTE[0xC0] = "xadd* Eb,Gb";
        TWO_BYTE[0xC1] = "xadd* Ev,Gv";
    }

    private static String[] rows(String[] names, String tail) {
        String[] out = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            out[i] = names[i] + tail;
        }
        return out;
    }

    private static String[] shifts(String operands) {
        return rows(new String[] {"rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"}, "* " + operands);
    }

    /** The row of a group opcode for ModRM.reg, or null where the group has a hole. */
    static String group(String groupRow, int reg) {
        String[] rows = GROUPS.get(groupRow);
        return rows == null ? null : rows[reg];
    }

    /** CMPS and SCAS read F3 as REPE. */
    static boolean usesRepe(String mnemonic) {
        return mnemonic.startsWith("cmps") || mnemonic.startsWith("scas");
    }

    /**
     * Whether QEMU ends a translation block after this instruction: control transfers, HLT, and
     * the state changes that alter how later code is translated (CR writes, SS loads, POPF,
     * STI), so {@code -d in_asm} groups instructions as QEMU's blocks do for straight code.
     */
    static boolean endsBlock(int opcode, String row) {
        if (row.startsWith("j") || row.startsWith("call") || row.startsWith("ret") || row.startsWith("lret")
                || row.startsWith("int") || row.startsWith("iret") || row.startsWith("loop")
                || row.startsWith("ljmp") || row.startsWith("lcall") || row.startsWith("hlt")) {
            return true;
        }
        return switch (opcode) {
            case 0x17, 0x9D, 0xFB, 0x122 -> true;
            default -> false;
        };
    }
}
