package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * Port 80h, the POST-code (manufacturing diagnostics) port: firmware writes progress codes, Linux
 * uses it as an I/O delay. Writes are traced ({@code ioport80_write}); reads return 0xFF as QEMU's.
 */
public final class PostCodePort implements PortDevice {
    public static final int PORT = 0x80;
    private volatile int lastCode = -1;

    @Override
    public int read(int offset, int size) {
        return 0xff;
    }

    @Override
    public void write(int offset, int size, int value) {
        lastCode = value & 0xff;
        if (TraceEvent.POST_CODE.enabled) {
            Trace.emit(TraceEvent.POST_CODE, value & 0xff);
        }
    }

    /** The last code written, -1 if none. */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public String name() {
        return "ioport80";
    }
}
