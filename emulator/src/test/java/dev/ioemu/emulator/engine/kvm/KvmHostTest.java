package dev.ioemu.emulator.engine.kvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine choice of shared/spec/kvm.md §15 on made-up hosts: /dev/kvm, modules, CPU flags. */
class KvmHostTest {
    @TempDir
    Path dir;

    private KvmHost host(boolean devKvm, String flags, String... modules) throws Exception {
        Path dev = dir.resolve("kvm");
        if (devKvm) {
            Files.createFile(dev);
        }
        Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\nflags\t\t: fpu " + flags + " sse2\n");
        Path sys = Files.createDirectories(dir.resolve("module"));
        for (String m : modules) {
            Files.createDirectories(sys.resolve(m));
        }
        return KvmHost.probe(dev, cpuinfo, sys);
    }

    @Test
    void noDevKvmMeansTheSoftwareCpuByDefaultAndAnErrorNamingAccelSoft() throws Exception {
        KvmHost h = host(false, "hypervisor", "kvm_pvm");
        assertEquals(KvmHost.Kind.ABSENT, h.kind());
        assertEquals("tcg", h.defaultAccelerator());
        assertTrue(h.absentError().contains("use -accel soft"), h.absentError());
        assertTrue(h.absentError().contains("kvm_pvm module is loaded but did not create it"), h.absentError());
    }

    @Test
    void kvmPvmRunsOnlyWhenAskedAndWarnsAboutSpeed() throws Exception {
        KvmHost h = host(true, "hypervisor", "kvm", "kvm_pvm");
        assertEquals(KvmHost.Kind.SOFTWARE_PVM, h.kind());
        assertEquals("tcg", h.defaultAccelerator());
        assertTrue(h.slownessWarning().contains("1.5 M instructions/s"), h.slownessWarning());
        assertEquals(1, h.slownessWarning().lines().count());
    }

    @Test
    void vmxWithKvmIntelIsHardwareAssistedAndTheDefault() throws Exception {
        KvmHost h = host(true, "vmx ept", "kvm", "kvm_intel");
        assertEquals(KvmHost.Kind.HARDWARE, h.kind());
        assertEquals("kvm", h.defaultAccelerator());
        assertNull(h.slownessWarning());
    }

    @Test
    void svmFlagWithoutTheVendorModuleIsNotTakenForHardware() throws Exception {
        assertEquals(KvmHost.Kind.SOFTWARE_PVM, host(true, "svm", "kvm", "kvm_pvm").kind());
    }
}
