package dev.ioemu.bios;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The few 16-bit x86 encodings the ROM's guest code needs, one method per instruction form, named
 * after the mnemonic (Intel SDM vol. 2 opcode tables). Short jumps take labels that are resolved by
 * {@link #assemble()}; a jump out of rel8 range is a programming error.
 */
final class Asm16 {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<int[]> fixups = new ArrayList<>();   // {position of rel8, end of instruction}
    private final List<String> fixupLabels = new ArrayList<>();

    int position() {
        return out.size();
    }

    Asm16 label(String name) {
        if (labels.putIfAbsent(name, out.size()) != null) {
            throw new IllegalStateException("label defined twice: " + name);
        }
        return this;
    }

    private Asm16 emit(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    private Asm16 emitWord(int w) {
        return emit(w & 0xFF, (w >>> 8) & 0xFF);
    }

    Asm16 sti() { return emit(0xFB); }
    Asm16 cli() { return emit(0xFA); }
    Asm16 hlt() { return emit(0xF4); }
    Asm16 iret() { return emit(0xCF); }
    Asm16 pushAx() { return emit(0x50); }
    Asm16 popAx() { return emit(0x58); }
    Asm16 pushDs() { return emit(0x1E); }
    Asm16 popDs() { return emit(0x1F); }

    /** OUT imm8, AL (E6 ib). */
    Asm16 outImm8Al(int port) { return emit(0xE6, port); }

    /** IN AL, imm8 (E4 ib). */
    Asm16 inAlImm8(int port) { return emit(0xE4, port); }

    /** MOV AL, imm8 (B0 ib). */
    Asm16 movAlImm8(int value) { return emit(0xB0, value); }

    /** MOV AX, imm16 (B8 iw). */
    Asm16 movAxImm16(int value) { emit(0xB8); return emitWord(value); }

    /** MOV DS, AX (8E /3, ModRM D8). */
    Asm16 movDsAx() { return emit(0x8E, 0xD8); }

    /** INT imm8 (CD ib). */
    Asm16 intN(int vector) { return emit(0xCD, vector); }

    /** ADD WORD [disp16], imm8 sign-extended (83 /0, ModRM 06). */
    Asm16 addWordMemImm8(int address, int imm8) { emit(0x83, 0x06); emitWord(address); return emit(imm8); }

    /** ADC WORD [disp16], imm8 sign-extended (83 /2, ModRM 16). */
    Asm16 adcWordMemImm8(int address, int imm8) { emit(0x83, 0x16); emitWord(address); return emit(imm8); }

    /** CMP WORD [disp16], imm: the imm8 form (83 /7) when the value survives sign extension, else 81 /7 iw. */
    Asm16 cmpWordMemImm(int address, int imm) {
        if (imm >= -128 && imm <= 127) {
            emit(0x83, 0x3E);
            emitWord(address);
            return emit(imm & 0xFF);
        }
        emit(0x81, 0x3E);
        emitWord(address);
        return emitWord(imm);
    }

    /** MOV WORD [disp16], imm16 (C7 /0, ModRM 06). */
    Asm16 movWordMemImm16(int address, int imm) { emit(0xC7, 0x06); emitWord(address); return emitWord(imm); }

    /** INC BYTE [disp16] (FE /0, ModRM 06). */
    Asm16 incByteMem(int address) { emit(0xFE, 0x06); return emitWord(address); }

    /** JMP FAR ptr16:16 (EA iw iw). */
    Asm16 jmpFar(int segment, int offset) { emit(0xEA); emitWord(offset); return emitWord(segment); }

    Asm16 jmpShort(String label) { return jumpRel8(0xEB, label); }
    Asm16 jb(String label) { return jumpRel8(0x72, label); }
    Asm16 ja(String label) { return jumpRel8(0x77, label); }

    private Asm16 jumpRel8(int opcode, String label) {
        emit(opcode, 0);
        fixups.add(new int[] {out.size() - 1, out.size()});
        fixupLabels.add(label);
        return this;
    }

    byte[] assemble() {
        byte[] code = out.toByteArray();
        for (int i = 0; i < fixups.size(); i++) {
            Integer target = labels.get(fixupLabels.get(i));
            if (target == null) {
                throw new IllegalStateException("undefined label: " + fixupLabels.get(i));
            }
            int rel = target - fixups.get(i)[1];
            if (rel < -128 || rel > 127) {
                throw new IllegalStateException("short jump out of range to " + fixupLabels.get(i) + ": " + rel);
            }
            code[fixups.get(i)[0]] = (byte) rel;
        }
        return code;
    }
}
