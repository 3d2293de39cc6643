package dev.ioemu.emulator.chardev;

import dev.ioemu.devices.chardev.ChardevBackend;
import dev.ioemu.emulator.cli.ChardevSpec;
import dev.ioemu.emulator.cli.PlatformOptions;

import java.nio.file.Path;

/**
 * The command line's character-device options as the devices' {@link ChardevBackend}s: the one
 * translation from what the user wrote ({@code -qtest}, {@code -qmp}/{@code -mon},
 * {@code -chardev}, {@code -serial}, {@code -debugcon}) to the backends in
 * {@code dev.ioemu.devices.chardev}, which do all opening, reading and writing.
 */
public final class Chardevs {
    private Chardevs() {
    }

    /** A {@code -qtest}/{@code -qmp}/{@code -chardev socket|stdio|null} spec. */
    public static ChardevBackend backend(ChardevSpec spec) {
        return switch (spec.kind()) {
            case STDIO -> new ChardevBackend.Stdio();
            case NULL -> new ChardevBackend.Null();
            case UNIX -> new ChardevBackend.UnixSocket(Path.of(spec.path()), spec.server());
            case TCP -> new ChardevBackend.TcpSocket(spec.host(), spec.port(), spec.server());
        };
    }

    /**
     * A console target of {@code -serial}, {@code -debugcon} or an isa-debugcon's
     * {@code -chardev file|stdio|null}; a file is created or truncated, as QEMU's.
     */
    public static ChardevBackend backend(PlatformOptions.CharTarget target) {
        return switch (target.kind()) {
            case STDIO -> new ChardevBackend.Stdio();
            case NULL -> new ChardevBackend.Null();
            case FILE -> new ChardevBackend.File(target.file(), null, false);
        };
    }

    /** How the user spelled {@code target}, for messages: {@code stdio}, {@code null}, {@code file:PATH}. */
    public static String spelling(PlatformOptions.CharTarget target) {
        return switch (target.kind()) {
            case STDIO -> "stdio";
            case NULL -> "null";
            case FILE -> "file:" + target.file();
        };
    }
}
