package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.GpioPins;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.isa.DmaPageRegisters;
import dev.ioemu.devices.isa.FwCfg;
import dev.ioemu.devices.isa.I8257Dma;
import dev.ioemu.devices.isa.PostCodePort;
import dev.ioemu.devices.time.VirtualClock;

import java.util.ArrayList;
import java.util.List;

/**
 * The pc machine's platform: the guest-physical address space ({@link PcMemoryMap}: RAM, BIOS
 * ROM, unassigned space — the one map qtest, DMA engines and CPU engines share), the I/O port space, the ISA pieces a qtest client touches
 * before any disk (the two DMA controllers and their page registers, because libqtest reads port
 * 0x00 to flush IRQ lines; fw_cfg, because libqos sizes RAM with it), the IOAPIC's 24 input pins
 * (IDE on 14 and 15), the virtual clock and the run state. PCI and IDE plug in as a
 * {@link MachineComponent} ({@link PciIdeWiring}).
 *
 * <p>QOM paths follow QEMU 7.2's pc machine: {@code /machine/i440fx} and
 * {@code /machine/i440fx/ioapic}, so {@code irq_intercept_in ioapic} resolves as it does there.
 */
public final class PcMachine implements Machine {
    public static final int IOAPIC_PINS = 24;
    public static final int FW_CFG_PORT = 0x510;
    /** fw_cfg's DMA address registers (QEMU's FW_CFG_DMA_IO_BASE). */
    public static final int FW_CFG_DMA_PORT = 0x514;

    private final PcMemoryMap memoryMap;
    private final IoPortBus bus = new IoPortBus();
    private final VirtualClock clock = new VirtualClock();
    private final GpioPins ioapic = new GpioPins(IOAPIC_PINS);
    private final List<QomDevice> qom;
    private final I8257Dma dma1 = new I8257Dma("dma1", 0);
    private final I8257Dma dma2 = new I8257Dma("dma2", 1);
    private final FwCfg fwCfg;
    private final List<MachineComponent> components = new ArrayList<>();
    private final RunStateControl runState;
    private final PcPlatformWiring platform;
    private boolean shutDown;

    /**
     * @param ramSize     bytes of RAM (a multiple of 4 KiB)
     * @param startPaused {@code -S}
     */
    public PcMachine(long ramSize, boolean startPaused) {
        this(ramSize, startPaused, null);
    }

    /**
     * @param firmware a {@code -bios} image placed at 4 GiB and shadowed below 1 MiB
     *                 ({@link PcMemoryMap}), or null for the HLE BIOS
     */
    public PcMachine(long ramSize, boolean startPaused, FirmwareImage firmware) {
        this.memoryMap = new PcMemoryMap(ramSize, firmware);
        if (memoryMap.firmwareShadow() != null) {
            addComponent(memoryMap.firmwareShadow());
        }
        this.fwCfg = new FwCfg(ramSize, memoryMap.ramBelowFourGib());
        this.runState = new RunStateControl(startPaused, this::resumeComponents);
        bus.map(0x00, dma1.portCount(), dma1);
        bus.map(0xc0, dma2.portCount(), dma2);
        bus.map(DmaPageRegisters.BASE, DmaPageRegisters.PORTS, new PostCodePort(new DmaPageRegisters()));
        bus.map(FW_CFG_PORT, 2, fwCfg);
        fwCfg.enableDma(memoryMap.addressSpace());
        bus.map(FW_CFG_DMA_PORT, 8, fwCfg.dmaPort());
        addComponent(MachineComponent.resettable("dma1", dma1::reset));
        addComponent(MachineComponent.resettable("dma2", dma2::reset));
        addComponent(MachineComponent.resettable("fw_cfg", fwCfg::reset));
        this.qom = List.of(
                new QomDevice("/machine/i440fx", new GpioPins(0), new GpioPins(0)),
                new QomDevice("/machine/i440fx/ioapic", ioapic, new GpioPins(0)));
        this.platform = PcPlatformWiring.attach(this, bus, ioapic, ramSize);
    }

    /** PIC, PIT, RTC, i8042 and the other ISA platform chips. */
    public PcPlatformWiring platform() {
        return platform;
    }

    /**
     * Registers a component (a chip, the PCI/IDE wiring) once: the machine's reset, resume,
     * drain and shutdown reach it, in registration order. Machine set-up only.
     */
    public synchronized void addComponent(MachineComponent c) {
        if (components.contains(c)) {
            throw new IllegalStateException("component " + c.name() + " registered twice");
        }
        components.add(c);
    }

    /** The registered components in registration order. */
    public synchronized List<MachineComponent> components() {
        return List.copyOf(components);
    }

    /**
     * The IDE drive at index {@code index} (0 primary master … 3 secondary slave), or null if
     * none is attached: firmware disk services submit to its
     * {@link dev.ioemu.devices.ide.IdeDevice#requestQueue()}.
     */
    public dev.ioemu.devices.ide.IdeDevice ideDrive(int index) {
        for (MachineComponent c : components()) {
            if (c instanceof PciIdeWiring wiring) {
                return wiring.controller().drive(index);
            }
        }
        return null;
    }

    /** RAM, BIOS ROM and their layout; {@link #addressSpace()} is the map itself. */
    public PcMemoryMap memoryMap() {
        return memoryMap;
    }

    /** The line a device drives for ISA IRQ {@code n} (14, 15 for IDE): PIC input and IOAPIC pin. */
    public IrqLine irq(int n) {
        return n < 16 ? platform.isaIrq(n) : ioapic.line(n);
    }

    @Override
    public IoPortBus ioBus() {
        return bus;
    }

    @Override
    public AddressSpace addressSpace() {
        return memoryMap.addressSpace();
    }

    @Override
    public VirtualClock clock() {
        return clock;
    }

    @Override
    public List<QomDevice> qomDevices() {
        return qom;
    }

    @Override
    public RunStateControl runState() {
        return runState;
    }

    @Override
    public synchronized void reset() {
        for (MachineComponent c : components) {
            c.reset();
        }
    }

    private void resumeComponents() {
        for (MachineComponent c : components()) {
            c.resume();
        }
    }

    @Override
    public void drain() {
        for (MachineComponent c : components()) {
            c.drain();
        }
    }

    @Override
    public synchronized List<BlockInfo> blocks() {
        List<BlockInfo> out = new ArrayList<>();
        for (MachineComponent c : components) {
            out.addAll(c.blocks());
        }
        return out;
    }

    @Override
    public void shutdown() {
        List<MachineComponent> cs;
        synchronized (this) {
            if (shutDown) {
                return;
            }
            shutDown = true;
            cs = List.copyOf(components);
        }
        for (MachineComponent c : cs) {
            c.shutdown();
        }
    }
}
