/**
 * A guest driver for the PIIX3 IDE controller, as a guest OS writes one: it reaches the
 * controller only through I/O ports, PCI configuration, guest memory and the IRQ lines
 * (shared/spec/ide.md §8.5 is its model, after QEMU's tests/qtest/ide-test.c and SeaBIOS's ATA
 * driver). It lives in {@code devices} main so that the device tests, the benchmarks and demo in
 * {@code tools} and the differential tests in {@code tests} use one driver.
 *
 * <ul>
 *   <li>{@link dev.ioemu.devices.ide.guest.GuestTransport} — what a driver can do to a machine:
 *       port in/out, memory read/write, string I/O, IRQ levels, waiting for progress.
 *       {@link dev.ioemu.devices.ide.guest.InProcessTransport} drives an in-process port bus and
 *       guest RAM; the qtest transport (in {@code tools}) drives an emulator process.</li>
 *   <li>{@link dev.ioemu.devices.ide.guest.PciConfigAccess} — configuration mechanism #1 and I/O
 *       BAR set-up.</li>
 *   <li>{@link dev.ioemu.devices.ide.guest.AtaDriver} — one channel: task file, PIO, bus-master
 *       DMA through a PRD table, FLUSH, SET FEATURES, ATAPI packets.</li>
 * </ul>
 * Register names, bits and opcodes come from {@link dev.ioemu.devices.ide.Ata}.
 */
package dev.ioemu.devices.ide.guest;
