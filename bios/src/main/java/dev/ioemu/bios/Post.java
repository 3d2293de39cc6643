package dev.ioemu.bios;

import dev.ioemu.bios.RegisterFile.Gpr;
import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.time.LocalDateTime;
import java.util.List;

/**
 * Power-on self test in Java (shared/spec/int13.md §9): the IVT (every vector points somewhere
 * sensible), the BIOS Data Area, the EBDA with the fixed disk parameter tables, text mode 03h,
 * the tick count seeded from the RTC, and a stack for the INT 19h the ROM executes next.
 */
final class Post {
    /** SeaBIOS's boot stack (BUILD_STACK_ADDR). */
    static final int POST_STACK_POINTER = 0x7000;
    /**
     * Equipment word bits (int13.md §9.2). Bit 1 (x87 present) stays clear: the software CPU has no
     * FPU (CPUID leaf 1 EDX.FPU=0, ESC opcodes are no-ops or #NM), and a guest that believes the
     * word would execute x87 code that does nothing.
     */
    static final int EQUIPMENT_VIDEO_80X25_COLOUR = 0x20;
    static final int EQUIPMENT_SERIAL_SHIFT = 9;
    /** 40:96 bit 4: a 101/102-key keyboard. */
    static final int KBD_FLAG2_101_KEYS = 0x10;
    static final int FDPT_SIGNATURE = 0xA0;
    static final int FDPT_NO_PRECOMPENSATION = 0xFFFF;
    static final int FDPT_CONTROL = 0xC0;
    static final int FDPT_CONTROL_MORE_THAN_8_HEADS = 0x08;

    private final PhysicalMemory memory;
    private final Bda bda;
    private final List<BiosDrive> disks;
    private final List<Integer> comPorts;
    private final VideoServices video;
    private final TimeServices time;
    private final E820Map e820;

    Post(PhysicalMemory memory, List<BiosDrive> disks, List<Integer> comPorts, VideoServices video, TimeServices time,
         E820Map e820) {
        this.memory = memory;
        this.bda = new Bda(memory);
        this.disks = disks;
        this.comPorts = comPorts;
        this.video = video;
        this.time = time;
        this.e820 = e820;
    }

    void run(RegisterFile regs) {
        writeVectors();
        writeBda();
        writeEbda();
        video.setMode(VideoServices.TEXT_MODE_80X25, false);
        LocalDateTime now = time.now();
        bda.writeDword(Bda.TIMER_COUNTER, TimeServices.ticksSinceMidnight(now.toLocalTime()));
        for (Segment s : new Segment[] {Segment.SS, Segment.DS, Segment.ES}) {
            regs.loadRealModeSegment(s, 0);
        }
        regs.setGpr(Gpr.ESP, POST_STACK_POINTER);
        if (TraceEvent.BIOS_POST.enabled) {
            Trace.emit(TraceEvent.BIOS_POST, e820.entries().stream()
                            .filter(e -> e.type() == E820Map.TYPE_RAM).mapToLong(E820Map.Entry::length).sum(),
                    disks.size(), e820.entries().size());
        }
    }

    private void writeVectors() {
        int[] ivt = BiosRom.initialVectors();
        int[] fdptVectors = {0x41, 0x46};
        int[] fdptOffsets = {Ebda.FDPT_DISK0, Ebda.FDPT_DISK1};
        for (int i = 0; i < 2; i++) {
            ivt[fdptVectors[i]] = i < disks.size() ? Ebda.SEGMENT << 16 | fdptOffsets[i] : 0;
        }
        for (int v = 0; v < ivt.length; v++) {
            memory.writeDword(4L * v, ivt[v]);
        }
    }

    private void writeBda() {
        memory.write(Bda.BASE, new byte[0x100], 0, 0x100);
        for (int i = 0; i < Math.min(4, comPorts.size()); i++) {
            bda.writeWord(Bda.COM_PORTS + 2 * i, comPorts.get(i));
        }
        bda.writeWord(Bda.EBDA_SEGMENT, Ebda.SEGMENT);
        bda.writeWord(Bda.EQUIPMENT, EQUIPMENT_VIDEO_80X25_COLOUR
                | Math.min(4, comPorts.size()) << EQUIPMENT_SERIAL_SHIFT);
        bda.writeWord(Bda.MEMORY_SIZE_KB, (int) (Ebda.BASE / 1024));
        bda.writeWord(Bda.KBD_BUFFER_HEAD, KeyboardServices.KBD_BUFFER_DEFAULT_START);
        bda.writeWord(Bda.KBD_BUFFER_TAIL, KeyboardServices.KBD_BUFFER_DEFAULT_START);
        bda.writeWord(Bda.KBD_BUFFER_START, KeyboardServices.KBD_BUFFER_DEFAULT_START);
        bda.writeWord(Bda.KBD_BUFFER_END, KeyboardServices.KBD_BUFFER_DEFAULT_END);
        bda.writeByte(Bda.KBD_FLAG2, KBD_FLAG2_101_KEYS);
        bda.writeByte(Bda.HARD_DISK_COUNT, disks.size());
    }

    private void writeEbda() {
        memory.write(Ebda.BASE, new byte[Ebda.SIZE_KB * 1024], 0, Ebda.SIZE_KB * 1024);
        memory.writeByte(Ebda.BASE, Ebda.SIZE_KB);
        for (int i = 0; i < Math.min(2, disks.size()); i++) {
            byte[] fdpt = fdpt(disks.get(i).geometry());
            memory.write(Ebda.BASE + (i == 0 ? Ebda.FDPT_DISK0 : Ebda.FDPT_DISK1), fdpt, 0, fdpt.length);
        }
    }

    /** The 16-byte fixed disk parameter table (int13.md §5.7), translated form when LCHS ≠ PCHS. */
    static byte[] fdpt(DiskGeometry g) {
        Chs l = g.logical();
        Chs p = g.physical();
        byte[] t = new byte[Ebda.FDPT_SIZE];
        putWord(t, 0x00, l.cylinders());
        t[0x02] = (byte) l.heads();
        putWord(t, 0x05, FDPT_NO_PRECOMPENSATION);
        t[0x08] = (byte) (FDPT_CONTROL | (p.heads() > 8 ? FDPT_CONTROL_MORE_THAN_8_HEADS : 0));
        putWord(t, 0x0C, p.cylinders());
        t[0x0E] = (byte) l.sectors();
        if (!l.equals(p)) {
            t[0x03] = (byte) FDPT_SIGNATURE;
            t[0x04] = (byte) p.sectors();
            putWord(t, 0x09, p.cylinders());
            t[0x0B] = (byte) p.heads();
            int sum = 0;
            for (int i = 0; i < 15; i++) {
                sum += t[i];
            }
            t[0x0F] = (byte) -sum;
        }
        return t;
    }

    private static void putWord(byte[] b, int offset, int value) {
        b[offset] = (byte) value;
        b[offset + 1] = (byte) (value >>> 8);
    }
}
