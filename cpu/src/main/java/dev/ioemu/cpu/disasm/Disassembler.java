package dev.ioemu.cpu.disasm;

import java.util.function.IntUnaryOperator;

/**
 * A compact x86 disassembler (16/32-bit, integer instructions: the forms the software CPU
 * implements) printing AT&T syntax the way QEMU 7.2's {@code -d in_asm} does through capstone:
 * size suffixes on the mnemonic ({@code xorw %ax, %ax}), {@code $} immediates in hex above 9,
 * {@code disp(%base, %index, scale)} memory operands, {@code %es:(%di)} string destinations.
 * Opcode rows are data ({@link OpcodeRows}); this class only walks prefixes, ModRM/SIB and
 * operands. Bytes it cannot decode come out as {@code (bad)}, one byte long.
 */
public final class Disassembler {
    /** Where the instruction bytes come from: linear address to byte (0-255). */
    private final IntUnaryOperator memory;

    public Disassembler(IntUnaryOperator memory) {
        this.memory = memory;
    }

    /**
     * One decoded instruction: its bytes, mnemonic and operand text. Bytes that decode to
     * nothing this disassembler knows have the mnemonic {@code (bad)}; QEMU's listing shows
     * them one {@code .byte} line per byte.
     */
    public record Instruction(int address, byte[] bytes, String mnemonic, String operands, boolean endsBlock) {
        public int length() {
            return bytes.length;
        }

        /** A string instruction with a REP/REPE/REPNE prefix. */
        public boolean repeatedString() {
            return mnemonic.startsWith("rep");
        }
    }

    private static final java.util.regex.Pattern MODRM_OPERAND =
            java.util.regex.Pattern.compile("\\*?(E.|G.|M|Mp|Sw|Cd|Dd|Rd)");
    private static final String[] REG8 = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
    private static final String[] REG16 = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
    private static final String[] REG32 = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    private static final String[] SEG = {"es", "cs", "ss", "ds", "fs", "gs", "?", "?"};
    private static final String[][] MODRM16 = {{"bx", "si"}, {"bx", "di"}, {"bp", "si"}, {"bp", "di"},
            {"si"}, {"di"}, {"bp"}, {"bx"}};

    // ---- per-instruction decode state ----
    private int address;
    private int pos;
    private boolean o32, a32;
    private String segPrefix;
    private String repPrefix;
    private int modrm = -1;

    /**
     * Decodes the instruction at linear {@code address}.
     *
     * @param big the code segment's D bit (32-bit code)
     */
    public Instruction decode(int address, boolean big) {
        return decode(address, big, true);
    }

    /**
     * Decodes the instruction at linear {@code address}; {@code protectedMode} only decides
     * whether a segment-register load ends QEMU's block ({@link Instruction#endsBlock}).
     */
    public Instruction decode(int address, boolean big, boolean protectedMode) {
        this.address = address;
        pos = 0;
        o32 = big;
        a32 = big;
        segPrefix = null;
        repPrefix = null;
        modrm = -1;
        String[] text;
        boolean endsBlock;
        try {
            int b;
            while (true) {
                b = next();
                switch (b) {
                    case 0x66 -> o32 = !big;
                    case 0x67 -> a32 = !big;
                    case 0x26, 0x2E, 0x36, 0x3E -> segPrefix = SEG[(b >> 3) & 3];
                    case 0x64 -> segPrefix = "fs";
                    case 0x65 -> segPrefix = "gs";
                    case 0xF2 -> repPrefix = "repne";
                    case 0xF3 -> repPrefix = "rep";
                    case 0xF0 -> repPrefix = "lock";
                    default -> { }
                }
                if (!isPrefix(b) || pos >= 15) {
                    break;
                }
            }
            String row;
            if (b == 0x0F) {
                b = next();
                row = OpcodeRows.TWO_BYTE[b];
                b |= 0x100;
            } else {
                row = OpcodeRows.ONE_BYTE[b];
            }
            if (row != null && row.startsWith("GROUP")) {
                int reg = (peekModrm() >> 3) & 7;
                row = OpcodeRows.group(row, reg);
            }
            if (row == null) {
                text = new String[] {"(bad)", ""};
                pos = Math.max(1, pos);
                endsBlock = true;
            } else {
                text = render(b, row);
                endsBlock = OpcodeRows.endsBlock(b, row) || endsBlockBySegmentLoad(b, big, protectedMode);
            }
        } catch (IndexOutOfBoundsException e) {
            text = new String[] {"(bad)", ""};
            endsBlock = true;
        }
        byte[] bytes = new byte[pos];
        for (int i = 0; i < pos; i++) {
            bytes[i] = (byte) memory.applyAsInt(address + i);
        }
        String mnemonic = text[0];
        if (repPrefix != null && !mnemonic.equals("(bad)")) {
            String rep = repPrefix;
            if (rep.equals("rep") && OpcodeRows.usesRepe(mnemonic)) {
                rep = "repe";
            }
            mnemonic = rep + " " + mnemonic;
        }
        return new Instruction(address, bytes, mnemonic, text[1], endsBlock);
    }

