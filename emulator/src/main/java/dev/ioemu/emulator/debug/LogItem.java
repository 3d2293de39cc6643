package dev.ioemu.emulator.debug;

/**
 * QEMU 7.2's {@code -d} log items, in QEMU's order with QEMU's help text ({@code -d help} prints
 * this table). {@link #implemented} says whether ioemu's software CPU produces output for the
 * item; the others are accepted so QEMU command lines run, and log nothing because ioemu has no
 * counterpart (no code generator for out_asm/op*, no FPU for fpu, no MMU for mmu/page).
 */
public enum LogItem {
    OUT_ASM("out_asm", "show generated host assembly code for each compiled TB", false),
    IN_ASM("in_asm", "show target assembly code for each compiled TB", true),
    OP("op", "show micro ops for each compiled TB", false),
    OP_OPT("op_opt", "show micro ops after optimization", false),
    OP_IND("op_ind", "show micro ops before indirect lowering", false),
    INT("int", "show interrupts/exceptions in short format", true),
    EXEC("exec", "show trace before each executed TB (lots of logs)", true),
    CPU("cpu", "show CPU registers before entering a TB (lots of logs)", true),
    FPU("fpu", "include FPU registers in the 'cpu' logging", false),
    MMU("mmu", "log MMU-related activities", false),
    PCALL("pcall", "x86 only: show protected mode far calls/returns/exceptions", false),
    CPU_RESET("cpu_reset", "show CPU state before CPU resets", true),
    UNIMP("unimp", "log unimplemented functionality", true),
    GUEST_ERRORS("guest_errors", "log when the guest OS does something invalid (eg accessing a\n"
            + "non-existent register)", true),
    PAGE("page", "dump pages at beginning of user mode emulation", false),
    NOCHAIN("nochain", "do not chain compiled TBs so that \"exec\" and \"cpu\" show\ncomplete traces", true),
    PLUGIN("plugin", "output from TCG plugins", false),
    STRACE("strace", "log every user-mode syscall, its input, and its result", false),
    TID("tid", "open a separate log file per thread; filename must contain '%d'", false);

    /** The name on the command line. */
    public final String qemuName;
    final String help;
    /** ioemu produces output (or, for nochain, the behaviour) for this item. */
    public final boolean implemented;

    LogItem(String qemuName, String help, boolean implemented) {
        this.qemuName = qemuName;
        this.help = help;
        this.implemented = implemented;
    }

    /** QEMU's {@code -d help} text (also printed, as QEMU does, when an item is unknown). */
    public static String usage() {
        StringBuilder sb = new StringBuilder("Log items (comma separated):\n");
        for (LogItem item : values()) {
            if (item == STRACE) {
                sb.append('\n');
            }
            sb.append(String.format("%-15s %s%n", item.qemuName, item.help));
        }
        sb.append(String.format("%-15s %s%n", "trace:PATTERN", "enable trace events"));
        sb.append("\nUse \"-d trace:help\" to get a list of trace events.\n\n");
        return sb.toString();
    }
}
