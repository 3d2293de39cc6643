package dev.ioemu.tools.trace;

import dev.ioemu.devices.ide.Ata;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * ATA command names for opcodes, from {@link Ata}'s {@code CMD_*} constants (the one list of
 * opcodes), for QEMU traces, whose {@code ide_exec_cmd} logs only the opcode.
 */
final class AtaNames {
    private static final String[] NAMES = new String[256];

    static {
        for (Field f : Ata.class.getFields()) {
            if (f.getName().startsWith("CMD_") && f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                try {
                    int op = f.getInt(null);
                    if (op >= 0 && op < 256 && NAMES[op] == null) {
                        NAMES[op] = f.getName().substring(4);
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("Ata." + f.getName() + " is public but not readable", e);
                }
            }
        }
    }

    private AtaNames() {
    }

    /** {@code READ_DMA} for 0xC8; {@code unknown} for an opcode ATA does not define here. */
    static String of(long opcode) {
        String n = opcode >= 0 && opcode < 256 ? NAMES[(int) opcode] : null;
        return n == null ? "unknown" : n;
    }

    static boolean isFlush(long opcode) {
        return opcode == Ata.CMD_FLUSH_CACHE || opcode == Ata.CMD_FLUSH_CACHE_EXT;
    }
}
