package dev.ioemu.emulator.engine.kvm;

/**
 * Offsets in the mmap'd {@code struct kvm_run} (shared/spec/kvm.md §3.2, x86-64), including the
 * sync-regs copies of {@code kvm_regs} (§3.3) and {@code kvm_sregs} (§3.5). No logic: the engine
 * reads and writes these with absolute little-endian ByteBuffer accessors, nothing per exit is
 * allocated.
 */
final class KvmRunLayout {
    static final int REQUEST_INTERRUPT_WINDOW = 0;
    static final int IMMEDIATE_EXIT = 1;
    static final int EXIT_REASON = 8;
    static final int READY_FOR_INTERRUPT_INJECTION = 12;
    static final int IF_FLAG = 13;

    // exit union, absolute offsets (§3.2.1)
    static final int IO_DIRECTION = 32;
    static final int IO_SIZE = 33;
    static final int IO_PORT = 34;
    static final int IO_COUNT = 36;
    static final int IO_DATA_OFFSET = 40;
    static final int MMIO_PHYS_ADDR = 32;
    static final int MMIO_DATA = 40;
    static final int MMIO_LEN = 48;
    static final int MMIO_IS_WRITE = 52;
    static final int HW_EXIT_REASON = 32;
    static final int FAIL_ENTRY_REASON = 32;
    static final int INTERNAL_SUBERROR = 32;
    static final int INTERNAL_NDATA = 36;
    static final int INTERNAL_DATA = 40;
    static final int INTERNAL_DATA_MAX = 16;
    static final int SYSTEM_EVENT_TYPE = 32;

    static final int KVM_VALID_REGS = 288;
    static final int KVM_DIRTY_REGS = 296;
    static final int REGS = 304;
    static final int SREGS = 448;

    /** sizeof(struct kvm_run) on x86-64: the I/O data area lies beyond it (at 4096 in practice). */
    static final int SIZE = 2352;

    // kvm_regs, relative to REGS: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags (u64 each)
    static final int RAX = 0;
    static final int RBX = 8;
    static final int RCX = 16;
    static final int RDX = 24;
    static final int RSI = 32;
    static final int RDI = 40;
    static final int RSP = 48;
    static final int RBP = 56;
    static final int RIP = 128;
    static final int RFLAGS = 136;

    // kvm_sregs, relative to SREGS: segments of 24 bytes each
    static final int SEG_CS = 0;
    static final int SEG_DS = 24;
    static final int SEG_ES = 48;
    static final int SEG_FS = 72;
    static final int SEG_GS = 96;
    static final int SEG_SS = 120;
    static final int GDT = 192;
    static final int IDT = 208;
    static final int CR0 = 224;
    static final int EFER = 264;

    // kvm_segment, relative to the segment
    static final int SEG_BASE = 0;
    static final int SEG_LIMIT = 8;
    static final int SEG_SELECTOR = 12;
    static final int SEG_TYPE = 14;
    static final int SEG_PRESENT = 15;
    static final int SEG_DPL = 16;
    static final int SEG_DB = 17;
    static final int SEG_S = 18;
    static final int SEG_L = 19;
    static final int SEG_G = 20;
    static final int SEG_AVL = 21;
    static final int SEG_UNUSABLE = 22;

    /** Descriptor types the host writes in real mode (§3.4, §6.1). */
    static final int TYPE_DATA_RW_ACCESSED = 3;
    static final int TYPE_CODE_RX_ACCESSED = 0xB;

    static final long CR0_PE = 1;

    private KvmRunLayout() {
    }
}
