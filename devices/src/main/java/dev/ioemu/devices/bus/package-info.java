/**
 * What every engine and device of the machine plugs into.
 *
 * <pre>
 *  CPU engines (software CPU, KVM)  ─┐
 *  DMA engines (bus-master IDE, …)  ─┼─▶ AddressSpace: RAM · ROM · MMIO · unassigned ──▶ RamBlock (mmap)
 *  qtest front end                  ─┘   IoPortBus: PortDevice offsets
 *  devices ──▶ IrqLine ──▶ GpioPins ──▶ listeners (PIC, IOAPIC, KVM irqchip, qtest)
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.ioemu.devices.bus.AddressSpace} — the one guest-physical map (implements
 *       {@link dev.ioemu.devices.bus.PhysicalMemory}): RAM and ROM windows onto
 *       {@link dev.ioemu.devices.bus.RamBlock}s, {@link dev.ioemu.devices.bus.MmioDevice}
 *       registers, unassigned space (reads 0, writes dropped, as QEMU 7.2's pc machine). The
 *       pc layout is {@code emulator.machine.PcMemoryMap}.</li>
 *   <li><b>Direct access to RAM for KVM and a fast CPU path:</b>
 *       {@link dev.ioemu.devices.bus.AddressSpace#memorySlots()} lists every RAM/ROM window as a
 *       {@code MemorySlot(guestAddress, size, hostAddress, buffer, bufferOffset, readOnly)} — at
 *       most 1 GiB each, so one slot is one {@code KVM_SET_USER_MEMORY_REGION} (ROM slots with
 *       {@code KVM_MEM_READONLY}), and {@code buffer} (a little-endian direct ByteBuffer over
 *       the chunk, index {@code bufferOffset} = {@code guestAddress}) is a software CPU's
 *       no-copy window. {@link dev.ioemu.devices.bus.RamBlock#chunks()} gives the same per block.
 *       Host addresses stay valid until the block is closed at process exit.</li>
 *   <li>{@link dev.ioemu.devices.bus.PhysicalMemory#ramSpan} — a zero-copy
 *       {@link dev.ioemu.devices.bus.MemorySpan} for DMA into RAM; null for ROM/MMIO/unassigned
 *       or a range crossing a chunk, where the engine copies through {@code read}/{@code write}.</li>
 *   <li>{@link dev.ioemu.devices.bus.GuestMemory} — RAM alone at address 0, for unit tests and
 *       tools that drive a device without a machine.</li>
 *   <li>{@link dev.ioemu.devices.bus.IoPortBus}, {@link dev.ioemu.devices.bus.PortDevice} — the x86
 *       I/O port space.</li>
 *   <li>{@link dev.ioemu.devices.bus.IrqLine}, {@link dev.ioemu.devices.bus.GpioPins} — interrupt
 *       lines with any number of non-blocking listeners.</li>
 * </ul>
 */
package dev.ioemu.devices.bus;
