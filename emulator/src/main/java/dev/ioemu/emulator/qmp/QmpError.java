package dev.ioemu.emulator.qmp;

/** A QMP error reply: {@code {"error": {"class": CLASS, "desc": DESC}}}, with QEMU's classes. */
final class QmpError extends Exception {
    final String errorClass;

    QmpError(String errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    static QmpError generic(String desc) {
        return new QmpError("GenericError", desc);
    }
}
