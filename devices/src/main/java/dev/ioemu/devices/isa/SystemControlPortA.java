package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

/**
 * Port 92h, the PIIX "port 92" (system control port A, PS/2 fast A20): bit 1 ALT_A20 drives the
 * {@link A20Gate}, bit 0 ALT_RST requests a system reset on its 0 to 1 transition and reads 0.
 * Bits 7-2 read back what was written. Power-on value 0, as QEMU reads it.
 */
public final class SystemControlPortA implements PortDevice {
    public static final int PORT = 0x92;
    public static final int ALT_RST = 0x01;
    public static final int ALT_A20 = 0x02;

    private final A20Gate a20;
    private final Runnable resetRequest;
    private int value;

    public SystemControlPortA(A20Gate a20, Runnable resetRequest) {
        this.a20 = a20;
        this.resetRequest = resetRequest;
    }

    public synchronized void reset() {
        value = 0;
        a20.setPort92(false);
    }

    @Override
    public synchronized int read(int offset, int size) {
        return ByteRegisters.read(o -> value, offset, size);
    }

    @Override
    public void write(int offset, int size, int v) {
        ByteRegisters.write((o, b) -> writeByte(b), offset, size, v);
    }

    private void writeByte(int v) {
        boolean reset;
        synchronized (this) {
            int old = value;
            value = v & ~ALT_RST & 0xff;   // ALT_RST is a pulse and reads 0; the other bits read back (QEMU)
            reset = (v & ALT_RST) != 0 && (old & ALT_RST) == 0;
            a20.setPort92((v & ALT_A20) != 0);
        }
        if (reset) {
            if (TraceEvent.SYSTEM_RESET_REQUEST.enabled) {
                Trace.emit(TraceEvent.SYSTEM_RESET_REQUEST, "port92");
            }
            resetRequest.run();
        }
    }

    @Override
    public String name() {
        return "port92";
    }
}
