package dev.ioemu.devices.ide;

/**
 * The command-block registers by offset, with the names QEMU's traces use
 * (shared/spec/ide.md §1.2).
 */
enum AtaRegister {
    DATA("Data", "Data"),
    ERROR("Error", "Features"),
    SECTOR_COUNT("Sector Count", "Sector Count"),
    SECTOR_NUMBER("Sector Number", "Sector Number"),
    CYLINDER_LOW("Cylinder Low", "Cylinder Low"),
    CYLINDER_HIGH("Cylinder High", "Cylinder High"),
    DEVICE("Device/Head", "Device/Head"),
    STATUS("Status", "Command");

    private static final AtaRegister[] BY_OFFSET = values();

    final String readName;
    final String writeName;

    AtaRegister(String readName, String writeName) {
        this.readName = readName;
        this.writeName = writeName;
    }

    static AtaRegister at(int offset) {
        return BY_OFFSET[offset & 7];
    }
}