    /**
     * QEMU stops translating after loading SS, and in protected mode after loading ES, CS or DS
     * from 32-bit code (the flat-segment shortcut in its block flags may change).
     */
    private boolean endsBlockBySegmentLoad(int opcode, boolean big, boolean protectedMode) {
        int seg = switch (opcode) {
            case 0x8E -> (modrm >> 3) & 7;
            case 0x07 -> 0;
            case 0x17, 0x1B2 -> 2;
            case 0x1F, 0xC5 -> 3;
            case 0xC4 -> 0;
            default -> -1;
        };
        return seg == 2 || (seg >= 0 && seg < 4 && protectedMode && big);
    }

    private static boolean isPrefix(int b) {
        return switch (b) {
            case 0x66, 0x67, 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0xF2, 0xF3, 0xF0 -> true;
            default -> false;
        };
    }

    private int next() {
        if (pos >= 15) {
            throw new IndexOutOfBoundsException("instruction longer than 15 bytes");
        }
        return memory.applyAsInt(address + pos++) & 0xFF;
    }

    private int peekModrm() {
        if (modrm < 0) {
            modrm = next();
        }
        return modrm;
    }

    private int imm(int size) {
        int v = 0;
        for (int i = 0; i < size; i++) {
            v |= next() << (8 * i);
        }
        return v;
    }

