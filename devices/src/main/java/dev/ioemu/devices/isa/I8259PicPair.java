package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PortDevice;

/**
 * The PC's two cascaded 8259As: master at 0x20-0x21 (IRQ 0-7, INT to the CPU), slave at
 * 0xA0-0xA1 (IRQ 8-15, INT to master IR2), and the PIIX3 edge/level control registers ELCR1/ELCR2
 * at 0x4D0-0x4D1 (IRQ 0, 1, 2, 8 and 13 cannot be level-triggered). Devices drive
 * {@link #input(int)}; a CPU engine uses it as its {@link InterruptController}.
 */
public final class I8259PicPair implements InterruptController {
    public static final int MASTER_BASE = 0x20;
    public static final int SLAVE_BASE = 0xa0;
    public static final int ELCR_BASE = 0x4d0;
    public static final int ELCR1_MASK = 0xf8;
    public static final int ELCR2_MASK = 0xde;
    public static final int SPURIOUS_IR = 7;

    private final I8259Pic master = new I8259Pic("pic-master", true, ELCR1_MASK, this);
    private final I8259Pic slave = new I8259Pic("pic-slave", false, ELCR2_MASK, this);
    private final IrqLine[] inputs = new IrqLine[16];
    private volatile IntrListener intrListener;
    private boolean intr;

    private final PortDevice elcr1 = elcrPort(master, "elcr1");
    private final PortDevice elcr2 = elcrPort(slave, "elcr2");

    /** One chip's ELCR: a 1-byte register; a wider access reads or writes it once per byte. */
    private PortDevice elcrPort(I8259Pic chip, String name) {
        return new PortDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (I8259PicPair.this) {
                    return ByteRegisters.read(o -> chip.elcr(), offset, size);
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                synchronized (I8259PicPair.this) {
                    ByteRegisters.write((o, v) -> chip.setElcr(v), offset, size, value);
                }
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    public I8259PicPair() {
        slave.connectOutput(level -> master.setInput(I8259Pic.CASCADE_IR, level != 0));
        master.connectOutput(level -> intrChanged(level != 0));
        for (int i = 0; i < 16; i++) {
            int irq = i;
            inputs[i] = level -> setIrq(irq, level);
        }
    }

    /** The line a device drives for ISA IRQ {@code irq} (0-15). */
    public IrqLine input(int irq) {
        if (irq < 0 || irq >= 16) {
            throw new IllegalArgumentException("PIC input: " + irq + " (expected: 0 to 15)");
        }
        return inputs[irq];
    }

    private synchronized void setIrq(int irq, boolean level) {
        if (irq < 8) {
            master.setInput(irq, level);
        } else {
            slave.setInput(irq - 8, level);
        }
    }

    private void intrChanged(boolean level) {
        intr = level;
        IntrListener l = intrListener;
        if (l != null) {
            l.intrChanged(level);
        }
    }

    public I8259Pic master() {
        return master;
    }

    public I8259Pic slave() {
        return slave;
    }

    /** ELCR1 (port 4D0h, IRQ 0-7). */
    public PortDevice elcr1() {
        return elcr1;
    }

    /** ELCR2 (port 4D1h, IRQ 8-15). */
    public PortDevice elcr2() {
        return elcr2;
    }

    public synchronized void reset() {
        slave.reset();
        master.reset();
    }

    @Override
    public synchronized boolean hasPending() {
        return intr;
    }

    @Override
    public synchronized int acknowledge() {
        int ir = master.pendingIr();
        if (ir < 0) {
            return master.vector(SPURIOUS_IR);   // spurious IRQ 7: nothing in service
        }
        int vector;
        if (ir == I8259Pic.CASCADE_IR) {
            int slaveIr = slave.pendingIr();
            if (slaveIr >= 0) {
                slave.acknowledge(slaveIr);
                vector = slave.vector(slaveIr);
            } else {
                vector = slave.vector(SPURIOUS_IR);   // spurious IRQ 15
            }
        } else {
            vector = master.vector(ir);
        }
        master.acknowledge(ir);
        return vector;
    }

    @Override
    public void setIntrListener(IntrListener listener) {
        this.intrListener = listener;
    }
}
