package dev.ioemu.devices.pci;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * PCI configuration mechanism #1 of the pc machine: the CONFIG_ADDRESS latch at 0xCF8 and the
 * CONFIG_DATA window at 0xCFC-0xCFF (shared/spec/ide.md §8.1, qtest.md §6). Map it with
 * {@code bus.map(0xCF8, 8, host)}.
 *
 * <p>QEMU quirk kept on purpose: bits 1:0 of the latched address are not cleared but ORed with
 * the data-port offset, so libqos can latch an unaligned offset and always access 0xCFC.
 * Only bus 0 exists; a missing function, another bus or a latch without the enable bit read all
 * ones and ignore writes.
 *
 * <p>Machine thread only.
 */
public final class PciHostBridge implements PortDevice {
    /** Port offsets within the 8-byte range. */
    private static final int CONFIG_ADDRESS = 0;
    private static final int CONFIG_DATA = 4;
    private static final int CONFIG_ENABLE = 0x8000_0000;
    private static final int FUNCTIONS = 256;

    private final PciFunction[] functions = new PciFunction[FUNCTIONS];
    private int configAddress;

    /** Places {@code function} at device/function number {@code devfn} (device << 3 | function) of bus 0. */
    public void attach(int devfn, PciFunction function) {
        if (devfn < 0 || devfn >= FUNCTIONS) {
            throw new IllegalArgumentException("PCI devfn: " + devfn + " (expected: 0-255)");
        }
        if (functions[devfn] != null) {
            throw new IllegalArgumentException(String.format("PCI devfn: %02x.%d (expected: a free slot)",
                    devfn >> 3, devfn & 7));
        }
        functions[devfn] = function;
    }

    /** Machine reset: resets every attached function and clears the address latch. */
    public void reset() {
        configAddress = 0;
        for (PciFunction f : functions) {
            if (f != null) {
                f.reset();
            }
        }
    }

    @Override
    public int read(int offset, int size) {
        if (offset < CONFIG_DATA) {
            // QEMU answers any read of the latch with the latched value, whatever the offset.
            return configAddress;
        }
        int register = registerOffset(offset);
        PciFunction f = target();
        if (f == null) {
            return 0xFFFF_FFFF;
        }
        int len = Math.min(size, PciConfigSpace.SIZE - register);
        int value = f.configRead(register, len);
        if (TraceEvent.PCI_CFG_READ.enabled) {
            Trace.emit(TraceEvent.PCI_CFG_READ, f.getClass().getSimpleName(), devfn() >> 3, devfn() & 7, register, value);
        }
        return value;
    }

    @Override
    public void write(int offset, int size, int value) {
        if (offset < CONFIG_DATA) {
            // Only a full dword write at 0xCF8 loads the latch (byte writes belong to other chipset registers).
            if (offset == CONFIG_ADDRESS && size == 4) {
                configAddress = value;
            }
            return;
        }
        int register = registerOffset(offset);
        PciFunction f = target();
        if (f == null) {
            return;
        }
        if (TraceEvent.PCI_CFG_WRITE.enabled) {
            Trace.emit(TraceEvent.PCI_CFG_WRITE, f.getClass().getSimpleName(), devfn() >> 3, devfn() & 7, register, value);
        }
        f.configWrite(register, Math.min(size, PciConfigSpace.SIZE - register), value);
    }

    private int registerOffset(int portOffset) {
        return (configAddress | (portOffset - CONFIG_DATA)) & 0xFF;
    }

    private int devfn() {
        return (configAddress >>> 8) & 0xFF;
    }

    private PciFunction target() {
        if ((configAddress & CONFIG_ENABLE) == 0 || ((configAddress >>> 16) & 0xFF) != 0) {
            return null;
        }
        return functions[devfn()];
    }

    @Override
    public String name() {
        return "pci-conf";
    }
}
