/**
 * Bindings to the host's C library and kernel interfaces (Linux x86-64): one interface or
 * constants class per C header, spelled as in C ({@link dev.ioemu.devices.host.LibC} for the
 * calls, {@link dev.ioemu.devices.host.Fcntl}, {@link dev.ioemu.devices.host.Mman},
 * {@link dev.ioemu.devices.host.LinuxFs}, {@link dev.ioemu.devices.host.Statx} and
 * {@link dev.ioemu.devices.host.Errno} for the values). Used by the block layer, guest RAM
 * ({@code devices.bus.RamBlock}) and, later, KVM. Nothing here knows about devices.
 */
package dev.ioemu.devices.host;
