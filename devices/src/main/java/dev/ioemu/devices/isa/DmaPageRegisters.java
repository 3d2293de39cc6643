package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortListDevice;

/**
 * The PC's DMA page registers, one device for ports 0x80-0x8f: byte storage at the ports QEMU
 * decodes (0x81-0x83 and 0x87 for controller 1, 0x89-0x8b and 0x8f for controller 2; 0 at
 * power-on), nothing at the others.
 *
 * <p>QEMU registers each run of registers as its own region of 1-byte "port list" entries, which
 * take accesses of any alignment (observed on 7.2): a 16-bit piece touches the second byte only if it belongs to the same run (else that byte reads
 * 0xff / is not written); a 32-bit piece reads all-ones and writes nothing; a piece starting at an
 * undecoded port reads all-ones. As a {@link PortListDevice} it receives accesses whole, also
 * those running past 0x8f, and cuts them itself.
 */
public final class DmaPageRegisters implements PortListDevice {
    public static final int BASE = 0x80;
    public static final int PORTS = 16;

    /** Run index per port offset: registers in the same run share a number; -1 = not decoded. */
    private static final int[] RUN = {-1, 0, 0, 0, -1, -1, -1, 1, -1, 2, 2, 2, -1, -1, -1, 3};

    private final byte[] pages = new byte[PORTS];

    @Override
    public synchronized int read(int offset, int size) {
        int value = 0;
        int done = 0;
        while (done < size) {
            int o = offset + done;
            int l = pieceSize(o, size - done);
            int piece;
            if (o >= PORTS || RUN[o] < 0 || l == 4) {
                piece = l == 4 ? 0xffffffff : (1 << (8 * l)) - 1;
            } else {
                piece = pages[o] & 0xff;
                if (l == 2) {
                    piece |= (sameRun(o) ? pages[o + 1] & 0xff : 0xff) << 8;
                }
            }
            value |= piece << (8 * done);
            done += l;
        }
        return value;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        int done = 0;
        while (done < size) {
            int o = offset + done;
            int l = pieceSize(o, size - done);
            if (o < PORTS && RUN[o] >= 0 && l < 4) {
                pages[o] = (byte) (value >>> (8 * done));
                if (l == 2 && sameRun(o)) {
                    pages[o + 1] = (byte) (value >>> (8 * done + 8));
                }
            }
            done += l;
        }
    }

    private static boolean sameRun(int o) {
        return o + 1 < PORTS && RUN[o + 1] == RUN[o];
    }

    /**
     * How QEMU cuts an access at port offset {@code o}: port-list regions accept any alignment, so
     * a piece starting on a register takes the whole remaining access; unassigned I/O space cuts
     * by the alignment of the port number.
     */
    private static int pieceSize(int o, int remaining) {
        int l = Integer.highestOneBit(remaining);
        if (o < PORTS && RUN[o] >= 0) {
            return l;
        }
        int port = BASE + o;
        int align = port & -port;
        return align < l ? align : l;
    }

    @Override
    public String name() {
        return "dma-page";
    }
}
