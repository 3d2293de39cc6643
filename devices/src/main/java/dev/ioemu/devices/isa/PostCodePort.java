package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.MemorySpan;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.bus.PortListDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * Port 80h, the POST-code (manufacturing diagnostics) port: firmware writes progress codes, Linux
 * uses it as an I/O delay. It sits in front of the DMA page registers, which own the 80h-8Fh block
 * on the bus: every byte written to 80h is traced ({@code ioport80_write}) and remembered, and the
 * access then goes on to the page registers, which answer 80h with 0xFF as QEMU does.
 */
public final class PostCodePort implements PortListDevice {
    public static final int PORT = 0x80;

    private final PortDevice pageRegisters;
    private volatile int lastCode = -1;

    /** @param pageRegisters the device mapped at 80h-8Fh behind this one */
    public PostCodePort(PortDevice pageRegisters) {
        this.pageRegisters = pageRegisters;
    }

    @Override
    public int read(int offset, int size) {
        return pageRegisters.read(offset, size);
    }

    @Override
    public void write(int offset, int size, int value) {
        if (offset == 0) {
            int code = value & 0xff;
            lastCode = code;
            if (TraceEvent.POST_CODE.enabled) {
                Trace.emit(TraceEvent.POST_CODE, code);
            }
        }
        pageRegisters.write(offset, size, value);
    }

    @Override
    public int writeString(int offset, int size, int count, MemorySpan src) {
        for (int i = 0; i < count; i++) {
            write(offset, size, src.getLittleEndian(i * size, size));
        }
        return count;
    }

    /** The last code written, -1 if none. */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public String name() {
        return pageRegisters.name();
    }
}
