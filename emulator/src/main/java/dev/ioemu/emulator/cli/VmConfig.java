package dev.ioemu.emulator.cli;

import dev.ioemu.emulator.debug.DebugLogOptions;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything the command line asked for, validated as far as the front end can (block keys are
 * checked by the block layer when drives open).
 *
 * @param machineType   "pc" (the only machine)
 * @param accelerator   "qtest", "tcg" or "kvm"
 * @param ramSize       guest RAM in bytes (default 128 MiB)
 * @param startPaused   {@code -S}: QMP status "prelaunch" until {@code cont}
 * @param qtest         the qtest chardev, or null
 * @param qtestLog      the qtest log file; null = stderr (QEMU's default), "none" disables
 * @param monitors      QMP monitors ({@code -qmp}, or {@code -mon chardev=ID,mode=control})
 * @param trace         {@code -trace} patterns (including those read from events= files), {@code -D FILE}
 * @param exitWithParent {@code -run-with exit-with-parent=on}
 * @param rtc           {@code -rtc}: where the guest's RTC starts
 * @param platform      serial and debug consoles, ISA devices, -no-reboot, -bios, -boot
 * @param ideGlobals    {@code -global} defaults by driver ("ide-hd", "ide-cd") and property
 *                      (model, serial, ver); already applied to {@link #ideDevices}, still to be
 *                      applied to disks created from {@code -drive if=ide}
 * @param debugLog      {@code -d}, {@code -dfilter}, {@code -singlestep}: the software CPU's QEMU-style
 *                      logs, written to {@link #traceFile} with the trace events
 */
public record VmConfig(
        String machineType,
        String accelerator,
        long ramSize,
        boolean noDefaults,
        boolean startPaused,
        List<DriveSpec> drives,
        List<IdeDeviceSpec> ideDevices,
        ChardevSpec qtest,
        String qtestLog,
        List<ChardevSpec> monitors,
        TraceOptions trace,
        String name,
        boolean exitWithParent,
        Map<String, Map<String, String>> ideGlobals,
        RtcOption rtc,
        PlatformOptions platform,
        DebugLogOptions debugLog) {

    public static final long DEFAULT_RAM_SIZE = 128L << 20;

    /** The software CPU ({@code -accel tcg}, alias {@code soft}). */
    public boolean softAccelerator() {
        return "tcg".equals(accelerator);
    }

    /** KVM ({@code -accel kvm}, {@code -enable-kvm}, {@code -machine accel=kvm}). */
    public boolean kvmAccelerator() {
        return "kvm".equals(accelerator);
    }

    /** The {@code -trace} patterns, in order. */
    public List<String> tracePatterns() {
        return trace.patternTexts();
    }

    /** The log file ({@code -D FILE}), or null for stderr. */
    public Path logFile() {
        return trace.logFile();
    }

    public boolean qtestAccelerator() {
        return "qtest".equals(accelerator);
    }
}