    /** Row syntax: "mnemonic[/suffix-rule] op1,op2" — see {@link OpcodeRows}. */
    private String[] render(int opcode, String row) {
        int space = row.indexOf(' ');
        String name = space < 0 ? row : row.substring(0, space);
        String[] ops = space < 0 ? new String[0] : row.substring(space + 1).split(",");
        boolean suffix = name.endsWith("*");
        if (suffix) {
            name = name.substring(0, name.length() - 1);
        }
        // The ModRM byte comes before any immediate, so decode operands in encoding order.
        String[] rendered = new String[ops.length];
        char size = 0;
        for (int i = 0; i < ops.length; i++) {
            if (MODRM_OPERAND.matcher(ops[i]).matches()) {
                peekModrm();
            }
        }
        for (int i = 0; i < ops.length; i++) {
            rendered[i] = operand(ops[i]);
            char s = sizeOf(ops[i]);
            if (size == 0 && s != 0) {
                size = s;
            }
        }
        name = name.replace("j{a}cxz", a32 ? "jecxz" : "jcxz").replace("{v}", o32 ? "l" : "w").replace("{a}", a32 ? "l" : "w")
                .replace("{cbw}", o32 ? "cwtl" : "cbtw").replace("{cwd}", o32 ? "cltd" : "cwtd");
        if (suffix && size != 0) {
            name = name + size;
        }
        // AT&T order: source first.
        StringBuilder sb = new StringBuilder();
        for (int i = rendered.length - 1; i >= 0; i--) {
            if (rendered[i].isEmpty()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(rendered[i]);
        }
        return new String[] {name, sb.toString()};
    }

    private char sizeOf(String op) {
        return switch (op) {
            case "Eb", "Gb", "AL", "Zb", "Ob" -> 'b';
            case "Ev", "Gv", "eAX", "Zv", "Ov", "Iv" -> o32 ? 'l' : 'w';
            case "Ew", "Gw" -> 'w';
            case "Ed", "Gd", "Cd", "Dd", "Rd", "Zd" -> 'l';
            default -> 0;
        };
    }

    private String operand(String op) {
        if (op.startsWith("*")) {
            return "*" + operand(op.substring(1));
        }
        int m = modrm;
        return switch (op) {
            case "Eb" -> rm(REG8);
            case "Ev" -> rm(o32 ? REG32 : REG16);
            case "Ew" -> rm(REG16);
            case "Ed", "Rd" -> rm(REG32);
            case "M", "Mp" -> rm(o32 ? REG32 : REG16);
            case "Gb" -> "%" + REG8[(m >> 3) & 7];
            case "Gv" -> "%" + (o32 ? REG32 : REG16)[(m >> 3) & 7];
            case "Gw" -> "%" + REG16[(m >> 3) & 7];
            case "Gd" -> "%" + REG32[(m >> 3) & 7];
            case "Sw" -> "%" + SEG[(m >> 3) & 7];
            case "Cd" -> "%cr" + ((m >> 3) & 7);
            case "Dd" -> "%db" + ((m >> 3) & 7);
            case "Ib" -> immediate(imm(1));
            case "Ibs" -> immediate(o32 ? (byte) imm(1) : ((byte) imm(1)) & 0xFFFF);
            case "Ibb" -> immediate((byte) imm(1) & 0xFF);
            case "Iw" -> immediate(imm(2));
            case "Iv" -> immediate(o32 ? imm(4) : imm(2));
            case "Jb" -> target((byte) imm(1));
            case "Jv" -> target(o32 ? imm(4) : (short) imm(2));
            case "Ap" -> {
                int off = o32 ? imm(4) : imm(2);
                int sel = imm(2);
                // capstone prints both halves of a far pointer in hex, even below 10.
                yield "$0x" + Integer.toHexString(sel) + ":$0x" + Long.toHexString(off & 0xFFFF_FFFFL);
            }
            case "Ob", "Ov" -> (segPrefix != null ? "%" + segPrefix + ":" : "") + hex(a32 ? imm(4) : imm(2));
            case "AL" -> "%al";
            case "eAX" -> o32 ? "%eax" : "%ax";
            case "CL" -> "%cl";
            case "DX" -> "%dx";
            case "1" -> "$1";
            case "Zb" -> "%" + REG8[opcodeLow()];
            case "Zv" -> "%" + (o32 ? REG32 : REG16)[opcodeLow()];
            case "Zd" -> "%" + REG32[opcodeLow()];
            case "ES", "CS", "SS", "DS", "FS", "GS" -> "%" + op.toLowerCase();
            case "Xb", "Xv" -> (segPrefix != null ? "%" + segPrefix : "") + (segPrefix != null ? ":" : "")
                    + "(%" + (a32 ? "esi" : "si") + ")";
            case "Yb", "Yv" -> "%es:(%" + (a32 ? "edi" : "di") + ")";
            default -> throw new IllegalStateException("operand kind " + op);
        };
    }

    private int opcodeLow() {
        // The register is in the low three bits of the opcode byte just before any immediate;
        // rows using Z* have no ModRM, so it is the last prefix-free byte read so far.
        int index = pos - 1;
        return memory.applyAsInt(address + index) & 7;
    }

    private String target(int rel) {
        int next = address + pos + rel;
        return hex(o32 ? next : next & 0xFFFF);
    }

    private static String immediate(int v) {
        return "$" + hex(v);
    }

    /** capstone prints values up to 9 in decimal, above in hex, negatives with a minus sign. */
    static String hex(int v) {
        long u = v & 0xFFFF_FFFFL;
        return u <= 9 ? Long.toString(u) : "0x" + Long.toHexString(u);
    }

    private static String signed(int v) {
        if (v < 0) {
            return v >= -9 ? Integer.toString(v) : "-0x" + Integer.toHexString(-v);
        }
        return hex(v);
    }

    /** capstone leaves out a scale of 1. */
    private static String scaleText(int scale) {
        return scale == 1 ? "" : ", " + scale;
    }

    private String rm(String[] regs) {
        int m = peekModrm();
        int mod = m >> 6;
        int rm = m & 7;
        if (mod == 3) {
            return "%" + regs[rm];
        }
        String seg = segPrefix != null ? "%" + segPrefix + ":" : "";
        if (!a32) {
            if (mod == 0 && rm == 6) {
                return seg + hex(imm(2));
            }
            int disp = mod == 1 ? (byte) imm(1) : mod == 2 ? (short) imm(2) : 0;
            String[] base = MODRM16[rm];
            String inner = base.length == 2 ? "(%" + base[0] + ", %" + base[1] + ")" : "(%" + base[0] + ")";
            return seg + (disp == 0 ? "" : signed(disp)) + inner;
        }
        String base = null;
        String index = null;
        int scale = 1;
        if (rm == 4) {
            int sib = next();
            int b = sib & 7;
            int i = (sib >> 3) & 7;
            scale = 1 << (sib >> 6);
            if (i != 4) {
                index = REG32[i];
            }
            if (b == 5 && mod == 0) {
                int disp = imm(4);
                return seg + hex(disp) + (index == null ? "" : "(, %" + index + scaleText(scale) + ")");
            }
            base = REG32[b];
        } else if (rm == 5 && mod == 0) {
            return seg + hex(imm(4));
        } else {
            base = REG32[rm];
        }
        int disp = mod == 1 ? (byte) imm(1) : mod == 2 ? imm(4) : 0;
        String inner = index == null ? "(%" + base + ")" : "(%" + base + ", %" + index + scaleText(scale) + ")";
        // capstone leaves out a zero displacement even where the encoding has one.
        return seg + (disp == 0 ? "" : signed(disp)) + inner;
    }
}
