package dev.ioemu.devices.ide.guest;

import dev.ioemu.devices.ide.Ata;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One Physical Region Descriptor as the guest writes it (shared/spec/ide.md §8.3): a 32-bit
 * buffer address, a 16-bit byte count (0 means 64 KiB) and the end-of-table flag.
 *
 * @param byteCount 0 to 0x10000; written as its low 16 bits, so 0x10000 and 0 both mean 64 KiB
 */
public record PrdDescriptor(long address, int byteCount, boolean endOfTable) {
    public PrdDescriptor {
        if (byteCount < 0 || byteCount > Ata.PRD_MAX_BYTES) {
            throw new IllegalArgumentException("PRD byte count: " + byteCount + " (expected: 0 to 65536)");
        }
    }

    /** The entries describing {@code bytes} of contiguous memory at {@code buffer}, 64 KiB each, the last with EOT. */
    public static List<PrdDescriptor> covering(long buffer, int bytes) {
        List<PrdDescriptor> out = new ArrayList<>();
        int entries = Math.max(1, (bytes + Ata.PRD_MAX_BYTES - 1) / Ata.PRD_MAX_BYTES);
        for (int i = 0; i < entries; i++) {
            int length = Math.min(Ata.PRD_MAX_BYTES, bytes - i * Ata.PRD_MAX_BYTES);
            out.add(new PrdDescriptor(buffer + (long) i * Ata.PRD_MAX_BYTES, length, i == entries - 1));
        }
        return out;
    }

    /** The table's bytes as they lie in guest memory (little-endian, 8 bytes an entry). */
    public static byte[] encode(List<PrdDescriptor> table) {
        ByteBuffer b = ByteBuffer.allocate(Ata.PRD_SIZE * table.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (PrdDescriptor e : table) {
            b.putInt((int) e.address()).putInt((e.byteCount() & 0xFFFF) | (e.endOfTable() ? Ata.PRD_EOT : 0));
        }
        return b.array();
    }
}
