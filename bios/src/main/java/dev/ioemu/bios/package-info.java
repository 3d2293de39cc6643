/**
 * The high-level emulated BIOS (issue 9; shared/spec/int13.md, kvm.md §7): a generated ROM whose
 * stubs trap with {@code OUT 0xE0, AL}, a {@link dev.ioemu.bios.BiosTrapDispatcher} every engine
 * calls with its {@link dev.ioemu.bios.RegisterFile}, POST in Java, INT 13h over the IDE drives'
 * own block queues ({@link dev.ioemu.bios.Int13Disk}), INT 19h/18h, and the INT 10h/11h/12h/15h/
 * 16h/1Ah services boot loaders call. {@link dev.ioemu.bios.Bios} wires it for one machine;
 * bios/BIOS.md says how, and where the answers differ from SeaBIOS on purpose.
 *
 * <p>Threads: everything runs on the vCPU thread inside a trap; INT 13h waits there for its
 * request on the drive's I/O thread. {@link dev.ioemu.bios.ConsoleInput} alone is fed from other
 * threads.
 */
package dev.ioemu.bios;
