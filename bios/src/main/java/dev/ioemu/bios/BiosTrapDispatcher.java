package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumMap;
import java.util.Map;

/**
 * The one entry from every engine into the BIOS (shared/spec/kvm.md §7.1, int13.md §10.2). An
 * engine calls {@link #trap} on its vCPU thread when the guest executes {@code OUT 0xE0, AL}
 * ({@link BiosRom#TRAP_PORT}), with EIP either on the OUT or just after it — both KVM behaviours
 * occur. The dispatcher finds the service by the linear address of the OUT (it looks up the
 * address and the address − 2), runs it, and patches CF/ZF/IF into the FLAGS image at SS:SP+4
 * that the stub's IRET restores.
 *
 * <p>Engine contract: call {@link #trap} on the vCPU thread with the register file current (EIP
 * on the OUT or after it). If it leaves CS and EIP unchanged, resume as after any OUT (the
 * instruction after it); if it changed them (a wait loop's HLT, the boot sector at 0:7C00, the
 * halt loop), resume exactly there with the registers and flags it set. A write to the port from
 * anywhere else is a guest bug: it is traced and ignored.
 */
public final class BiosTrapDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(BiosTrapDispatcher.class);

    /** What became of one trap. */
    public enum Outcome {
        /** A service ran. */
        SERVICED,
        /** The OUT was not one of the ROM's stubs: ignored. */
        UNKNOWN_ADDRESS,
        /** CR0.PE=1: the real-mode services refuse with CF=1, AH=86h (int13.md §10.2 "Mode check"). */
        REFUSED_PROTECTED_MODE
    }

    private final PhysicalMemory memory;
    private final Map<Long, BiosRom.Entry> traps;
    private final Map<BiosRom.Entry, BiosService> services;

    /**
     * @param services one service for every trapping entry of the ROM
     * @throws IllegalArgumentException if a trapping entry has no service
     */
    public BiosTrapDispatcher(PhysicalMemory memory, BiosRom rom, Map<BiosRom.Entry, BiosService> services) {
        this.memory = memory;
        this.traps = rom.trapLinearAddresses();
        this.services = new EnumMap<>(BiosRom.Entry.class);
        this.services.putAll(services);
        for (BiosRom.Entry e : traps.values()) {
            if (!this.services.containsKey(e)) {
                throw new IllegalArgumentException("BIOS service for " + e + ": none (expected one per trapping ROM entry)");
            }
        }
    }

    /** The ROM entry whose OUT is at {@code linear} or at {@code linear − 2}, or null. */
    public BiosRom.Entry entryAt(long linear) {
        long address = linear >= BiosRom.HIGH_ALIAS ? linear - BiosRom.HIGH_ALIAS + BiosRom.BASE : linear;
        BiosRom.Entry e = traps.get(address);
        return e != null ? e : traps.get(address - 2);
    }

    /** Runs the service the guest trapped into; see the class comment for the EIP contract. */
    public Outcome trap(RegisterFile regs) {
        long linear = regs.segmentBase(Segment.CS) + regs.ip();
        BiosRom.Entry entry = entryAt(linear);
        if (entry == null) {
            if (TraceEvent.BIOS_TRAP_UNKNOWN.enabled) {
                Trace.emit(TraceEvent.BIOS_TRAP_UNKNOWN, linear, regs.selector(Segment.CS), regs.ip());
            }
            return Outcome.UNKNOWN_ADDRESS;
        }
        long frame = -1;
        int frameFlags = 0;
        if (entry != BiosRom.Entry.POST) {
            long address = regs.segmentBase(Segment.SS) + ((regs.sp() + 4) & 0xFFFF);
            if (memory.isRam(address, 2)) {
                frame = address;
                frameFlags = memory.readWord(address);
            }
        }
        BiosCall call = new BiosCall(regs, memory, entry.vector, frame, frameFlags);
        int axIn = regs.ax();
        long start = System.nanoTime();
        Outcome outcome;
        if (regs.protectedMode()) {
            if (TraceEvent.BIOS_TRAP_PROTECTED_MODE.enabled) {
                Trace.emit(TraceEvent.BIOS_TRAP_PROTECTED_MODE, linear, axIn);
            }
            call.unsupported();
            outcome = Outcome.REFUSED_PROTECTED_MODE;
        } else {
            try {
                services.get(entry).serve(call);
            } catch (RuntimeException e) {
                // A bug of ours must not kill the machine: the guest sees "unsupported".
                LOG.error("BIOS {} AX={}: internal error", entry, Integer.toHexString(axIn), e);
                call.unsupported();
            }
            outcome = Outcome.SERVICED;
        }
        if (call.hasFrame()) {
            memory.writeWord(call.frameAddress(), call.frameFlags());
        }
        if (call.resumeIp() != null) {
            regs.setEip(call.resumeIp());
        }
        if (TraceEvent.BIOS_CALL.enabled && entry != BiosRom.Entry.POST) {
            Trace.emit(TraceEvent.BIOS_CALL, entry.vector & 0xFF, axIn, regs.bx(), regs.cx(), regs.dx(), regs.ax(),
                    call.carry() ? 1 : 0, System.nanoTime() - start);
        }
        return outcome;
    }
}
