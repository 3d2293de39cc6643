package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.bus.PortListDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * One IDE channel (QEMU's IDEBus): two units sharing a register interface, one selected-unit
 * index, one Device Control byte, one level-triggered IRQ output and one bus-master engine
 * (shared/spec/ide.md §1, §2, §10).
 *
 * <p>Ports: {@link #commandBlock} decodes the 8 command-block registers (0x1F0-0x1F7 /
 * 0x170-0x177) including the data port's string transfers; {@link #controlBlock} the one
 * Device Control / Alternate Status byte (0x3F6 / 0x376).
 *
 * <p>Threading: all state is guarded by the controller lock; the port devices take it, and
 * block completions hold it when they call in. {@link #inFlight} counts block requests the
 * channel has submitted and not yet seen complete.
 */
final class IdeBus {
    final PiixIde controller;
    final int index;
    private final IrqLine irq;
    private final IdeDevice[] units = new IdeDevice[2];
    final BusMasterDma dma;

    private int selected;
    private int control;
    /** Block requests submitted and not completed; SRST and reset wait for 0. */
    int inFlight;
    /** The request a werror/rerror=stop parked, re-issued by {@link PiixIde#resume()}. */
    Runnable retry;

    final PortDevice commandBlock = new CommandBlock();
    final PortDevice controlBlock = new ControlBlock();

    IdeBus(PiixIde controller, int index, IrqLine irq) {
        this.controller = controller;
        this.index = index;
        this.irq = irq;
        this.dma = new BusMasterDma(this);
        units[0] = new IdeDevice(this, 0);
        units[1] = new IdeDevice(this, 1);
    }

    IdeDevice unit(int u) {
        return units[u];
    }

    IdeDevice selectedDevice() {
        return units[selected];
    }

    int control() {
        return control;
    }

    private boolean noDrives() {
        return !units[0].present() && !units[1].present();
    }

    /** The selected unit is a slave with no drive: its registers read as 0 (§1.5). */
    private boolean absentSlaveSelected() {
        return selected == 1 && !units[1].present();
    }

    // =====================================================================================
    // Interrupt (§10)
    // =====================================================================================

    /** Raises the channel IRQ and the BM Interrupt bit, unless nIEN masks both. */
    void setIrq() {
        if ((control & Ata.CONTROL_NIEN) == 0) {
            dma.setInterrupt();
            if (TraceEvent.IDE_IRQ.enabled) {
                Trace.emit(TraceEvent.IDE_IRQ, index, 1);
            }
            irq.set(true);
        }
    }

    private void lowerIrq() {
        irq.set(false);
    }

    // =====================================================================================
    // Command-block registers (§1.2-§1.5)
    // =====================================================================================

    private int readRegister(int reg) {
        IdeDevice s = selectedDevice();
        AtaRegisters r = s.regs;
        boolean hob = (control & Ata.CONTROL_HOB) != 0;
        boolean none = noDrives();
        int value = switch (reg) {
            case 1 -> none || absentSlaveSelected() ? 0 : hob ? r.hobFeature : r.error;
            case 2 -> none ? 0 : hob ? r.hobNsector : r.nsector & 0xFF;
            case 3 -> none ? 0 : hob ? r.hobSector : r.sector;
            case 4 -> none ? 0 : hob ? r.hobLcyl : r.lcyl;
            case 5 -> none ? 0 : hob ? r.hobHcyl : r.hcyl;
            case 6 -> none ? 0 : r.select;
            default -> {
                // Status: the guest acknowledges the interrupt by reading it.
                int st = none || absentSlaveSelected() ? 0 : r.status;
                lowerIrq();
                yield st;
            }
        };
        if (TraceEvent.IDE_IOPORT_READ.enabled) {
            Trace.emit(TraceEvent.IDE_IOPORT_READ, reg, AtaRegister.at(reg).readName, value, index);
        }
        return value;
    }

    private void writeRegister(int reg, int value) {
        if (TraceEvent.IDE_IOPORT_WRITE.enabled) {
            Trace.emit(TraceEvent.IDE_IOPORT_WRITE, reg, AtaRegister.at(reg).writeName, value, index);
        }
        if (reg == 7) {
            control &= ~Ata.CONTROL_HOB;
            lowerIrq();
            executeCommand(value);
            return;
        }
        // A driver cannot change registers (not even select the other unit) while BSY or DRQ.
        if ((selectedDevice().regs.status & (Ata.STATUS_BSY | Ata.STATUS_DRQ)) != 0) {
            return;
        }
        control &= ~Ata.CONTROL_HOB;
        // Both units latch every register write: they sit on the same cable.
        for (IdeDevice d : units) {
            AtaRegisters r = d.regs;
            switch (reg) {
                case 1 -> {
                    r.hobFeature = r.feature;
                    r.feature = value;
                }
                case 2 -> {
                    r.hobNsector = r.nsector & 0xFF;
                    r.nsector = value;
                }
                case 3 -> {
                    r.hobSector = r.sector;
                    r.sector = value;
                }
                case 4 -> {
                    r.hobLcyl = r.lcyl;
                    r.lcyl = value;
                }
                case 5 -> {
                    r.hobHcyl = r.hcyl;
                    r.hcyl = value;
                }
                case 6 -> r.select = value | Ata.DEVICE_ALWAYS_ON;
                default -> { }
            }
        }
        if (reg == 6) {
            selected = (value & Ata.DEVICE_DEV) != 0 ? 1 : 0;
        }
    }

    /**
     * The command gate (§2): BSY rule, permission check, handler, completion. Every command goes
     * through here; ERR ⇔ error≠0 holds for every command that completes through the gate.
     */
    void executeCommand(int opcode) {
        IdeDevice s = selectedDevice();
        if (TraceEvent.IDE_EXEC_CMD.enabled) {
            Trace.emit(TraceEvent.IDE_EXEC_CMD, index, selected, opcode, AtaCommand.nameOf(opcode));
        }
        if (selected == 1 && !s.present()) {
            // QEMU ignores commands to an absent slave, EXECUTE DEVICE DIAGNOSTIC included.
            return;
        }
        AtaRegisters r = s.regs;
        if ((r.status & (Ata.STATUS_BSY | Ata.STATUS_DRQ)) != 0 && !AtaCommand.allowedWhileBusy(opcode, s.kind())) {
            return;
        }
        AtaCommand command = AtaCommand.forOpcode(opcode);
        if (command == null || !command.permittedOn(s.kind())) {
            s.errors.abortCommand();
            setIrq();
            return;
        }
        r.status = Ata.STATUS_DRDY | Ata.STATUS_BSY;
        r.error = 0;
        Outcome outcome = command.handler.run(s.commands);
        switch (outcome) {
            case COMPLETED, ABORTED -> {
                if (outcome == Outcome.ABORTED) {
                    s.errors.abortCommand();
                }
                r.status &= ~Ata.STATUS_BSY;
                assert (r.error != 0) == ((r.status & Ata.STATUS_ERR) != 0)
                        : String.format("%s finished with status 0x%02x error 0x%02x", command, r.status, r.error);
                if (command.setsDsc() && r.error == 0) {
                    r.status |= Ata.STATUS_DSC;
                }
                if (TraceEvent.IDE_CMD_COMPLETE.enabled) {
                    Trace.emit(TraceEvent.IDE_CMD_COMPLETE, index, selected, opcode, r.status, r.error, 0L);
                }
                setIrq();
            }
            case CONTINUES -> { }
        }
    }

    // =====================================================================================
    // Device Control, SRST, reset (§1.6)
    // =====================================================================================

    private void writeControl(int value) {
        if (TraceEvent.IDE_CTRL_WRITE.enabled) {
            Trace.emit(TraceEvent.IDE_CTRL_WRITE, 0, value, index);
        }
        boolean srstRisingEdge = (control & Ata.CONTROL_SRST) == 0 && (value & Ata.CONTROL_SRST) != 0;
        control = value;
        if (srstRisingEdge) {
            softReset();
        }
    }

    /**
     * SRST: both units go BSY, in-flight I/O is waited for (drained, not aborted), registers are
     * reset and the diagnostic runs, leaving the signatures. QEMU defers this to a bottom half
     * that runs before the guest's next access; we run it in the write. The selected unit is
     * kept.
     */
    private void softReset() {
        if (TraceEvent.IDE_RESET.enabled) {
            Trace.emit(TraceEvent.IDE_RESET, index, "srst");
        }
        for (IdeDevice d : units) {
            d.regs.status |= Ata.STATUS_BSY;
        }
        controller.awaitBusIdle(this);
        retry = null;
        for (IdeDevice d : units) {
            d.transferHalt();
            dma.forget(d);
            d.resetRegisters();
            d.commands.executeDeviceDiagnostic();
        }
        control &= ~Ata.CONTROL_SRST;
    }

    /** Machine reset: registers without the diagnostic (error 0), unit 0 selected, engine reset. */
    void reset() {
        if (TraceEvent.IDE_RESET.enabled) {
            Trace.emit(TraceEvent.IDE_RESET, index, "machine");
        }
        controller.awaitBusIdle(this);
        retry = null;
        selected = 0;
        control = 0;
        for (IdeDevice d : units) {
            d.resetRegisters();
        }
        dma.reset();
        lowerIrq();
    }

    private int alternateStatus() {
        int value = noDrives() || absentSlaveSelected() ? 0 : selectedDevice().regs.status;
        if (TraceEvent.IDE_STATUS_READ.enabled) {
            Trace.emit(TraceEvent.IDE_STATUS_READ, 0, value, index);
        }
        return value;
    }

    // =====================================================================================
    // Port devices
    // =====================================================================================

    /**
     * 0x1F0-0x1F7 / 0x170-0x177 (access widths per §1.3). A QEMU port list: it takes every access
     * whole, so {@code inl 0x1f6} is all-ones rather than two 16-bit pieces (checked on QEMU 7.2).
     */
    private final class CommandBlock implements PortListDevice {
        @Override
        public int read(int offset, int size) {
            return controller.locked(() -> {
                if (offset == 0) {
                    int value = selectedDevice().readData(size);
                    traceData(true, size, value);
                    return value;
                }
                if (size == 1) {
                    return readRegister(offset);
                }
                if (size == 2) {
                    int low = readRegister(offset);
                    // Offset 7 has no upper neighbour in the port list: it floats to 0xFF.
                    int high = offset == 7 ? 0xFF : readRegister(offset + 1);
                    return low | high << 8;
                }
                return 0xFFFF_FFFF;
            });
        }

        @Override
        public void write(int offset, int size, int value) {
            controller.locked(() -> {
                if (offset == 0) {
                    if (size != 1) {
                        traceData(false, size, value);
                        selectedDevice().writeData(size, value);
                    }
                } else if (size == 1) {
                    writeRegister(offset, value & 0xFF);
                } else if (size == 2) {
                    writeRegister(offset, value & 0xFF);
                    if (offset != 7) {
                        writeRegister(offset + 1, (value >>> 8) & 0xFF);
                    }
                }
                return 0;
            });
        }

        @Override
        public int readString(int offset, int size, int count, MemorySpan dst) {
            if (offset != 0 || size == 1 || TraceEvent.IDE_DATA_READW.enabled || TraceEvent.IDE_DATA_READL.enabled) {
                return PortListDevice.super.readString(offset, size, count, dst);
            }
            return controller.locked(() -> selectedDevice().readDataString(size, count, dst));
        }

        @Override
        public int writeString(int offset, int size, int count, MemorySpan src) {
            if (offset != 0 || size == 1 || TraceEvent.IDE_DATA_WRITEW.enabled || TraceEvent.IDE_DATA_WRITEL.enabled) {
                return PortListDevice.super.writeString(offset, size, count, src);
            }
            return controller.locked(() -> selectedDevice().writeDataString(size, count, src));
        }

        private void traceData(boolean read, int size, int value) {
            TraceEvent e = read ? (size == 4 ? TraceEvent.IDE_DATA_READL : TraceEvent.IDE_DATA_READW)
                    : (size == 4 ? TraceEvent.IDE_DATA_WRITEL : TraceEvent.IDE_DATA_WRITEW);
            if (e.enabled) {
                Trace.emit(e, 0, value, index);
            }
        }

        @Override
        public String name() {
            return "ide" + index + "-cmd";
        }
    }

    /**
     * 0x3F6 / 0x376: Alternate Status (read, no IRQ side effect) and Device Control (write). A
     * one-byte QEMU port list: a 16-bit access is the byte plus a floating 0xFF upper half
     * ({@code inw 0x3f6} = 0xff50 on QEMU 7.2); a 32-bit access matches no entry (all-ones, write dropped).
     */
    private final class ControlBlock implements PortListDevice {
        @Override
        public int read(int offset, int size) {
            if (size == 4) {
                return 0xFFFF_FFFF;
            }
            int value = controller.locked(IdeBus.this::alternateStatus);
            return size == 2 ? value | 0xFF00 : value;
        }

        @Override
        public void write(int offset, int size, int value) {
            if (size == 4) {
                return;
            }
            controller.locked(() -> {
                writeControl(value & 0xFF);
                return 0;
            });
        }

        @Override
        public String name() {
            return "ide" + index + "-ctrl";
        }
    }
}
