package dev.ioemu.emulator.engine.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import dev.ioemu.devices.bus.AddressSpace;

import java.util.ArrayList;
import java.util.List;

import static dev.ioemu.emulator.engine.kvm.KvmIoctls.*;

/**
 * One KVM virtual machine over the machine's address space (shared/spec/kvm.md §4): the system
 * fd, the VM fd, the TSS and identity-map pages, one memory slot per RAM or ROM window of the
 * {@link AddressSpace} (zero-copy: the slots are the mmap'd RamBlocks the devices' DMA and the
 * BIOS use; ROM windows are KVM_MEM_READONLY, so guest writes to them become MMIO exits), and
 * vCPU 0 with the host's supported CPUID. No in-kernel irqchip: the PIC, PIT and RTC are the
 * machine's Java chips, as on the software CPU (§8.2).
 */
public final class KvmVm implements AutoCloseable {
    private static final String DEV_KVM = "/dev/kvm";
    private static final int CPUID_ENTRY_SIZE = 40;
    private static final int CPUID_MAX_ENTRIES = 1024;
    /** KVM_GET_SUPPORTED_CPUID's "nent too small" (§4 step 8). */
    private static final int E2BIG = 7;
    private static final int[] REQUIRED_CAPS = {KVM_CAP_USER_MEMORY, KVM_CAP_SET_TSS_ADDR, KVM_CAP_EXT_CPUID,
            KVM_CAP_READONLY_MEM, KVM_CAP_IMMEDIATE_EXIT};
    private static final String[] REQUIRED_CAP_NAMES = {"KVM_CAP_USER_MEMORY", "KVM_CAP_SET_TSS_ADDR",
            "KVM_CAP_EXT_CPUID", "KVM_CAP_READONLY_MEM", "KVM_CAP_IMMEDIATE_EXIT"};

    private final int systemFd;
    private final int vmFd;
    private final List<AddressSpace.MemorySlot> slots = new ArrayList<>();

    private KvmVm(int systemFd, int vmFd) {
        this.systemFd = systemFd;
        this.vmFd = vmFd;
    }

    /** Opens /dev/kvm, checks the API and the capabilities we rely on, creates the VM and its slots. */
    public static KvmVm create(AddressSpace space) throws KvmException {
        int sys = KvmSyscalls.open(DEV_KVM, KvmSyscalls.O_RDWR | KvmSyscalls.O_CLOEXEC);
        if (sys < 0) {
            throw KvmException.of("open " + DEV_KVM, KvmSyscalls.errno());
        }
        int vm = -1;
        try {
            int api = KvmSyscalls.ioctl(sys, KVM_GET_API_VERSION, 0);
            if (api != KVM_API_VERSION) {
                throw new KvmException("KVM API version: " + api + " (expected: " + KVM_API_VERSION + ")");
            }
            for (int i = 0; i < REQUIRED_CAPS.length; i++) {
                if (KvmSyscalls.ioctl(sys, KVM_CHECK_EXTENSION, REQUIRED_CAPS[i]) <= 0) {
                    throw new KvmException(REQUIRED_CAP_NAMES[i] + ": not offered by this KVM (expected: present)");
                }
            }
            int sync = KvmSyscalls.ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
            int wanted = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
            if (sync < 0 || (sync & wanted) != wanted) {
                throw new KvmException("KVM_CAP_SYNC_REGS: " + sync + " (expected: regs and sregs, value with bits 0 and 1)");
            }
            vm = KvmSyscalls.ioctl(sys, KVM_CREATE_VM, 0);
            if (vm < 0) {
                throw KvmException.of("KVM_CREATE_VM", KvmSyscalls.errno());
            }
            KvmVm k = new KvmVm(sys, vm);
            k.setUp(space);
            return k;
        } catch (KvmException | RuntimeException e) {
            if (vm >= 0) {
                KvmSyscalls.close(vm);
            }
            KvmSyscalls.close(sys);
            throw e;
        }
    }

