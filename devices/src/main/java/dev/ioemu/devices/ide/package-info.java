/**
 * The PIIX3 IDE controller as QEMU 7.2 models it (shared/spec/ide.md): ATA disks and ATAPI
 * CD-ROMs on two legacy channels, with bus-master DMA.
 *
 * <p>Map of the package:
 * <ul>
 *   <li>{@link dev.ioemu.devices.ide.PiixIde} — the public PCI function 00:01.1: config space,
 *       BAR4, the controller lock, drain/reset/resume (§8.1, §10).</li>
 *   <li>{@code IdeBus} — one channel: ports, register routing to both units, the command gate,
 *       Device Control, SRST, IRQ (§1, §2).</li>
 *   <li>{@code IdeDevice} — one unit: register file ({@code AtaRegisters}), PIO state machine and
 *       the ATA command handlers (§5, §7); {@code AtaCommand} is the command table (§3).</li>
 *   <li>{@code BusMasterDma}, {@code PrdTable}, {@code PrdEntry} — the bus-master engine and PRD
 *       walking (§8.2–§8.4).</li>
 *   <li>{@code Identify}, {@code Geometry}, {@code Smart} — IDENTIFY data, default CHS, SMART
 *       (§4, §6.2, §5.15).</li>
 *   <li>{@code Atapi} — the PACKET layer of a CD-ROM unit (§9).</li>
 * </ul>
 *
 * <p>Deliberate or known differences from QEMU 7.2 are listed where they occur and collected in
 * the workstream's closing note: model strings ("IOEMU HARDDISK"), SRST running in the Device
 * Control write instead of a bottom half, READ NATIVE MAX in CHS mode using the native geometry
 * (upstream's fix), SRST/DEVICE RESET dropping an armed-but-unstarted DMA command, and the ATAPI
 * subset noted on {@code Atapi}.
 */
package dev.ioemu.devices.ide;
