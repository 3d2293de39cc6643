/**
 * The PIIX3 IDE controller as QEMU 7.2 models it (shared/spec/ide.md): ATA disks and ATAPI
 * CD-ROMs on two legacy channels, with bus-master DMA.
 *
 * <p>Map of the package:
 * <ul>
 *   <li>{@link dev.ioemu.devices.ide.PiixIde} — the public PCI function 00:01.1: config space,
 *       BAR4, the controller lock, drain/reset/resume (§8.1, §10); {@code drive(index)} hands
 *       the machine a drive by IDE index.</li>
 *   <li>{@code IdeBus} — one channel: ports, register routing to both units, the command gate,
 *       Device Control, SRST, IRQ (§1, §2).</li>
 *   <li>{@link dev.ioemu.devices.ide.IdeDevice} — one unit: register file ({@code AtaRegisters})
 *       and dispatch. Public: the drive's kind, size, default geometry and ordered request
 *       queue, which the BIOS's INT 13h shares.</li>
 *   <li>{@code AtaCommand} — the command table as data (§3), 256-entry lookup by opcode; its
 *       handlers and the state they keep (CHS translation, multiple count, IDENTIFY cache,
 *       SMART) are in {@code AtaCommandSet} (§5).</li>
 *   <li>{@code DriveErrorPolicy} — ABRT/ERR status, the abort of a DMA command, and the
 *       rerror/werror action (report, ignore, stop and retry) for a failed request (§6.4, §6.5);
 *       {@code ErrorPolicy} is the option's value.</li>
 *   <li>{@code PioTransfer} — the PIO data phase: buffer, DRQ block window, data-port accesses
 *       and what the end of a block leads to (§7).</li>
 *   <li>{@code BusMasterDma}, {@code PrdTable}, {@code PrdEntry} — the bus-master engine, which
 *       only walks PRDs and moves bytes through the machine's address space (§8.2–§8.4);
 *       {@code ArmedCommand} is the one value for the command it will run; {@code TrimRange}
 *       parses a DATA SET MANAGEMENT range list, and an ATAPI reply's bytes stay with
 *       {@code Atapi} until the engine moves them.</li>
 *   <li>{@code Identify}, {@code Geometry}, {@code Smart} — IDENTIFY data, default CHS, SMART
 *       (§4, §6.2, §5.15).</li>
 *   <li>{@code Atapi} — the PACKET layer of a CD-ROM unit (§9).</li>
 * </ul>
 *
 * <p>Deliberate or known differences from QEMU 7.2 are listed where they occur and collected in
 * the workstream's closing note: model strings ("IOEMU HARDDISK"), SRST running in the Device
 * Control write instead of a bottom half, SRST/DEVICE RESET dropping an armed-but-unstarted DMA
 * command, and the ATAPI subset noted on {@code Atapi}. READ NATIVE MAX in CHS mode reports the
 * last sector in the current geometry (set by INITIALIZE DEVICE PARAMETERS), as 7.2 does; where
 * that geometry has 0 heads or 0 sectors (7.2 divides by zero) it uses the native geometry.
 */
package dev.ioemu.devices.ide;
