package dev.ioemu.emulator.machine;

/** QEMU's RunState values that ioemu can be in, with their QMP spelling. */
public enum RunState {
    /** Started with {@code -S}, never continued. */
    PRELAUNCH("prelaunch", false),
    RUNNING("running", true),
    /** Stopped by QMP {@code stop}. */
    PAUSED("paused", false),
    /** Stopped by a device on an I/O error with {@code werror/rerror=stop}. */
    IO_ERROR("io-error", false),
    SHUTDOWN("shutdown", false);

    public final String qmpName;
    public final boolean running;

    RunState(String qmpName, boolean running) {
        this.qmpName = qmpName;
        this.running = running;
    }
}
