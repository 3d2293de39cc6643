package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

/**
 * The register file of one Intel 8237/8257 ISA DMA controller as the PC wires it: channel
 * address/count registers behind a byte flip-flop, the status, mask and control ports. No
 * transfers are performed (no ISA device here uses DMA); the model exists because QEMU's qtest
 * clients read port 0x00 to flush pending IRQ lines (shared/spec/qtest.md §4) and a differential
 * run must see QEMU's answers there.
 *
 * <p>Observed on QEMU 7.2 (pc, {@code -S}): every channel register reads 0 at power-on; the
 * status port reads 0 and the mask port 0xff (all 8 bits as last written); software requests set
 * status bits 7:4; a channel register written low byte then high byte
 * reads back the same two bytes; the value read ("current") is only reloaded from the written
 * ("base") value when the high byte is written; multi-byte port accesses are split into bytes.
 *
 * <p>Controller 1 sits at 0x00-0x0f with one port per register; controller 2 at 0xc0-0xdf with
 * registers every second port ({@code shift} 1), so port 0xc1 aliases 0xc0.
 */
public final class I8257Dma implements PortDevice {
    private static final int CONTROL_STATUS = 0;   // control register index: read status / write command
    private static final int CONTROL_REQUEST = 1;  // write request / read mask (QEMU)
    private static final int CONTROL_SINGLE_MASK = 2;
    private static final int CONTROL_MODE = 3;
    private static final int CONTROL_CLEAR_FLIP_FLOP = 4;
    private static final int CONTROL_MASTER_CLEAR = 5;
    private static final int CONTROL_CLEAR_MASK = 6;
    private static final int CONTROL_WRITE_MASK = 7;

    private final String name;
    private final int shift;
    private final int[] baseAddress = new int[4];
    private final int[] baseCount = new int[4];
    private final int[] currentAddress = new int[4];
    private final int[] mode = new int[4];
    private boolean highByteNext;   // the flip-flop: false = next access is the low byte
    private int mask;
    private int status;
    private int command;

    /**
     * @param shift 0 for the 8-bit controller (ports 0x00-0x0f), 1 for the 16-bit one (0xc0-0xdf)
     */
    public I8257Dma(String name, int shift) {
        if (shift != 0 && shift != 1) {
            throw new IllegalArgumentException("DMA register shift: " + shift + " (expected: 0 or 1)");
        }
        this.name = name;
        this.shift = shift;
        reset();
    }

    /** Number of ports this controller decodes. */
    public int portCount() {
        return 16 << shift;
    }

    /** Power-on / master-clear state: flip-flop low, every channel masked, no status. */
    public synchronized void reset() {
        highByteNext = false;
        mask = 0xff;
        status = 0;
        command = 0;
    }

    @Override
    public synchronized int read(int offset, int size) {
        int value = 0;
        for (int i = 0; i < size; i++) {
            value |= readByte(offset + i) << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        for (int i = 0; i < size; i++) {
            writeByte(offset + i, (value >>> (8 * i)) & 0xff);
        }
    }

    private int readByte(int offset) {
        if (offset >= portCount()) {
            return 0xff;
        }
        int register = offset >> shift;
        if (register < 8) {
            int channel = register >> 1;
            int word = (register & 1) == 0 ? currentAddress[channel] : baseCount[channel];
            int b = highByteNext ? (word >>> 8) & 0xff : word & 0xff;
            highByteNext = !highByteNext;
            return b;
        }
        return switch (register - 8) {
            case CONTROL_STATUS -> {
                int s = status;
                status &= 0xf0;   // terminal-count bits clear on read
                yield s;
            }
            case CONTROL_REQUEST -> mask;
            default -> 0;
        };
    }

    private void writeByte(int offset, int value) {
        if (offset >= portCount()) {
            return;
        }
        int register = offset >> shift;
        if (register < 8) {
            int channel = register >> 1;
            int[] base = (register & 1) == 0 ? baseAddress : baseCount;
            base[channel] = highByteNext
                    ? (base[channel] & 0x00ff) | (value << 8)
                    : (base[channel] & 0xff00) | value;
            highByteNext = !highByteNext;
            if (!highByteNext) {
                // The word is complete: the controller reloads its current address from it.
                currentAddress[channel] = baseAddress[channel];
            }
            return;
        }
        switch (register - 8) {
            case CONTROL_STATUS -> command = value;
            case CONTROL_REQUEST -> {
                // A software request shows in the status register's request bits (7:4); it moves
                // no data, since no ISA device here uses DMA.
                int channel = value & 3;
                if ((value & 4) != 0) {
                    status |= 1 << (channel + 4);
                } else {
                    status &= ~(1 << (channel + 4));
                }
                status &= ~(1 << channel);
            }
            case CONTROL_SINGLE_MASK -> {
                if ((value & 4) != 0) {
                    mask |= 1 << (value & 3);
                } else {
                    mask &= ~(1 << (value & 3));
                }
            }
            case CONTROL_MODE -> mode[value & 3] = value;
            case CONTROL_CLEAR_FLIP_FLOP -> highByteNext = false;
            case CONTROL_MASTER_CLEAR -> reset();
            case CONTROL_CLEAR_MASK -> mask = 0;
            case CONTROL_WRITE_MASK -> mask = value;   // QEMU keeps all 8 bits
            default -> throw new IllegalStateException("DMA control register " + register);
        }
    }

    /** The last value written to the command register (for traces and tests). */
    public synchronized int command() {
        return command;
    }

    @Override
    public String name() {
        return name;
    }
}
