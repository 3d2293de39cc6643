package dev.ioemu.emulator;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/**
 * {@link StartupWarmUp} names two classes by string (one is package-private in the CPU module);
 * a rename would silently turn the warm-up into nothing, so the names are checked here.
 */
class StartupWarmUpTest {
    @Test
    void theClassesItInitialisesByNameExist() {
        for (String name : new String[] {StartupWarmUp.OPCODE_TABLE, StartupWarmUp.DIRECT_BUFFER_ADDRESSES}) {
            assertDoesNotThrow(() -> Class.forName(name, false, StartupWarmUp.class.getClassLoader()), name);
        }
    }
}
