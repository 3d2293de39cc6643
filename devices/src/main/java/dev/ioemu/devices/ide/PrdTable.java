package dev.ioemu.devices.ide;

import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.util.ArrayList;
import java.util.List;

/**
 * The bus-master engine's position in a guest PRD table and the walk that turns the table into
 * a scatter list (shared/spec/ide.md §8.3, §8.4 step 2).
 *
 * <p>QEMU's rules: the walk consumes every entry up to EOT or until the next entry would start
 * 4096 bytes or more past the table address (at most 512 entries); the scatter list holds at
 * most the bytes the command needs, and the total the entries describe is remembered so the
 * caller can tell a short, exact or long table apart. Entries are read through the bus-master
 * view of memory: with bus mastering disabled, or outside guest RAM, they read as zeros.
 * Entries that continue each other in guest memory become one region.
 * Guarded by the controller lock.
 */
final class PrdTable {
    /** The fail-safe of one page: no entry is fetched 4096 or more bytes past the table start. */
    static final int MAX_TABLE_BYTES = 4096;

    /** A piece of guest memory the transfer moves, clipped from a {@link PrdEntry}. */
    record Region(long address, int length) {
    }

    /**
     * The result of a walk.
     *
     * @param regions   the scatter list, at most {@code needed} bytes in total
     * @param size      bytes in {@code regions}
     * @param described bytes all consumed entries describe (may exceed {@code needed})
     */
    record Scatter(List<Region> regions, long size, long described) {
    }

    private long next;
    private boolean endOfTableSeen;

    /** Start 0→1: the engine re-reads the table from its start (QEMU's cur_addr = addr). */
    void rewind(long tableAddress) {
        next = tableAddress;
    }

    /** A new DMA command forgets the previous command's end-of-table state, not its position. */
    void newCommand() {
        endOfTableSeen = false;
    }

    Scatter walk(PhysicalMemory memory, boolean busMasterEnabled, long tableAddress, long needed, int channel) {
        List<Region> regions = new ArrayList<>();
        long size = 0;
        long described = 0;
        int index = 0;
        // 32-bit arithmetic as in the hardware register: a table address moved below the engine's
        // position ends the walk at once instead of wrapping through 4 GiB.
        while (!endOfTableSeen && ((next - tableAddress) & 0xFFFF_FFFFL) < MAX_TABLE_BYTES) {
            PrdEntry entry = fetch(memory, busMasterEnabled, next);
            if (TraceEvent.BMDMA_PRD.enabled) {
                Trace.emit(TraceEvent.BMDMA_PRD, channel, index, entry.address(), entry.length(), entry.endOfTable() ? 1 : 0);
            }
            next = (next + PrdEntry.SIZE) & 0xFFFF_FFFFL;
            index++;
            endOfTableSeen = entry.endOfTable();
            long take = Math.min(needed - size, entry.length());
            if (take > 0) {
                addRegion(regions, entry.address(), (int) take);
                size += take;
            }
            described += entry.length();
        }
        return new Scatter(List.copyOf(regions), size, described);
    }

    /**
     * Appends a region, or extends the last one when the entry continues it in guest memory
     * (drivers describe one large buffer as consecutive 64 KiB entries), so the transfer issues
     * one block request where the guest buffer is contiguous. Data moved is the same either way.
     */
    private static void addRegion(List<Region> regions, long address, int length) {
        int last = regions.size() - 1;
        if (last >= 0) {
            Region previous = regions.get(last);
            if (previous.address() + previous.length() == address) {
                regions.set(last, new Region(previous.address(), previous.length() + length));
                return;
            }
        }
        regions.add(new Region(address, length));
    }

    private static PrdEntry fetch(PhysicalMemory memory, boolean busMasterEnabled, long address) {
        if (!busMasterEnabled) {
            // The function's bus-master address space is off: QEMU reads zeros.
            return PrdEntry.decode(0, 0);
        }
        // Anywhere else the address space answers: RAM, ROM, or zeros where unassigned.
        return PrdEntry.decode(memory.readDword(address), memory.readDword(address + 4));
    }
}
