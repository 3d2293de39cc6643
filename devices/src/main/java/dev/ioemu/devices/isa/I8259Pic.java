package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;

import java.util.function.IntConsumer;

/**
 * One Intel 8259A programmable interrupt controller (datasheet 231468): the command port at offset
 * 0 (ICW1, OCW2, OCW3; reads IRR or ISR), the data port at offset 1 (ICW2-4, OCW1; reads IMR), and
 * eight request inputs, edge- or level-sensitive per the PIIX ELCR bit (the PIIX ignores ICW1 LTIM). The
 * INT output goes to the CPU (master) or to master input 2 (slave); {@link I8259PicPair} cascades two.
 *
 * <p>Priorities: {@code priorityAdd} is the IR with the highest priority (rotation moves it). A
 * request interrupts when it outranks every bit in service; special mask mode ignores masked ISR
 * bits, special fully nested mode ignores the cascade input's own ISR bit (master only).
 * QEMU 7.2 parity: reads of offset 0 in poll mode return 0x80|IR (or 0), and ICW3's value is not
 * used (the cascade is fixed on IR2, as on every PC).
 */
public final class I8259Pic implements PortDevice {
    public static final int ICW1_IC4 = 0x01;
    public static final int ICW1_SNGL = 0x02;
    public static final int ICW1_LTIM = 0x08;
    public static final int ICW1_INIT = 0x10;
    public static final int ICW4_AEOI = 0x02;
    public static final int ICW4_SFNM = 0x10;
    /** OCW3 (bit 3 = 1, bit 4 = 0) fields. */
    public static final int OCW3_RIS = 0x01;
    public static final int OCW3_RR = 0x02;
    public static final int OCW3_P = 0x04;
    public static final int OCW3_SELECT = 0x08;
    public static final int OCW3_SMM = 0x20;
    public static final int OCW3_ESMM = 0x40;
    /** OCW2 command in bits 7-5 (R, SL, EOI). */
    public static final int OCW2_ROTATE_AEOI_CLEAR = 0;
    public static final int OCW2_NON_SPECIFIC_EOI = 1;
    public static final int OCW2_SPECIFIC_EOI = 3;
    public static final int OCW2_ROTATE_AEOI_SET = 4;
    public static final int OCW2_ROTATE_NON_SPECIFIC_EOI = 5;
    public static final int OCW2_SET_PRIORITY = 6;
    public static final int OCW2_ROTATE_SPECIFIC_EOI = 7;

    public static final int CASCADE_IR = 2;
    private static final int NO_IRQ = -1;

    /** Initialization sequence position. */
    private enum InitState { READY, ICW2, ICW3, ICW4 }

    private final String name;
    private final boolean master;
    private final int elcrMask;
    /** The pair's lock: port accesses and device IRQ changes (also from I/O threads) serialise on it. */
    private final Object lock;
    private IntConsumer output = level -> { };

    private int irr;
    private int isr;
    private int imr;
    /** Input pin levels, for edge detection. */
    private int inputLevels;
    private int elcr;
    private int priorityAdd;
    private int vectorBase;
    private boolean readIsr;
    private boolean poll;
    private boolean specialMask;
    private InitState initState = InitState.READY;
    private boolean icw4Needed;
    private boolean single;
    private boolean autoEoi;
    private boolean rotateOnAutoEoi;
    private boolean specialFullyNested;
    private boolean outputLevel;

    /**
     * @param elcrMask ELCR bits that exist (PIIX3: 0xf8 master, 0xde slave; IRQ 0-2, 8 and 13 are edge only)
     */
    I8259Pic(String name, boolean master, int elcrMask, Object lock) {
        this.lock = lock;
        this.name = name;
        this.master = master;
        this.elcrMask = elcrMask;
    }

    /** Where the INT output goes (set once by the pair). */
    void connectOutput(IntConsumer output) {
        this.output = output;
    }

    /** Power-on / system reset: everything cleared, ELCR included. */
    public void reset() {
        elcr = 0;
        initReset();
    }

    private void initReset() {
        irr &= elcr;   // level-sensitive requests are still asserted (QEMU 7.2 keeps them too)
        isr = 0;
        imr = 0;
        inputLevels = 0;
        priorityAdd = 0;
        vectorBase = 0;
        readIsr = false;
        poll = false;
        specialMask = false;
        initState = InitState.READY;
        icw4Needed = false;
        single = false;
        autoEoi = false;
        rotateOnAutoEoi = false;
        specialFullyNested = false;
        updateOutput();
    }

    private boolean levelTriggered(int mask) {
        return (elcr & mask) != 0;
    }

    /** Sets the level of input pin {@code ir} (0-7). */
    public void setInput(int ir, boolean level) {
        int mask = 1 << ir;
        if (levelTriggered(mask)) {
            // A level-sensitive request follows the pin (datasheet: must stay high until acknowledged).
            irr = level ? irr | mask : irr & ~mask;
        } else if (level && (inputLevels & mask) == 0) {
            irr |= mask;   // rising edge
        }
        inputLevels = level ? inputLevels | mask : inputLevels & ~mask;
        updateOutput();
    }

    /** The highest priority (0 = highest) among {@code mask}'s bits, 8 if none. */
    private int priority(int mask) {
        if (mask == 0) {
            return 8;
        }
        int p = 0;
        while ((mask & (1 << ((p + priorityAdd) & 7))) == 0) {
            p++;
        }
        return p;
    }

