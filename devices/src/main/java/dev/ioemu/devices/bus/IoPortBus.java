package dev.ioemu.devices.bus;

import java.util.Arrays;

/**
 * The x86 I/O port space (64 KiB). Maps port ranges to {@link PortDevice}s; refuses overlapping
 * ranges naming both; unmapped reads return all-ones and unmapped writes are dropped, as on a PC.
 *
 * <p>Ranges can be moved at run time (PCI BAR reprogramming). Lookups are a flat 64 Ki table so
 * the exit path never allocates.
 */
public final class IoPortBus {
    public static final int PORT_COUNT = 0x10000;

    private record Mapping(int base, int length, PortDevice device) {
        boolean contains(int port) { return port >= base && port < base + length; }

        @Override public String toString() {
            return String.format("%s [0x%04x-0x%04x]", device.name(), base, base + length - 1);
        }
    }

    private final Mapping[] byPort = new Mapping[PORT_COUNT];

    /**
     * Maps {@code device} at ports [base, base+length).
     *
     * @throws IllegalArgumentException if the range leaves the port space or overlaps another device
     */
    public synchronized void map(int base, int length, PortDevice device) {
        if (base < 0 || length <= 0 || base + length > PORT_COUNT) {
            throw new IllegalArgumentException(String.format(
                    "port range of %s: 0x%x+%d (expected: inside 0x0000-0xffff)", device.name(), base, length));
        }
        Mapping m = new Mapping(base, length, device);
        for (int p = base; p < base + length; p++) {
            if (byPort[p] != null) {
                throw new IllegalArgumentException("port range " + m + " overlaps " + byPort[p]);
            }
        }
        Arrays.fill(byPort, base, base + length, m);
    }

    /** Removes the mapping of {@code device} that starts at {@code base}; no-op if there is none. */
    public synchronized void unmap(int base, PortDevice device) {
        if (base < 0 || base >= PORT_COUNT) {
            return;
        }
        Mapping m = byPort[base];
        if (m != null && m.device == device && m.base == base) {
            Arrays.fill(byPort, m.base, m.base + m.length, null);
        }
    }

    /** True if some device decodes {@code port}. */
    public boolean isMapped(int port) {
        return byPort[port & 0xFFFF] != null;
    }

    /**
     * Reads {@code size} bytes at {@code port}, as QEMU's memory core dispatches I/O: the device
     * that decodes the first byte receives the access — also when it runs past the end of the
     * device's range (QEMU does not clamp I/O accesses), so devices must answer offsets beyond
     * their length. For an ordinary device the access is first cut to the largest power of two
     * allowed by the alignment of its offset; a {@link PortListDevice} takes it whole. The rest
     * continues at the next port by the same rule. Unassigned space answers a piece with all-ones,
     * cut by the alignment of the port number (QEMU: {@code inw 0x88} = 0xffff although 0x89 is a
     * DMA page register; {@code inl 0x510} goes whole to fw_cfg, which refuses it: 0).
     */
    public int read(int port, int size) {
        port &= 0xFFFF;
        Mapping m = byPort[port];
        if (m != null && port + size <= m.base + m.length) {
            return m.device.read(port - m.base, size) & mask(size);
        }
        mask(size);   // validates size
        int value = 0;
        int done = 0;
        while (done < size) {
            int p = (port + done) & 0xFFFF;
            Mapping piece = byPort[p];
            int l = pieceSize(piece, p, size - done);
            int v = piece == null ? mask(l) : piece.device.read(p - piece.base, l) & mask(l);
            value |= v << (8 * done);
            done += l;
        }
        return value & mask(size);
    }

    /** Writes {@code size} bytes at {@code port}, dispatched as {@link #read} is. */
    public void write(int port, int size, int value) {
        port &= 0xFFFF;
        Mapping m = byPort[port];
        if (m != null && port + size <= m.base + m.length) {
            m.device.write(port - m.base, size, value & mask(size));
            return;
        }
        mask(size);
        int done = 0;
        while (done < size) {
            int p = (port + done) & 0xFFFF;
            Mapping piece = byPort[p];
            int l = pieceSize(piece, p, size - done);
            if (piece != null) {
                piece.device.write(p - piece.base, l, (value >>> (8 * done)) & mask(l));
            }
            done += l;
        }
    }

    /** QEMU's memory_access_size for I/O: the alignment of the offset bounds the piece, except for port lists. */
    private static int pieceSize(Mapping m, int port, int remaining) {
        int l = Integer.highestOneBit(remaining);
        if (m != null && m.device instanceof PortListDevice) {
            return l;
        }
        int offset = m == null ? port : port - m.base;
        int align = offset & -offset;
        return align != 0 && align < l ? align : l;
    }

    /** {@code rep ins}: {@code count} items of {@code size} bytes from one port into {@code dst}. */
    public int readString(int port, int size, int count, MemorySpan dst) {
        port &= 0xFFFF;
        Mapping m = byPort[port];
        if (m != null && port + size <= m.base + m.length) {
            return m.device.readString(port - m.base, size, count, dst);
        }
        for (int i = 0; i < count; i++) {
            dst.putLittleEndian(i * size, size, read(port, size));
        }
        return count;
    }

    /** {@code rep outs}: {@code count} items of {@code size} bytes from {@code src} to one port. */
    public int writeString(int port, int size, int count, MemorySpan src) {
        port &= 0xFFFF;
        Mapping m = byPort[port];
        if (m != null && port + size <= m.base + m.length) {
            return m.device.writeString(port - m.base, size, count, src);
        }
        for (int i = 0; i < count; i++) {
            write(port, size, src.getLittleEndian(i * size, size));
        }
        return count;
    }

    private static int mask(int size) {
        return switch (size) {
            case 1 -> 0xFF;
            case 2 -> 0xFFFF;
            case 4 -> 0xFFFFFFFF;
            default -> throw new IllegalArgumentException("port access size: " + size + " (expected: 1, 2 or 4)");
        };
    }
}
