package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.time.Clock;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.HashMap;
import java.util.Map;

/**
 * INT 15h system services boot loaders and Linux call (shared/spec/int13.md §8.3): the E820
 * memory map, E801h/88h memory sizes, the A20 gate (2400h–2403h), the configuration table (C0h),
 * the EBDA segment (C1h), the keyboard intercept default (4Fh) and the AH=86h wait, which parks
 * the guest on the stub's HLT until the virtual clock passes the deadline. Anything else:
 * CF=1, AH=86h.
 */
public final class SystemServices implements BiosService {
    /** 'SMAP'. */
    static final int SMAP = 0x534D_4150;
    /** E801h/88h: the classic 15 MiB between 1 and 16 MiB. */
    static final int E801_MAX_LOW_KB = 15 * 1024;
    /** AH=88h: SeaBIOS reports at most 63 MiB. */
    static final int AH88_MAX_KB = 63 * 1024;
    /** AX=2403h: keyboard controller and port 92h. */
    static final int A20_SUPPORT_KBC_AND_PORT92 = 0x0003;

    private final E820Map map;
    private final A20Gate a20;
    private final Clock clock;
    /** AH=86h deadlines (ns) by the caller's linear SS:SP, so nested waits stay apart. */
    private final Map<Long, Long> waits = new HashMap<>();
    private final PhysicalMemory memory;

    public SystemServices(PhysicalMemory memory, E820Map map, A20Gate a20, Clock clock) {
        this.memory = memory;
        this.map = map;
        this.a20 = a20;
        this.clock = clock;
    }

    @Override
    public void serve(BiosCall call) {
        RegisterFile r = call.regs();
        switch (r.ah()) {
            case 0x24 -> a20Gate(call);
            case 0x4F -> call.setCarry(true);   // keyboard intercept: "process this scan code"
            case 0x52 -> success(call);        // removable media eject: nothing to eject
            case 0x86 -> waitMicroseconds(call);
            case 0x88 -> {
                r.setAx((int) Math.min(map.extendedBelow4g() / 1024, AH88_MAX_KB));
                call.setCarry(false);
            }
            case 0xC0 -> {
                r.loadRealModeSegment(Segment.ES, BiosRom.SEGMENT);
                r.setBx(BiosRom.Entry.CONFIGURATION.offset);
                success(call);
            }
            case 0xC1 -> {
                r.loadRealModeSegment(Segment.ES, new Bda(memory).readWord(Bda.EBDA_SEGMENT));
                call.setCarry(false);
            }
            case 0xE8 -> {
                switch (r.al()) {
                    case 0x01 -> e801MemorySize(call);
                    case 0x20 -> e820MemoryMap(call);
                    default -> call.unsupported();
                }
            }
            default -> call.unsupported();
        }
    }

    private static void success(BiosCall call) {
        call.regs().setAh(0);
        call.setCarry(false);
    }

    private void a20Gate(BiosCall call) {
        RegisterFile r = call.regs();
        switch (r.al()) {
            case 0x00 -> {
                a20.setEnabled(false);
                success(call);
            }
            case 0x01 -> {
                a20.setEnabled(true);
                success(call);
            }
            case 0x02 -> {
                r.setAl(a20.isEnabled() ? 1 : 0);
                success(call);
            }
            case 0x03 -> {
                r.setBx(A20_SUPPORT_KBC_AND_PORT92);
                success(call);
            }
            default -> call.unsupported();
        }
    }

    /** AX = CX = KiB between 1 and 16 MiB, BX = DX = 64 KiB blocks above 16 MiB below the hole. */
    private void e801MemorySize(BiosCall call) {
        RegisterFile r = call.regs();
        long extended = map.extendedBelow4g();
        long lowKb = Math.min(extended / 1024, E801_MAX_LOW_KB);
        long highBlocks = Math.max(0, extended - 15L * 1024 * 1024) / 65536;
        r.setAx((int) lowKb);
        r.setCx((int) lowKb);
        r.setBx((int) Math.min(highBlocks, 0xFFFF));
        r.setDx((int) Math.min(highBlocks, 0xFFFF));
        call.setCarry(false);
    }

    /** One 20-byte entry per call; EBX is the continuation, 0 after the last entry. */
    private void e820MemoryMap(BiosCall call) {
        RegisterFile r = call.regs();
        int index = r.gpr(Gpr.EBX);
        long buffer = r.linear(Segment.ES, r.di());
        if (r.gpr(Gpr.EDX) != SMAP || Integer.compareUnsigned(r.gpr(Gpr.ECX), E820Map.ENTRY_SIZE) < 0
                || index < 0 || index >= map.entries().size() || !call.isRam(buffer, E820Map.ENTRY_SIZE)) {
            call.unsupported();
            return;
        }
        E820Map.Entry e = map.entries().get(index);
        memory.writeDword(buffer, (int) e.base());
        memory.writeDword(buffer + 4, (int) (e.base() >>> 32));
        memory.writeDword(buffer + 8, (int) e.length());
        memory.writeDword(buffer + 12, (int) (e.length() >>> 32));
        memory.writeDword(buffer + 16, e.type());
        r.setGpr(Gpr.EAX, SMAP);
        r.setGpr(Gpr.ECX, E820Map.ENTRY_SIZE);
        r.setGpr(Gpr.EBX, index + 1 < map.entries().size() ? index + 1 : 0);
        call.setCarry(false);
    }

    /**
     * CX:DX microseconds of virtual time. The first entry sets a deadline; until it passes the
     * guest idles on the stub's HLT (woken by the timer IRQ) and re-enters here.
     */
    private void waitMicroseconds(BiosCall call) {
        RegisterFile r = call.regs();
        long key = r.segmentBase(Segment.SS) + r.sp();
        long now = clock.nanos();
        Long deadline = waits.get(key);
        if (deadline == null) {
            long micros = (long) r.cx() << 16 | r.dx();
            deadline = now + micros * 1000;
            waits.put(key, deadline);
        }
        if (now >= deadline) {
            waits.remove(key);
            success(call);
            return;
        }
        if (TraceEvent.BIOS_WAIT.enabled) {
            Trace.emit(TraceEvent.BIOS_WAIT, 0x15, r.ax());
        }
        call.resumeAt(BiosRom.Entry.INT15_SYSTEM.waitOffset());
    }
}
