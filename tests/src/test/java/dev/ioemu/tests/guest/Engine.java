package dev.ioemu.tests.guest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Who runs a guest workload: the peer (QEMU 7.2 TCG + SeaBIOS) or ioemu's software engine. */
enum Engine {
    QEMU {
        @Override
        void assumeAvailable(Path dir) {
            GuestKit.assumeCommands("qemu-system-x86_64");
            GuestKit.assumeFiles("Debian package seabios", "/usr/share/seabios/bios-256k.bin");
        }

        @Override
        List<String> command(Path image, Path debugcon, Path serial, Path dir) {
            return GuestKit.qemu(image, debugcon, dir.resolve("seabios.log"), "-serial", "file:" + serial);
        }
    },
    IOEMU_SOFT {
        @Override
        void assumeAvailable(Path dir) throws IOException, InterruptedException {
            GuestKit.assumeIoemuSoftEngine(dir);
        }

        @Override
        List<String> command(Path image, Path debugcon, Path serial, Path dir) {
            return GuestKit.ioemuSoft(image, debugcon, "-serial", "file:" + serial);
        }
    };

    abstract void assumeAvailable(Path dir) throws IOException, InterruptedException;

    /** The command line that boots {@code image} with COM1 to {@code serial} and 0xE9 to {@code debugcon}. */
    abstract List<String> command(Path image, Path debugcon, Path serial, Path dir);

    List<String> commandWith(Path image, Path debugcon, Path serial, Path dir, String... extra) {
        List<String> c = new ArrayList<>(command(image, debugcon, serial, dir));
        c.addAll(List.of(extra));
        return c;
    }
}
