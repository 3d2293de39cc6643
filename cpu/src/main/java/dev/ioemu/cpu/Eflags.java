package dev.ioemu.cpu;

/** EFLAGS bits (Intel SDM vol. 1 §3.4.3), named as the manual names them. */
public final class Eflags {
    public static final int CF = 1 << 0;
    public static final int FIXED_1 = 1 << 1;
    public static final int PF = 1 << 2;
    public static final int AF = 1 << 4;
    public static final int ZF = 1 << 6;
    public static final int SF = 1 << 7;
    public static final int TF = 1 << 8;
    public static final int IF = 1 << 9;
    public static final int DF = 1 << 10;
    public static final int OF = 1 << 11;
    public static final int IOPL = 3 << 12;
    public static final int NT = 1 << 14;
    public static final int RF = 1 << 16;
    public static final int VM = 1 << 17;
    public static final int AC = 1 << 18;
    public static final int ID = 1 << 21;
    /** The six arithmetic status flags. */
    public static final int OSZAPC = OF | SF | ZF | AF | PF | CF;
    /** The flags SAHF/LAHF move. */
    public static final int SZAPC = SF | ZF | AF | PF | CF;

    private Eflags() {
    }
}