    private void setUp(AddressSpace space) throws KvmException {
        if (KvmSyscalls.ioctl(vmFd, KVM_SET_TSS_ADDR, TSS_ADDRESS) < 0) {
            throw KvmException.of("KVM_SET_TSS_ADDR", KvmSyscalls.errno());
        }
        if (KvmSyscalls.ioctl(systemFd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
            try (Memory address = new Memory(8)) {
                address.setLong(0, IDENTITY_MAP_ADDRESS);
                if (KvmSyscalls.ioctl(vmFd, KVM_SET_IDENTITY_MAP_ADDR, Pointer.nativeValue(address)) < 0) {
                    throw KvmException.of("KVM_SET_IDENTITY_MAP_ADDR", KvmSyscalls.errno());
                }
            }
        }
        try (Memory region = new Memory(32)) {
            for (AddressSpace.MemorySlot s : space.memorySlots()) {
                if (s.guestAddress() >= IDENTITY_MAP_ADDRESS && s.guestAddress() < TSS_ADDRESS + 3 * 4096) {
                    throw new KvmException(String.format("memory %s at 0x%x: overlaps KVM's TSS/identity-map pages 0x%x-0x%x",
                            s.name(), s.guestAddress(), IDENTITY_MAP_ADDRESS, TSS_ADDRESS + 3 * 4096 - 1));
                }
                int slot = slots.size();
                region.setInt(0, slot);
                region.setInt(4, s.readOnly() ? KVM_MEM_READONLY : 0);
                region.setLong(8, s.guestAddress());
                region.setLong(16, s.size());
                region.setLong(24, s.hostAddress());
                if (KvmSyscalls.ioctl(vmFd, KVM_SET_USER_MEMORY_REGION, Pointer.nativeValue(region)) < 0) {
                    throw KvmException.of(String.format("KVM_SET_USER_MEMORY_REGION slot %d (%s, 0x%x+0x%x)",
                            slot, s.name(), s.guestAddress(), s.size()), KvmSyscalls.errno());
                }
                slots.add(s);
            }
        }
    }

    /** The slots registered, in slot-id order. */
    public List<AddressSpace.MemorySlot> slots() {
        return List.copyOf(slots);
    }

    /**
     * Creates vCPU 0, maps its run area and gives it the host's supported CPUID (APIC ID 0), before
     * its first KVM_RUN as KVM requires. Call on the thread that will run it (§5.7). Closing the
     * vCPU closes this VM.
     */
    KvmVcpu createVcpu() throws KvmException {
        int fd = KvmSyscalls.ioctl(vmFd, KVM_CREATE_VCPU, 0);
        if (fd < 0) {
            throw KvmException.of("KVM_CREATE_VCPU", KvmSyscalls.errno());
        }
        try {
            setSupportedCpuid(fd);
            int size = KvmSyscalls.ioctl(systemFd, KVM_GET_VCPU_MMAP_SIZE, 0);
            if (size < KvmRunLayout.SIZE) {
                throw new KvmException("KVM_GET_VCPU_MMAP_SIZE: " + size + " (expected: at least " + KvmRunLayout.SIZE + ")");
            }
            long run = KvmSyscalls.mmap(0, size, KvmSyscalls.PROT_READ | KvmSyscalls.PROT_WRITE, KvmSyscalls.MAP_SHARED, fd, 0);
            if (run == KvmSyscalls.MAP_FAILED) {
                throw KvmException.of("mmap of the vCPU run area", KvmSyscalls.errno());
            }
            return new KvmVcpu(fd, run, size, this::close);
        } catch (KvmException | RuntimeException e) {
            KvmSyscalls.close(fd);
            throw e;
        }
    }

    private void setSupportedCpuid(int vcpuFd) throws KvmException {
        for (int entries = 100; ; entries *= 2) {
            try (Memory cpuid = new Memory(8 + (long) entries * CPUID_ENTRY_SIZE)) {
                cpuid.clear();
                cpuid.setInt(0, entries);
                if (KvmSyscalls.ioctl(systemFd, KVM_GET_SUPPORTED_CPUID, Pointer.nativeValue(cpuid)) < 0) {
                    int errno = KvmSyscalls.errno();
                    if (errno == E2BIG && entries < CPUID_MAX_ENTRIES) {
                        continue;
                    }
                    throw KvmException.of("KVM_GET_SUPPORTED_CPUID", errno);
                }
                int n = cpuid.getInt(0);
                for (int i = 0; i < n; i++) {
                    long e = 8 + (long) i * CPUID_ENTRY_SIZE;
                    if (cpuid.getInt(e) == 1) {
                        // Leaf 1 EBX[31:24] is the initial APIC ID: vCPU 0 (§9.6).
                        cpuid.setInt(e + 16, cpuid.getInt(e + 16) & 0x00FF_FFFF);
                    }
                }
                if (KvmSyscalls.ioctl(vcpuFd, KVM_SET_CPUID2, Pointer.nativeValue(cpuid)) < 0) {
                    throw KvmException.of("KVM_SET_CPUID2", KvmSyscalls.errno());
                }
                return;
            }
        }
    }

    @Override
    public void close() {
        KvmSyscalls.close(vmFd);
        KvmSyscalls.close(systemFd);
    }
}