    /** The IR that would interrupt now, or {@link #NO_IRQ}. */
    int pendingIr() {
        int requested = priority(irr & ~imr);
        if (requested == 8) {
            return NO_IRQ;
        }
        int inService = isr;
        if (specialMask) {
            inService &= ~imr;
        }
        if (specialFullyNested && master) {
            inService &= ~(1 << CASCADE_IR);
        }
        return requested < priority(inService) ? (requested + priorityAdd) & 7 : NO_IRQ;
    }

    private void updateOutput() {
        boolean level = pendingIr() != NO_IRQ;
        outputLevel = level;
        output.accept(level ? 1 : 0);
    }

    boolean output() {
        return outputLevel;
    }

    /** The INTA cycle for {@code ir}: in service unless AEOI, an edge request cleared. */
    void acknowledge(int ir) {
        int mask = 1 << ir;
        if (autoEoi) {
            if (rotateOnAutoEoi) {
                priorityAdd = (ir + 1) & 7;
            }
        } else {
            isr |= mask;
        }
        if (!levelTriggered(mask)) {
            irr &= ~mask;
        }
        updateOutput();
    }

    int vector(int ir) {
        return vectorBase | ir;
    }

    @Override
    public int read(int offset, int size) {
        synchronized (lock) {
            return ByteRegisters.read(this::readRegister, offset, size);
        }
    }

    private int readRegister(int offset) {
        if (poll) {
            // Poll command: the next read is an INTA without the CPU (datasheet "Poll command").
            poll = false;
            int ir = pendingIr();
            if (ir == NO_IRQ) {
                return 0;
            }
            acknowledge(ir);
            return 0x80 | ir;
        }
        if (offset == 0) {
            return readIsr ? isr : irr;
        }
        return imr;   // A0 high (QEMU decodes every offset but 0 as the data port)
    }

    @Override
    public void write(int offset, int size, int value) {
        synchronized (lock) {
            ByteRegisters.write(this::writeRegister, offset, size, value);
        }
    }

    private void writeRegister(int offset, int value) {
        if (offset == 0) {
            writeCommand(value);
        } else {
            writeData(value);
        }
    }

    private void writeCommand(int value) {
        if ((value & ICW1_INIT) != 0) {
            // ICW1 starts initialization: IMR, ISR, edge requests and priorities cleared; the input
            // levels are forgotten, so a line still high counts as a new edge when next driven.
            initReset();
            initState = InitState.ICW2;
            icw4Needed = (value & ICW1_IC4) != 0;
            single = (value & ICW1_SNGL) != 0;
        } else if ((value & OCW3_SELECT) != 0) {
            if ((value & OCW3_P) != 0) {
                poll = true;
            }
            if ((value & OCW3_RR) != 0) {
                readIsr = (value & OCW3_RIS) != 0;
            }
            if ((value & OCW3_ESMM) != 0) {
                specialMask = (value & OCW3_SMM) != 0;
                updateOutput();   // masked in-service levels stop (or start) blocking lower ones
            }
        } else {
            writeOcw2(value);
        }
    }

    private void writeOcw2(int value) {
        int command = value >> 5;
        int level = value & 7;
        switch (command) {
            case OCW2_ROTATE_AEOI_CLEAR, OCW2_ROTATE_AEOI_SET -> rotateOnAutoEoi = command == OCW2_ROTATE_AEOI_SET;
            case OCW2_NON_SPECIFIC_EOI, OCW2_ROTATE_NON_SPECIFIC_EOI -> {
                // Clears the highest-priority ISR bit: the interrupt the handler is finishing.
                int p = priority(isr);
                if (p != 8) {
                    int ir = (p + priorityAdd) & 7;
                    isr &= ~(1 << ir);
                    if (command == OCW2_ROTATE_NON_SPECIFIC_EOI) {
                        priorityAdd = (ir + 1) & 7;
                    }
                    updateOutput();
                }
            }
            case OCW2_SPECIFIC_EOI -> {
                isr &= ~(1 << level);
                updateOutput();
            }
            case OCW2_SET_PRIORITY -> {
                priorityAdd = (level + 1) & 7;   // IR 'level' becomes the lowest priority
                updateOutput();
            }
            case OCW2_ROTATE_SPECIFIC_EOI -> {
                isr &= ~(1 << level);
                priorityAdd = (level + 1) & 7;
                updateOutput();
            }
            default -> { }   // 2: no operation
        }
    }

    private void writeData(int value) {
        switch (initState) {
            case READY -> {
                imr = value;   // OCW1
                updateOutput();
            }
            case ICW2 -> {
                vectorBase = value & 0xf8;
                initState = single ? (icw4Needed ? InitState.ICW4 : InitState.READY) : InitState.ICW3;
            }
            case ICW3 -> initState = icw4Needed ? InitState.ICW4 : InitState.READY;
            case ICW4 -> {
                specialFullyNested = (value & ICW4_SFNM) != 0;
                autoEoi = (value & ICW4_AEOI) != 0;
                initState = InitState.READY;
            }
        }
    }

    /** Edge/level control register of the PIIX (one byte per chip). */
    int elcr() {
        return elcr;
    }

    void setElcr(int value) {
        elcr = value & elcrMask;
    }

    public int irr() {
        return irr;
    }

    public int isr() {
        return isr;
    }

    public int imr() {
        return imr;
    }

    @Override
    public String name() {
        return name;
    }
}
