package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.function.IntConsumer;

/**
 * QEMU's {@code isa-debug-exit} ({@code iobase}, {@code iosize}): a write of v ends the emulator
 * with exit status (v &lt;&lt; 1) | 1, so a test guest reports its result and status 0 can never
 * mean "the guest said so". Reads return 0.
 */
public final class IsaDebugExit implements PortDevice {
    public static final int DEFAULT_IOBASE = 0x501;
    public static final int DEFAULT_IOSIZE = 2;

    private final IntConsumer exitRequest;

    /** @param exitRequest receives the exit status; the machine shuts down and exits with it */
    public IsaDebugExit(IntConsumer exitRequest) {
        this.exitRequest = exitRequest;
    }

    /** The exit status for a written value (QEMU: {@code (val << 1) | 1} in an int). */
    public static int exitStatus(int value) {
        return (value << 1) | 1;
    }

    @Override
    public int read(int offset, int size) {
        return 0;
    }

    @Override
    public void write(int offset, int size, int value) {
        int status = exitStatus(value);
        if (TraceEvent.DEBUG_EXIT_REQUEST.enabled) {
            Trace.emit(TraceEvent.DEBUG_EXIT_REQUEST, value, status);
        }
        exitRequest.accept(status);
    }

    @Override
    public String name() {
        return "isa-debug-exit";
    }
}
