package dev.ioemu.emulator.cli;

import java.util.Map;

/**
 * One {@code -drive} (or {@code -hda}/{@code -cdrom}) as written: the raw key/value map is kept
 * whole so the block layer ({@code DriveOptions.fromMap}) sees every block key, including the
 * fault-injection keys, while the front end reads only the keys it owns (if, index, id, media,
 * werror, rerror). Front-end keys are validated here; block keys are validated by the block layer
 * when the machine opens the drive.
 *
 * @param options the options in command-line order
 * @param source  how the user wrote it, for messages: "-drive file=a.img,if=ide"
 */
public record DriveSpec(Map<String, String> options, String source) {
    public enum Interface { IDE, NONE }

    public enum Media { DISK, CDROM }

    public Interface iface() {
        return "none".equals(options.get("if")) ? Interface.NONE : Interface.IDE;
    }

    /** Index 0..3 (0 = primary master … 3 = secondary slave), or -1 if not given. */
    public int index() {
        String i = options.get("index");
        return i == null ? -1 : Integer.parseInt(i);
    }

    public String id() {
        return options.get("id");
    }

    public Media media() {
        return "cdrom".equals(options.get("media")) ? Media.CDROM : Media.DISK;
    }

    public String file() {
        return options.get("file");
    }

    /** QEMU's werror default is enospc, rerror's is report. */
    public String werror() {
        return options.getOrDefault("werror", "enospc");
    }

    public String rerror() {
        return options.getOrDefault("rerror", "report");
    }
}
