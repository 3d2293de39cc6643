package dev.ioemu.emulator.chardev;

import dev.ioemu.devices.chardev.ChardevBackend;
import dev.ioemu.devices.chardev.ChardevEndpoint;
import dev.ioemu.emulator.cli.ChardevSpec;

import java.io.IOException;
import java.nio.file.Path;

/** The command line's chardev options ({@link ChardevSpec}) as the devices' {@link ChardevBackend}s. */
public final class Chardevs {
    private Chardevs() {
    }

    public static ChardevBackend backend(ChardevSpec spec) {
        return switch (spec.kind()) {
            case STDIO -> new ChardevBackend.Stdio();
            case NULL -> new ChardevBackend.Null();
            case UNIX -> new ChardevBackend.UnixSocket(Path.of(spec.path()), spec.server());
            case TCP -> new ChardevBackend.TcpSocket(spec.host(), spec.port(), spec.server());
        };
    }

    /** Opens {@code spec}'s backend; a client socket connects here ("Failed to connect to 'PATH'"). */
    public static ChardevEndpoint open(ChardevSpec spec) throws IOException {
        return backend(spec).open();
    }
}
