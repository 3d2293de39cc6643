package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.MemorySpan;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One unit's PIO data phase (shared/spec/ide.md §7): the I/O buffer, the window of it the
 * current DRQ block exposes, the data-port accesses that move through it, and what the end of
 * the block leads to ({@link Next}, QEMU's {@code end_transfer_func}). The DRQ bit lives in the
 * unit's status register; the unit decides what a finished block means
 * ({@link IdeDevice#endOfBlock}).
 *
 * <p>Guarded by the controller lock, like the unit that owns it.
 */
final class PioTransfer {
    /** What the end of the current DRQ block leads to. */
    enum Next {
        /** No transfer, or a one-block transfer (IDENTIFY, SMART) that simply ends. Device to host. */
        STOP(true),
        /** READ SECTORS / MULTIPLE: fetch the next block. Device to host. */
        SECTOR_READ(true),
        /** WRITE SECTORS / MULTIPLE: write the block the guest just supplied. Host to device. */
        SECTOR_WRITE(false),
        /** PACKET: the 12-byte command packet. Host to device. */
        ATAPI_PACKET(false),
        /** One elementary transfer of an ATAPI reply (BCL-sized chunk). Device to host. */
        ATAPI_REPLY(true);

        final boolean deviceToHost;

        Next(boolean deviceToHost) {
            this.deviceToHost = deviceToHost;
        }
    }

    private final IdeDevice device;
    private ByteBuffer io;
    private int dataPtr;
    private int dataEnd;
    private Next next = Next.STOP;

    PioTransfer(IdeDevice device, int bufferSize) {
        this.device = device;
        this.io = allocate(bufferSize);
    }

    private static ByteBuffer allocate(int size) {
        return ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A larger buffer for an ATAPI unit (set-up only). */
    void resizeBuffer(int size) {
        io = allocate(size);
    }

    /** The data buffer (direct, page aligned): block requests read and write it in place. */
    ByteBuffer buffer() {
        return io;
    }

    /** Opens a DRQ block on [start, start+length) of the buffer. DRQ is never set with ERR. */
    void start(int start, int length, Next then) {
        dataPtr = start;
        dataEnd = start + length;
        next = then;
        if ((device.regs.status & Ata.STATUS_ERR) == 0) {
            device.regs.status |= Ata.STATUS_DRQ;
        }
    }

    /** Halts any PIO transfer: DRQ off, nothing left to move. */
    void halt() {
        next = Next.STOP;
        dataPtr = 0;
        dataEnd = 0;
        device.regs.status &= ~Ata.STATUS_DRQ;
    }

    /** The guest moved the last byte of a DRQ block. */
    private void endOfBlock() {
        device.regs.status &= ~Ata.STATUS_DRQ;
        Next finished = next;
        if (finished == Next.ATAPI_PACKET) {
            next = Next.STOP;   // the packet is in; the command decides what comes next
        }
        device.endOfBlock(finished);
    }

    private boolean readAllowed() {
        return (device.regs.status & Ata.STATUS_DRQ) != 0 && next.deviceToHost;
    }

    private boolean writeAllowed() {
        return (device.regs.status & Ata.STATUS_DRQ) != 0 && !next.deviceToHost;
    }

    /**
     * A data-port read of {@code size} bytes (§1.3). 8-bit reads consume a word and return its
     * low byte (QEMU keeps this for an old Solaris loader); a 32-bit read with fewer than 4 bytes
     * left returns 0 without advancing.
     */
    int readData(int size) {
        int width = size == 4 ? 4 : 2;
        if (!readAllowed() || dataPtr + width > dataEnd) {
            return 0;
        }
        int value = width == 4 ? io.getInt(dataPtr) : io.getShort(dataPtr) & 0xFFFF;
        dataPtr += width;
        if (dataPtr >= dataEnd) {
            endOfBlock();
        }
        return size == 1 ? value & 0xFF : value;
    }

    /** A data-port write (16 or 32 bits; 8-bit writes never reach here). */
    void writeData(int size, int value) {
        if (!writeAllowed() || dataPtr + size > dataEnd) {
            return;
        }
        if (size == 4) {
            io.putInt(dataPtr, value);
        } else {
            io.putShort(dataPtr, (short) value);
        }
        dataPtr += size;
        if (dataPtr >= dataEnd) {
            endOfBlock();
        }
    }

    /**
     * {@code rep insw/insd}: copies whole items from the DRQ block straight into guest memory.
     * Stops when DRQ drops and the next block is not immediately available (the guest then
     * waits for the IRQ, as its driver would).
     */
    int readDataString(int size, int count, MemorySpan dst) {
        int done = 0;
        ByteBuffer target = dst.buffer();
        while (done < count && readAllowed()) {
            int items = Math.min(count - done, (dataEnd - dataPtr) / size);
            if (items == 0) {
                break;
            }
            int bytes = items * size;
            target.put(done * size, io, dataPtr, bytes);
            dataPtr += bytes;
            done += items;
            if (dataPtr >= dataEnd) {
                endOfBlock();
            }
        }
        return done;
    }

    /** {@code rep outsw/outsd}: the inverse of {@link #readDataString}. */
    int writeDataString(int size, int count, MemorySpan src) {
        int done = 0;
        ByteBuffer source = src.buffer();
        while (done < count && writeAllowed()) {
            int items = Math.min(count - done, (dataEnd - dataPtr) / size);
            if (items == 0) {
                break;
            }
            int bytes = items * size;
            io.put(dataPtr, source, done * size, bytes);
            dataPtr += bytes;
            done += items;
            if (dataPtr >= dataEnd) {
                endOfBlock();
            }
        }
        return done;
    }
}
