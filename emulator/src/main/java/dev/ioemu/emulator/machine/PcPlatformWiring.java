package dev.ioemu.emulator.machine;

import dev.ioemu.devices.bus.GpioPins;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.isa.A20Gate;
import dev.ioemu.devices.isa.I8042;
import dev.ioemu.devices.isa.I8254Pit;
import dev.ioemu.devices.isa.I8259PicPair;
import dev.ioemu.devices.isa.IsaDebugCon;
import dev.ioemu.devices.isa.IsaDebugExit;
import dev.ioemu.devices.isa.Mc146818Rtc;
import dev.ioemu.devices.isa.NmiStatusControlPort;
import dev.ioemu.devices.isa.PcCmosLayout;
import dev.ioemu.devices.isa.SerialBackend;
import dev.ioemu.devices.isa.SystemControlPortA;
import dev.ioemu.devices.isa.Uart16550;
import dev.ioemu.devices.time.Clock;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * The PC platform chips of QEMU's pc machine on {@link PcMachine}'s port bus: the 8259 pair and
 * ELCR, the 8254 and port 61h, the RTC/CMOS, the i8042 with port 92h and the A20 gate
 * (port 80h, the POST code, is decoded in front of the DMA page registers by {@link PcMachine}).
 * Optional ISA devices (COM1, isa-debugcon, isa-debug-exit) attach on request, as QEMU adds them
 * only when the command line asks ({@code -nodefaults} leaves COM1 out).
 *
 * <p>ISA IRQ n reaches both the PIC input n and the IOAPIC pin n that qtest intercepts (QEMU 7.2
 * reports the PIT on pin 0 there). Timers run on the machine's virtual clock.
 */
public final class PcPlatformWiring implements MachineComponent {
    public static final int IRQ_PIT = 0;
    public static final int IRQ_KEYBOARD = 1;
    public static final int IRQ_COM1 = 4;
    public static final int IRQ_RTC = 8;
    public static final int COM1_BASE = 0x3f8;
    /** QEMU's default boot order. */
    public static final String DEFAULT_BOOT_ORDER = "cad";

    private final PcMachine machine;
    private final Clock clock;
    private final I8259PicPair pics = new I8259PicPair();
    private final IrqLine[] isaIrqs = new IrqLine[16];
    private final I8254Pit pit;
    private final NmiStatusControlPort port61;
    private final Mc146818Rtc rtc;
    private final A20Gate a20 = new A20Gate();
    private final I8042 kbc;
    private final SystemControlPortA port92;
    private final long ramSize;
    private Uart16550 com1;

    private PcPlatformWiring(PcMachine machine, GpioPins ioapic, long ramSize) {
        this.machine = machine;
        this.ramSize = ramSize;
        this.clock = machine.clock();
        for (int i = 0; i < isaIrqs.length; i++) {
            IrqLine pin = ioapic.line(i);
            IrqLine pic = pics.input(i);
            isaIrqs[i] = level -> {
                pic.set(level);
                pin.set(level);
            };
        }
        this.pit = new I8254Pit(clock, isaIrqs[IRQ_PIT]);
        this.port61 = new NmiStatusControlPort(pit, clock);
        this.rtc = new Mc146818Rtc(clock, isaIrqs[IRQ_RTC], System.currentTimeMillis() / 1000);
        this.kbc = new I8042(isaIrqs[IRQ_KEYBOARD], a20, machine::reset);
        this.port92 = new SystemControlPortA(a20, machine::reset);
        writeCmos();
    }

    /** Creates the chips, maps their ports and registers them for reset; called by {@link PcMachine}. */
    static PcPlatformWiring attach(PcMachine machine, IoPortBus bus, GpioPins ioapic, long ramSize) {
        PcPlatformWiring w = new PcPlatformWiring(machine, ioapic, ramSize);
        bus.map(I8259PicPair.MASTER_BASE, 2, w.pics.master());
        bus.map(I8259PicPair.SLAVE_BASE, 2, w.pics.slave());
        bus.map(I8259PicPair.ELCR_BASE, 1, w.pics.elcr1());
        bus.map(I8259PicPair.ELCR_BASE + 1, 1, w.pics.elcr2());
        bus.map(0x40, 4, w.pit);
        bus.map(NmiStatusControlPort.PORT, 1, w.port61);
        bus.map(0x70, 2, w.rtc);
        bus.map(I8042.DATA_PORT, 1, w.kbc.dataPort());
        bus.map(I8042.STATUS_PORT, 1, w.kbc.commandPort());
        bus.map(SystemControlPortA.PORT, 1, w.port92);
        machine.addComponent(w);
        return w;
    }

    private void writeCmos() {
        long below4g = Math.min(ramSize, 0xe000_0000L);
        PcCmosLayout.apply(rtc, PcCmosLayout.contents(below4g, ramSize - below4g, DEFAULT_BOOT_ORDER, List.of()));
    }

    /** The line a device drives for ISA IRQ {@code n}: the PIC input and the IOAPIC pin. */
    public IrqLine isaIrq(int n) {
        if (n < 0 || n >= isaIrqs.length) {
            throw new IllegalArgumentException("ISA IRQ: " + n + " (expected: 0 to 15)");
        }
        return isaIrqs[n];
    }

    /** The CPU's view of the 8259 pair (INTR, INTA). */
    public I8259PicPair interruptController() {
        return pics;
    }

    /** The devices' clock (the machine's virtual clock): timers of the BIOS and the chips. */
    public Clock clock() {
        return clock;
    }

    public A20Gate a20Gate() {
        return a20;
    }

    public Mc146818Rtc rtc() {
        return rtc;
    }

    public I8042 keyboardController() {
        return kbc;
    }

    /** {@code -rtc base=}: the guest's time now (before the guest runs), seconds since 1970 UTC. */
    public void setRtcBase(long epochSeconds) {
        rtc.setTime(epochSeconds);
    }

    /** COM1 at 0x3F8, IRQ 4, bound to {@code backend} ({@code -serial}). */
    public synchronized Uart16550 attachCom1(SerialBackend backend) {
        if (com1 != null) {
            throw new IllegalStateException("COM1 is already attached");
        }
        com1 = new Uart16550("serial0", clock, isaIrqs[IRQ_COM1], backend);
        machine.ioBus().map(COM1_BASE, 8, com1);
        return com1;
    }

    /** {@code -device isa-debugcon,iobase=PORT}: writes go to {@code backend}, reads return 0xE9. */
    public void attachDebugCon(int iobase, SerialBackend backend) {
        machine.ioBus().map(iobase, 1, new IsaDebugCon(backend));
    }

    /** {@code -device isa-debug-exit,iobase=,iosize=}: a write ends the process with (v << 1) | 1. */
    public void attachDebugExit(int iobase, int iosize, IntConsumer exit) {
        machine.ioBus().map(iobase, iosize, new IsaDebugExit(exit));
    }

    @Override
    public void reset() {
        pics.reset();
        pit.reset();
        port61.reset();
        rtc.reset();
        kbc.reset();
        port92.reset();
        if (com1 != null) {
            com1.reset();
        }
    }
}
