package dev.ioemu.devices.bus;

/**
 * A device QEMU registers as an ISA "port list" (IDE command and control blocks, DMA page
 * registers): it receives an access whole, at any offset and of any width up to 4 bytes, even
 * when the access runs past the end of its range, and answers it as QEMU's port-list dispatcher
 * does (a 16-bit access to 8-bit registers is two byte accesses within the same entry, 0xff
 * beyond it; a 32-bit access with no 32-bit register reads all-ones). Observed on QEMU 7.2:
 * {@code inl 0x1f6} = 0xffffffff, {@code inw 0x3f6} = 0xff50 (alternate status 0x50).
 *
 * <p>Other devices get accesses cut by the alignment of their offset, as QEMU's memory core cuts
 * them for ordinary regions (see {@link IoPortBus#read}).
 */
public interface PortListDevice extends PortDevice {
}
