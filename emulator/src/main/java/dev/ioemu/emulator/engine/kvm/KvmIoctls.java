package dev.ioemu.emulator.engine.kvm;

/**
 * KVM's ioctl request numbers, capabilities and exit reasons for x86-64, as
 * shared/spec/kvm.md §2 lists them (printed from the uapi headers, not derived here).
 */
final class KvmIoctls {
    static final int KVM_API_VERSION = 12;

    // ---- system fd ----
    static final long KVM_GET_API_VERSION = 0xAE00L;
    static final long KVM_CREATE_VM = 0xAE01L;
    static final long KVM_CHECK_EXTENSION = 0xAE03L;
    static final long KVM_GET_VCPU_MMAP_SIZE = 0xAE04L;
    static final long KVM_GET_SUPPORTED_CPUID = 0xC008AE05L;

    // ---- vm fd ----
    static final long KVM_SET_USER_MEMORY_REGION = 0x4020AE46L;
    static final long KVM_SET_TSS_ADDR = 0xAE47L;
    static final long KVM_SET_IDENTITY_MAP_ADDR = 0x4008AE48L;
    static final long KVM_CREATE_VCPU = 0xAE41L;

    // ---- vcpu fd ----
    static final long KVM_RUN = 0xAE80L;
    static final long KVM_INTERRUPT = 0x4004AE86L;
    static final long KVM_SET_CPUID2 = 0x4008AE90L;

    // ---- capabilities (KVM_CHECK_EXTENSION) ----
    static final int KVM_CAP_USER_MEMORY = 3;
    static final int KVM_CAP_SET_TSS_ADDR = 4;
    static final int KVM_CAP_EXT_CPUID = 7;
    static final int KVM_CAP_SET_IDENTITY_MAP_ADDR = 37;
    static final int KVM_CAP_SYNC_REGS = 74;
    static final int KVM_CAP_READONLY_MEM = 81;
    static final int KVM_CAP_IMMEDIATE_EXIT = 136;

    // ---- exit reasons (kvm_run.exit_reason) ----
    static final int KVM_EXIT_UNKNOWN = 0;
    static final int KVM_EXIT_IO = 2;
    static final int KVM_EXIT_HLT = 5;
    static final int KVM_EXIT_MMIO = 6;
    static final int KVM_EXIT_IRQ_WINDOW_OPEN = 7;
    static final int KVM_EXIT_SHUTDOWN = 8;
    static final int KVM_EXIT_FAIL_ENTRY = 9;
    static final int KVM_EXIT_INTR = 10;
    static final int KVM_EXIT_INTERNAL_ERROR = 17;
    static final int KVM_EXIT_SYSTEM_EVENT = 24;

    static final int KVM_EXIT_IO_IN = 0;
    static final int KVM_EXIT_IO_OUT = 1;

    static final int KVM_INTERNAL_ERROR_EMULATION = 1;
    static final int KVM_INTERNAL_ERROR_SIMUL_EX = 2;
    static final int KVM_INTERNAL_ERROR_DELIVERY_EV = 3;

    static final int KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    static final int KVM_SYSTEM_EVENT_RESET = 2;

    static final int KVM_MEM_READONLY = 2;
    static final int KVM_SYNC_X86_REGS = 1;
    static final int KVM_SYNC_X86_SREGS = 2;

    /** Three pages for the real-mode TSS and one for the identity map, below the BIOS alias (§4). */
    static final long TSS_ADDRESS = 0xFFFBD000L;
    static final long IDENTITY_MAP_ADDRESS = 0xFFFBC000L;

    private KvmIoctls() {
    }

    /** The exit reason's name for messages. */
    static String exitName(int reason) {
        return switch (reason) {
            case KVM_EXIT_UNKNOWN -> "KVM_EXIT_UNKNOWN";
            case 1 -> "KVM_EXIT_EXCEPTION";
            case KVM_EXIT_IO -> "KVM_EXIT_IO";
            case 3 -> "KVM_EXIT_HYPERCALL";
            case 4 -> "KVM_EXIT_DEBUG";
            case KVM_EXIT_HLT -> "KVM_EXIT_HLT";
            case KVM_EXIT_MMIO -> "KVM_EXIT_MMIO";
            case KVM_EXIT_IRQ_WINDOW_OPEN -> "KVM_EXIT_IRQ_WINDOW_OPEN";
            case KVM_EXIT_SHUTDOWN -> "KVM_EXIT_SHUTDOWN";
            case KVM_EXIT_FAIL_ENTRY -> "KVM_EXIT_FAIL_ENTRY";
            case KVM_EXIT_INTR -> "KVM_EXIT_INTR";
            case 16 -> "KVM_EXIT_NMI";
            case KVM_EXIT_INTERNAL_ERROR -> "KVM_EXIT_INTERNAL_ERROR";
            case KVM_EXIT_SYSTEM_EVENT -> "KVM_EXIT_SYSTEM_EVENT";
            default -> "exit reason " + reason;
        };
    }

    static String internalErrorName(int suberror) {
        return switch (suberror) {
            case KVM_INTERNAL_ERROR_EMULATION -> "emulation failure";
            case KVM_INTERNAL_ERROR_SIMUL_EX -> "simultaneous exceptions";
            case KVM_INTERNAL_ERROR_DELIVERY_EV -> "event delivery failure";
            default -> "suberror " + suberror;
        };
    }
}
