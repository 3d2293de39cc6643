package dev.ioemu.cpu;

/**
 * Which processor generation the interpreter behaves as. The differences are the ones the
 * hardware-captured vectors show (shared/testdata/x86/README.md) and the 386 manual lists:
 * physical address width, FLAGS bits 12-15, PUSH SP, shift-count masking, the return address of
 * a divide error, the instruction length limit and the opcodes that exist.
 */
public enum CpuModel {
    /** Intel 8086: 20-bit addresses, FLAGS 12-15 read as 1, counts unmasked, POP CS, SALC. */
    I8086(0xF_FFFFL, 0xF002, 0x0FD5, 0xFF, Integer.MAX_VALUE),
    /** Intel 80286 in real mode: 24-bit addresses, counts masked to 5 bits, 10-byte limit. */
    I80286(0xFF_FFFFL, 0x0002, 0x0FD5, 0x1F, 10),
    /** A 386-class CPU (the PC default): 32-bit registers and addresses, CPUID, protected mode. */
    I386(0xFFFF_FFFFL, 0x0002, 0x00_3F_7FD5, 0x1F, 15);

    /** Physical address lines: every linear address is masked with this (and the A20 gate). */
    final long addressMask;
    /** FLAGS bits that always read as 1 (bit 1; on the 8086 also 12-15). */
    final int flagsFixedOnes;
    /** FLAGS bits POPF/IRET/SAHF may change in real mode. */
    final int flagsWritable;
    /** Mask applied to shift/rotate counts (the 8086 uses CL unmasked). */
    final int shiftCountMask;
    /** Longest legal instruction; a longer one (repeated prefixes) raises #GP. */
    final int maxInstructionLength;

    CpuModel(long addressMask, int flagsFixedOnes, int flagsWritable, int shiftCountMask, int maxInstructionLength) {
        this.addressMask = addressMask;
        this.flagsFixedOnes = flagsFixedOnes;
        this.flagsWritable = flagsWritable;
        this.shiftCountMask = shiftCountMask;
        this.maxInstructionLength = maxInstructionLength;
    }

    public boolean is8086() {
        return this == I8086;
    }

    /** 386 and later: 0x66/0x67 prefixes, FS/GS, 32-bit registers, CPUID. */
    public boolean is386() {
        return this == I386;
    }

    /** Parses the command-line spelling (8086, 80286/286, 386). */
    public static CpuModel parse(String s) {
        return switch (s) {
            case "8086", "8088" -> I8086;
            case "80286", "286" -> I80286;
            case "386", "80386", "pentium" -> I386;
            default -> throw new IllegalArgumentException("cpu model: " + s + " (expected: 8086, 80286 or 386)");
        };
    }
}
