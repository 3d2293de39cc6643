package dev.ioemu.emulator.machine;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@code -bios} image (e.g. Debian's SeaBIOS bios-256k.bin): as QEMU 7.2 requires, a non-zero
 * multiple of 64 KiB (shared/spec/seabios.md §3); ioemu takes at most 256 KiB, the size of the
 * area below 1 MiB it shadows.
 */
public record FirmwareImage(Path file, byte[] bytes) {
    public static final int GRANULE = 64 * 1024;
    public static final int MAX_SIZE = 256 * 1024;

    public FirmwareImage {
        if (bytes.length == 0 || bytes.length > MAX_SIZE || bytes.length % GRANULE != 0) {
            throw new IllegalArgumentException("-bios " + file + ": " + bytes.length
                    + " bytes (expected: 64, 128, 192 or 256 KiB)");
        }
    }

    /** Reads {@code file}; a missing file or a wrong size is a one-line error naming {@code -bios}. */
    public static FirmwareImage load(Path file) throws MachineSetupException {
        byte[] image;
        try {
            image = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new MachineSetupException("-bios " + file + ": could not load: " + e.getMessage(), e);
        }
        try {
            return new FirmwareImage(file, image);
        } catch (IllegalArgumentException e) {
            throw new MachineSetupException(e.getMessage(), e);
        }
    }

    public int size() {
        return bytes.length;
    }
}
