package dev.ioemu.bios;

/**
 * Where INT 10h text output goes besides video memory (the serial console, our stdout, a test
 * buffer). Characters are the code page 437 bytes the guest wrote, control codes included.
 */
@FunctionalInterface
public interface ConsoleOutput {
    ConsoleOutput NONE = ch -> { };

    void putChar(int ch);
}
