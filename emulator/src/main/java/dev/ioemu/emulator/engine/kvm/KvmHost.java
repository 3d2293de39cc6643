package dev.ioemu.emulator.engine.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * What kind of /dev/kvm this host offers (shared/spec/kvm.md §0, §15.1(d)): none, KVM on
 * hardware virtualisation (the CPU flags show {@code vmx} or {@code svm}), or {@code kvm_pvm}
 * (software virtualisation: guest code at CPL 0 — every BIOS and boot loader — is interpreted by
 * KVM's instruction emulator at about 1.5 M instructions/s). The default engine follows it: KVM
 * only where it is hardware-assisted.
 */
public record KvmHost(Kind kind, String detail) {
    public static final Path DEV_KVM = Path.of("/dev/kvm");

    public enum Kind {
        /** No usable /dev/kvm. */
        ABSENT,
        /** /dev/kvm served by kvm_pvm (no vmx/svm): runs, but slowly. */
        SOFTWARE_PVM,
        /** /dev/kvm on VT-x or AMD-V. */
        HARDWARE
    }

    private static final Pattern VIRT_FLAG = Pattern.compile("^flags\\s*:.*\\b(vmx|svm)\\b", Pattern.MULTILINE);

    /** Looks at /dev/kvm, the loaded modules and the CPU flags of this host. */
    public static KvmHost probe() {
        return probe(DEV_KVM, Path.of("/proc/cpuinfo"), Path.of("/sys/module"));
    }

    static KvmHost probe(Path devKvm, Path cpuinfo, Path modules) {
        if (!Files.exists(devKvm)) {
            String why = Files.isDirectory(modules.resolve("kvm_pvm"))
                    ? "no " + devKvm + " (the kvm_pvm module is loaded but did not create it)"
                    : "no " + devKvm;
            return new KvmHost(Kind.ABSENT, why);
        }
        if (!Files.isReadable(devKvm) || !Files.isWritable(devKvm)) {
            return new KvmHost(Kind.ABSENT, devKvm + ": permission denied");
        }
        boolean pvm = Files.isDirectory(modules.resolve("kvm_pvm"));
        boolean vendorModule = Files.isDirectory(modules.resolve("kvm_intel")) || Files.isDirectory(modules.resolve("kvm_amd"));
        boolean virtFlag;
        try {
            virtFlag = VIRT_FLAG.matcher(Files.readString(cpuinfo)).find();
        } catch (IOException e) {
            virtFlag = false;
        }
        if (virtFlag && vendorModule) {
            return new KvmHost(Kind.HARDWARE, "hardware-assisted (" + (Files.isDirectory(modules.resolve("kvm_intel"))
                    ? "kvm_intel" : "kvm_amd") + ")");
        }
        return new KvmHost(Kind.SOFTWARE_PVM, pvm ? "kvm_pvm (software virtualisation, no VT-x/AMD-V)"
                : "no VT-x/AMD-V in the CPU flags (software virtualisation)");
    }

    public boolean present() {
        return kind != Kind.ABSENT;
    }

    public boolean hardwareAssisted() {
        return kind == Kind.HARDWARE;
    }

    /**
     * The default accelerator (no {@code -accel}): {@code kvm} where KVM is hardware-assisted,
     * the software CPU ({@code tcg}) where /dev/kvm is absent or is kvm_pvm.
     */
    public String defaultAccelerator() {
        return hardwareAssisted() ? "kvm" : "tcg";
    }

    /** The one-line warning {@code -accel kvm} prints on kvm_pvm, or null. */
    public String slownessWarning() {
        return kind == Kind.SOFTWARE_PVM
                ? "ioemu: -accel kvm: warning: /dev/kvm is " + detail + "; guest code at CPL 0 runs in KVM's "
                        + "instruction emulator at about 1.5 M instructions/s (BIOS and boot loaders only; -accel soft is faster)"
                : null;
    }

    /** The one-line error for {@code -accel kvm} without /dev/kvm (the caller prefixes "ioemu: "). */
    public String absentError() {
        return "-accel kvm: " + detail + " (expected: a host with KVM; use -accel soft for the software CPU)";
    }
}
