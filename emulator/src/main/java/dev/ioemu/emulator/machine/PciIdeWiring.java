package dev.ioemu.emulator.machine;

import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;

/**
 * Placeholder for the PCI host bridge + PIIX3 + PIIX IDE wiring and the drives, which need the
 * block layer and IDE models of the parallel workstreams. The real implementation, written
 * against api-contract.md, is kept out of the build in
 * {@code emulator/src/main/java-pending/dev/ioemu/emulator/machine/PciIdeWiring.java}; on merge
 * it replaces this file. Until then a machine has no PCI devices and refuses drives.
 */
public final class PciIdeWiring {
    /** True once the PIIX IDE model is part of the build. */
    public static final boolean AVAILABLE = false;

    private PciIdeWiring() {
    }

    /**
     * Plugs PCI, IDE and the configured drives into {@code machine}.
     *
     * @throws UsageException if drives or IDE devices were asked for (not available in this build)
     */
    public static void attach(PcMachine machine, VmConfig config) throws UsageException {
        if (!config.drives().isEmpty()) {
            throw new UsageException(config.drives().get(0).source()
                    + ": IDE controller not available in this build (PIIX IDE model not merged yet)");
        }
        if (!config.ideDevices().isEmpty()) {
            throw new UsageException(config.ideDevices().get(0).source()
                    + ": IDE controller not available in this build (PIIX IDE model not merged yet)");
        }
    }
}
