package dev.ioemu.emulator.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The C library's wording for a host I/O error ("No such file or directory"), which is what QEMU
 * prints; Java's exceptions carry the path, or a class name, instead of the reason.
 */
public final class HostErrorText {
    private HostErrorText() {
    }

    /** The reason {@code e} happened, without the path and without a Java class name. */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "Not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "File exists";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isEmpty() ? "Input/output error" : m;
    }
}
