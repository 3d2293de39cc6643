package dev.ioemu.bios;

import static dev.ioemu.bios.DiskStatus.*;

import dev.ioemu.bios.RegisterFile.Segment;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * INT 13h fixed-disk services for DL 80h… (shared/spec/int13.md §1–§4), answering as SeaBIOS's
 * {@code disk_13} does, with the HLE choices the spec makes (IF=1 on return, AH=48h size
 * write-back, the 64-bit flat DAP buffer, partial transfers past the image end,
 * reported with SeaBIOS's 0Ch rather than the spec's 04h so the probe sees its peer's answer).
 *
 * <p>One method per function, one {@link #finish} that sets AH, CF and the status byte at 40:74
 * (40:41 for DL &lt; 80h). Guest buffers are checked against guest RAM before anything moves: a
 * buffer outside RAM is a parameter error (AH=01h) and nothing is written.
 *
 * <p>Threads: runs on the vCPU thread; disk transfers wait there for the drive's queue.
 */
public final class Int13DiskServices implements BiosService {
    /** SeaBIOS rejects any request over 64 KiB (process_op). */
    static final int MAX_TRANSFER_BYTES = 64 * 1024;
    static final int MAX_CHS_COUNT = 128;
    static final int FIRST_HARD_DISK = 0x80;

    private enum Op { READ, WRITE, VERIFY, SEEK }

    /** What one function leaves behind: AH, CF, and the byte stored at 40:74 (-1: leave it). */
    record Completion(int ah, boolean carry, int storedStatus) {
        static Completion ok() {
            return new Completion(DISK_RET_SUCCESS, false, DISK_RET_SUCCESS);
        }

        static Completion fail(int status) {
            return new Completion(status, status != DISK_RET_SUCCESS, status);
        }

        /** AH=15h/41h: AH carries data, CF=0, status byte 00. */
        static Completion dataInAh(int ah) {
            return new Completion(ah, false, DISK_RET_SUCCESS);
        }
    }

    /** Status and sectors actually moved by one transfer. */
    private record Transfer(int status, int done) {
    }

    private final PhysicalMemory memory;
    private final Bda bda;
    private final List<BiosDrive> drives;
    private final byte[] bounce = new byte[MAX_TRANSFER_BYTES];

    /** {@code drives} in IDE index order: the first is 80h. */
    public Int13DiskServices(PhysicalMemory memory, List<BiosDrive> drives) {
        this.memory = memory;
        this.bda = new Bda(memory);
        this.drives = List.copyOf(drives);
    }

    public List<BiosDrive> drives() {
        return drives;
    }

    /** The drive behind INT 13h number {@code dl}, or null. */
    public BiosDrive drive(int dl) {
        int index = dl - FIRST_HARD_DISK;
        return index >= 0 && index < drives.size() ? drives.get(index) : null;
    }

    @Override
    public void serve(BiosCall call) {
        RegisterFile r = call.regs();
        bda.writeByte(Bda.DISK_INTERRUPT_FLAG, 0);
        int dl = r.dl();
        int ah = r.ah();
        BiosDrive d = drive(dl);
        Completion c;
        if (d == null) {
            c = guestError(dl, ah, DISK_RET_EPARAM, GuestError.NO_SUCH_DRIVE, 0, 0, 0);
        } else {
            c = switch (ah) {
                case 0x00 -> ah00Reset();
                case 0x01 -> ah01LastStatus();
                case 0x02 -> chsAccess(call, d, Op.READ);
                case 0x03 -> chsAccess(call, d, Op.WRITE);
                case 0x04 -> chsAccess(call, d, Op.VERIFY);
                case 0x05 -> ah05FormatTrack(r, d);
                case 0x08 -> ah08DriveParameters(r, d);
                case 0x09, 0x0C, 0x0D, 0x11, 0x14 -> legacyNoOp();
                case 0x10 -> ah10TestReady();
                case 0x15 -> ah15DiskType(r, d);
                case 0x41 -> ah41ExtensionsCheck(r);
                case 0x42 -> extendedAccess(call, d, Op.READ);
                case 0x43 -> extendedAccess(call, d, Op.WRITE);
                case 0x44 -> extendedAccess(call, d, Op.VERIFY);
                case 0x45 -> ah45LockUnlock();
                case 0x46 -> ah46Eject(dl);
                case 0x47 -> extendedAccess(call, d, Op.SEEK);
                case 0x48 -> ah48ExtendedParameters(call, d);
                case 0x49 -> ah49MediaChange();
                case 0x4E -> ah4eHardwareConfiguration(r);
                default -> guestError(dl, ah, DISK_RET_EPARAM, GuestError.UNSUPPORTED_FUNCTION, 0, 0, 0);
            };
        }
        finish(call, dl, c);
    }

    private void finish(BiosCall call, int dl, Completion c) {
        call.regs().setAh(c.ah());
        call.setCarry(c.carry());
        if (c.storedStatus() >= 0) {
            bda.writeByte(dl < FIRST_HARD_DISK ? Bda.FLOPPY_LAST_STATUS : Bda.DISK_LAST_STATUS, c.storedStatus());
        }
        call.enableInterruptsOnReturn();
    }

    /** What was wrong with a guest's request, for the trace: formatted only when tracing is on. */
    enum GuestError {
        NO_SUCH_DRIVE("no such drive"),
        UNSUPPORTED_FUNCTION("unsupported function"),
        BAD_COUNT_OR_SECTOR("count %d sector %d"),
        CHS_OUTSIDE_GEOMETRY("CHS %d/%d/%d outside the geometry"),
        FORMAT_OUTSIDE_GEOMETRY("format cylinder %d head %d count %d outside the geometry"),
        PACKET_OUTSIDE_RAM("packet at 0x%x outside RAM"),
        LBA_BEYOND_END("LBA %d beyond %d sectors"),
        BUFFER_OUTSIDE_RAM("buffer 0x%x+%d outside RAM"),
        RESULT_BUFFER_TOO_SMALL("result buffer size %d"),
        RESULT_BUFFER_OUTSIDE_RAM("result buffer at 0x%x outside RAM"),
        EJECT_FIXED_DISK("eject of a fixed disk"),
        HARDWARE_CONFIGURATION("hardware configuration AL %d");

        final String format;

        GuestError(String format) {
            this.format = format;
        }
    }

    private static Completion guestError(int dl, int ah, int status, GuestError what, long a, long b, long c) {
        if (TraceEvent.INT13_GUEST_ERROR.enabled) {
            String why = what == GuestError.LBA_BEYOND_END
                    ? String.format(what.format.replace("%d beyond", "%s beyond"), Long.toUnsignedString(a), b)
                    : String.format(what.format, a, b, c);
            Trace.emit(TraceEvent.INT13_GUEST_ERROR, dl, ah, status, why);
        }
        return Completion.fail(status);
    }

    // ---- functions ----

    /** The guest resets the controller (boot sectors do at entry and after failed reads). */
    private Completion ah00Reset() {
        return Completion.ok();
    }

    /** SeaBIOS returns the stored status and leaves it in place. */
    private Completion ah01LastStatus() {
        int last = bda.readByte(Bda.DISK_LAST_STATUS);
        return new Completion(last, last != 0, -1);
    }

    /** AH=02h/03h/04h: CL bits 7–6 are cylinder bits 9–8; DH is the head, used whole. */
    private Completion chsAccess(BiosCall call, BiosDrive d, Op op) {
        RegisterFile r = call.regs();
        int count = r.al();
        int cylinder = r.ch() | ((r.cl() & 0xC0) << 2);
        int sector = r.cl() & 0x3F;
        int head = r.dh();
        if (count == 0 || count > MAX_CHS_COUNT || sector == 0) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.BAD_COUNT_OR_SECTOR, count, sector, 0);
        }
        Chs l = d.geometry().logical();
        if (cylinder >= l.cylinders() || head >= l.heads() || sector > l.sectors()) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.CHS_OUTSIDE_GEOMETRY, cylinder, head, sector);
        }
        long lba = ((long) cylinder * l.heads() + head) * l.sectors() + sector - 1;
        Transfer t = transfer(call, d, op, lba, count, r.linear(Segment.ES, r.bx()));
        r.setAl(t.done());
        return Completion.fail(t.status());
    }

    /**
     * SeaBIOS validates (8-bit cylinder, AL as the sector count) and formats nothing, as Bochs
     * (int13.md §3.4). Nothing on the disk changes, so firmware-writes owes no flush here: the
     * disk-changing calls are AH=03h and 43h only (0Bh write long fails 01h in both peers).
     */
    private Completion ah05FormatTrack(RegisterFile r, BiosDrive d) {
        Chs l = d.geometry().logical();
        int count = r.al();
        if (r.ch() >= l.cylinders() || r.dh() >= l.heads() || count == 0 || count > l.sectors()) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.FORMAT_OUTSIDE_GEOMETRY, r.ch(), r.dh(), count);
        }
        return Completion.ok();
    }

    /** Maximum cylinder LC−2 (SeaBIOS reserves the last), max head, sectors, and the disk count from 40:75. */
    private Completion ah08DriveParameters(RegisterFile r, BiosDrive d) {
        Chs l = d.geometry().logical();
        int maxCylinder = (l.cylinders() - 2) & 0xFFFF;
        r.setAl(0);
        r.setCh(maxCylinder & 0xFF);
        r.setCl(((maxCylinder >> 2) & 0xC0) | (l.sectors() & 0x3F));
        r.setDh(l.heads() - 1);
        r.setDl(bda.readByte(Bda.HARD_DISK_COUNT));
        return Completion.ok();
    }

    /** AH=09h/0Ch/0Dh/11h/14h: stubs that succeed, as in SeaBIOS. */
    private Completion legacyNoOp() {
        return Completion.ok();
    }

    /** The emulated drive is always ready. */
    private Completion ah10TestReady() {
        return Completion.ok();
    }

    /** AH=03h "fixed disk", CX:DX = (LC−1) × LH × LS as SeaBIOS counts. */
    private Completion ah15DiskType(RegisterFile r, BiosDrive d) {
        Chs l = d.geometry().logical();
        long sectors = ((long) (l.cylinders() - 1) * l.heads() * l.sectors()) & 0xFFFF_FFFFL;
        r.setCx((int) (sectors >>> 16));
        r.setDx((int) sectors);
        return Completion.dataInAh(DASD_FIXED_DISK);
    }

    /** EDD 3.0 with the 64-bit DAP bit; like SeaBIOS, BX=55AAh on entry is not checked. */
    private Completion ah41ExtensionsCheck(RegisterFile r) {
        r.setBx(0xAA55);
        r.setCx(EDD_API_BITMAP);
        return Completion.dataInAh(EDD_VERSION_30);
    }

    /** SeaBIOS's extended_access: LBA check, count 0 is a no-op, the count written back. */
    private Completion extendedAccess(BiosCall call, BiosDrive d, Op op) {
        RegisterFile r = call.regs();
        long packet = r.linear(Segment.DS, r.si());
        if (!call.isRam(packet, DiskAddressPacket.LENGTH)) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.PACKET_OUTSIDE_RAM, packet, 0, 0);
        }
        DiskAddressPacket dap = DiskAddressPacket.read(memory, packet);
        if (Long.compareUnsigned(dap.lba(), d.totalSectors()) >= 0) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.LBA_BEYOND_END, dap.lba(), d.totalSectors(), 0);
        }
        if (dap.count() == 0) {
            return Completion.ok();
        }
        Transfer t = transfer(call, d, op, dap.lba(), dap.count(), dap.bufferAddress());
        memory.writeWord(packet + DiskAddressPacket.COUNT_OFFSET, t.done());
        return Completion.fail(t.status());
    }

    /** Always success for a hard disk (only CD-ROMs keep a lock count). */
    private Completion ah45LockUnlock() {
        return Completion.ok();
    }

    private Completion ah46Eject(int dl) {
        return guestError(dl, 0x46, DISK_RET_ENOTREMOVABLE, GuestError.EJECT_FIXED_DISK, 0, 0, 0);
    }

    /** The result buffer sized by the caller's size word (int13.md §3.11.4). */
    private Completion ah48ExtendedParameters(BiosCall call, BiosDrive d) {
        RegisterFile r = call.regs();
        long buffer = r.linear(Segment.DS, r.si());
        if (!call.isRam(buffer, 2)) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.RESULT_BUFFER_OUTSIDE_RAM, buffer, 0, 0);
        }
        int size = memory.readWord(buffer);
        if (size < EddParameters.SIZE_V1) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.RESULT_BUFFER_TOO_SMALL, size, 0, 0);
        }
        int returned = EddParameters.returnedSize(size);
        if (!call.isRam(buffer, returned)) {
            return guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.RESULT_BUFFER_OUTSIDE_RAM, buffer, 0, 0);
        }
        int dptePointer = (Ebda.SEGMENT << 16) | Ebda.DPTE;
        if (returned >= EddParameters.SIZE_V2) {
            byte[] dpte = EddParameters.dpte(d);
            memory.write(Ebda.BASE + Ebda.DPTE, dpte, 0, dpte.length);
        }
        byte[] result = EddParameters.resultBuffer(d, returned, dptePointer);
        memory.write(buffer, result, 0, result.length);
        return Completion.ok();
    }

    /** A fixed disk never changes. */
    private Completion ah49MediaChange() {
        return Completion.ok();
    }

    /** AL = 01h, 03h, 04h, 06h succeed (prefetch/PIO/DMA settings mean nothing here); others fail. */
    private Completion ah4eHardwareConfiguration(RegisterFile r) {
        return switch (r.al()) {
            case 0x01, 0x03, 0x04, 0x06 -> Completion.ok();
            default -> guestError(r.dl(), r.ah(), DISK_RET_EPARAM, GuestError.HARDWARE_CONFIGURATION, r.al(), 0, 0);
        };
    }

    // ---- the data path ----

    /**
     * Moves {@code count} sectors between the drive and linear {@code buffer}. Over 64 KiB is
     * refused (09h, nothing done); a buffer that is not wholly guest RAM is refused (01h); a run
     * past the end of the image moves the sectors that exist and reports 0Ch, as SeaBIOS does.
     */
    private Transfer transfer(BiosCall call, BiosDrive d, Op op, long lba, int count, long buffer) {
        int dl = call.regs().dl();
        int ah = call.regs().ah();
        Transfer t = doTransfer(call, d, op, lba, count, buffer);
        if (TraceEvent.INT13_DISK_OP.enabled) {
            Trace.emit(TraceEvent.INT13_DISK_OP, dl, ah, lba, count, buffer, t.status(), t.done());
        }
        return t;
    }

    private Transfer doTransfer(BiosCall call, BiosDrive d, Op op, long lba, int count, long buffer) {
        if ((long) count * BiosDrive.SECTOR_SIZE > MAX_TRANSFER_BYTES) {
            return new Transfer(DISK_RET_EBOUNDARY, 0);
        }
        if (op == Op.VERIFY || op == Op.SEEK) {
            return new Transfer(DISK_RET_SUCCESS, count);
        }
        int bytes = count * BiosDrive.SECTOR_SIZE;
        if (!call.isRam(buffer, bytes)) {
            guestError(call.regs().dl(), call.regs().ah(), DISK_RET_EPARAM, GuestError.BUFFER_OUTSIDE_RAM, buffer, bytes, 0);
            return new Transfer(DISK_RET_EPARAM, 0);
        }
        if (op == Op.WRITE && d.isReadOnly()) {
            return new Transfer(DISK_RET_EWRITEPROTECT, 0);
        }
        long available = Math.max(0, d.totalSectors() - lba);
        int inRange = (int) Math.min(count, available);
        if (inRange > 0) {
            int length = inRange * BiosDrive.SECTOR_SIZE;
            ByteBuffer window = ByteBuffer.wrap(bounce, 0, length);
            int result;
            if (op == Op.READ) {
                result = d.read(lba, window);
                if (result == length) {
                    memory.write(buffer, bounce, 0, length);
                }
            } else {
                memory.read(buffer, bounce, 0, length);
                result = d.write(lba, window);
            }
            if (result != length) {
                int errno = result < 0 ? -result : Errno.EIO;
                int status = statusForError(errno, op == Op.WRITE);
                if (TraceEvent.INT13_IO_ERROR.enabled) {
                    Trace.emit(TraceEvent.INT13_IO_ERROR, call.regs().dl(), op.name(), lba, errno, status);
                }
                return new Transfer(status, 0);
            }
        }
        if (inRange < count) {
            // The guest asked for more than the disk holds: the sectors before the end have
            // moved; the status is SeaBIOS's answer to QEMU's aborted command, 0Ch.
            return new Transfer(DISK_RET_EBADTRACK, inRange);
        }
        return new Transfer(DISK_RET_SUCCESS, count);
    }

    /** The one mapping from a backend errno to an INT 13h status (int13.md §2.3, "HLE use"). */
    static int statusForError(int errno, boolean write) {
        if (errno == Errno.EROFS || errno == Errno.EACCES || errno == Errno.EPERM) {
            return write ? DISK_RET_EWRITEPROTECT : DISK_RET_ECONTROLLER;
        }
        if (errno == Errno.EIO || errno == Errno.ENOSPC) {
            return write ? DISK_RET_EWRITEFAULT : DISK_RET_EUNCORRECTABLE;
        }
        if (errno == Errno.EINVAL) {
            return DISK_RET_ESECTORNOTFOUND;
        }
        return DISK_RET_ECONTROLLER;
    }
}
