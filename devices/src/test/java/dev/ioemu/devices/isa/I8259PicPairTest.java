package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.IoPortBus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 8259A pair driven through its ports as a BIOS or OS does (datasheet 231468). */
class I8259PicPairTest {
    private final IoPortBus bus = new IoPortBus();
    private final I8259PicPair pics = new I8259PicPair();
    private final List<Boolean> intrChanges = new ArrayList<>();

    I8259PicPairTest() {
        bus.map(0x20, 2, pics.master());
        bus.map(0xa0, 2, pics.slave());
        bus.map(0x4d0, 1, pics.elcr1());
        bus.map(0x4d1, 1, pics.elcr2());
        pics.setIntrListener(intrChanges::add);
    }

    /** SeaBIOS's and the PC BIOS's sequence: ICW1 0x11, ICW2 0x08/0x70, ICW3 0x04/0x02, ICW4 0x01. */
    private void initLikeBios(int icw4) {
        bus.write(0x20, 1, 0x11);
        bus.write(0x21, 1, 0x08);
        bus.write(0x21, 1, 0x04);
        bus.write(0x21, 1, icw4);
        bus.write(0xa0, 1, 0x11);
        bus.write(0xa1, 1, 0x70);
        bus.write(0xa1, 1, 0x02);
        bus.write(0xa1, 1, icw4);
        bus.write(0x21, 1, 0x00);
        bus.write(0xa1, 1, 0x00);
    }

    private void pulse(int irq) {
        pics.input(irq).raise();
        pics.input(irq).lower();
    }

    private int readIsr(int port) {
        bus.write(port, 1, 0x0b);
        return bus.read(port, 1);
    }

    private int readIrr(int port) {
        bus.write(port, 1, 0x0a);
        return bus.read(port, 1);
    }

    @BeforeEach
    void init() {
        initLikeBios(0x01);
    }

    @Test
    void icwSequenceSetsVectorBasesAndTheMaskIsOcw1() {
        bus.write(0x21, 1, 0xb8);
        assertEquals(0xb8, bus.read(0x21, 1));
        bus.write(0x21, 1, 0x00);
        pulse(0);
        assertTrue(pics.hasPending());
        assertEquals(0x08, pics.acknowledge());
        pulse(14);
        assertFalse(pics.hasPending(), "the cascade (IR2) waits while IR0 is in service");
        bus.write(0x20, 1, 0x60);   // specific EOI IR0
        assertEquals(0x76, pics.acknowledge(), "slave IR6 through the cascade");
        assertEquals(0x04, readIsr(0x20), "master IR2 (the cascade) in service");
        assertEquals(0x40, readIsr(0xa0));
    }

    @Test
    void edgeTriggeredRequestIsLatchedOnceAndClearedByAcknowledge() {
        pics.input(1).raise();
        pics.input(1).raise();
        assertEquals(0x02, readIrr(0x20));
        assertEquals(0x09, pics.acknowledge());
        assertEquals(0x00, readIrr(0x20));
        assertEquals(0x02, readIsr(0x20));
        assertFalse(pics.hasPending(), "the line is still high but no new edge");
        bus.write(0x20, 1, 0x20);   // non-specific EOI
        assertEquals(0, readIsr(0x20));
        assertFalse(pics.hasPending());
    }

    @Test
    void levelTriggeredRequestThroughElcrFollowsTheLine() {
        bus.write(0x4d1, 1, 0xff);
        assertEquals(0xde, bus.read(0x4d1, 1), "IRQ 8 and 13 cannot be level-triggered");
        pics.input(11).raise();
        assertEquals(0x08, readIrr(0xa0));
        assertEquals(0x73, pics.acknowledge());
        assertEquals(0x08, readIrr(0xa0), "a level request stays in IRR while the line is high");
        bus.write(0xa0, 1, 0x20);
        bus.write(0x20, 1, 0x20);
        assertTrue(pics.hasPending(), "still asserted after EOI: interrupts again");
        assertEquals(0x73, pics.acknowledge());
        bus.write(0xa0, 1, 0x20);
        bus.write(0x20, 1, 0x20);
        pics.input(11).lower();
        assertEquals(0x00, readIrr(0xa0));
        assertTrue(pics.hasPending(), "the master latched the cascade's edge");
        assertEquals(0x77, pics.acknowledge(), "withdrawn level request: spurious IRQ 15");
        bus.write(0x20, 1, 0x20);
        assertFalse(pics.hasPending());
    }

    @Test
    void higherPriorityInterruptsNestLowerOneWaitsForEoi() {
        pulse(3);
        assertEquals(0x0b, pics.acknowledge());
        pulse(5);
        assertFalse(pics.hasPending(), "IR5 is below IR3 in service");
        pulse(1);
        assertTrue(pics.hasPending(), "IR1 outranks IR3");
        assertEquals(0x09, pics.acknowledge());
        bus.write(0x20, 1, 0x20);   // ends IR1 (highest in service)
        assertEquals(0x08, readIsr(0x20));
        bus.write(0x20, 1, 0x63);   // specific EOI for IR3
        assertEquals(0x0d, pics.acknowledge());
    }

    @Test
    void spuriousInterruptsAnswerIr7AndIr15() {
        assertEquals(0x0f, pics.acknowledge(), "nothing pending: master IR7");
        assertEquals(0, readIsr(0x20), "a spurious IR7 is not put in service");
        // Slave request withdrawn between INTR and INTA (level-triggered IRQ 10).
        bus.write(0x4d1, 1, 0x04);
        pics.input(10).raise();
        pics.input(10).lower();
        pics.input(10).raise();
        assertTrue(pics.hasPending());
        bus.write(0xa1, 1, 0x04);   // the slave masks it: the cascade request is already latched
        assertEquals(0x77, pics.acknowledge(), "slave spurious IRQ 15");
    }

    @Test
    void autoEoiLeavesNothingInService() {
        initLikeBios(0x03);
        pulse(4);
        assertEquals(0x0c, pics.acknowledge());
        assertEquals(0, readIsr(0x20));
    }

    @Test
    void pollCommandAcknowledgesWithoutInta() {
        pulse(6);
        bus.write(0x20, 1, 0x0c);   // OCW3 poll
        assertEquals(0x86, bus.read(0x20, 1));
        assertEquals(0x40, readIsr(0x20));
        bus.write(0x20, 1, 0x0c);
        assertEquals(0x00, bus.read(0x20, 1), "nothing requesting: 0");
    }

    @Test
    void rotationMakesTheServicedLevelLowest() {
        pulse(0);
        pulse(1);
        assertEquals(0x08, pics.acknowledge());
        bus.write(0x20, 1, 0xa0);   // rotate on non-specific EOI: IR0 becomes lowest
        pulse(0);
        assertEquals(0x09, pics.acknowledge(), "IR1 now outranks IR0");
        bus.write(0x20, 1, 0xc4);   // set priority: IR4 lowest, IR5 highest
        bus.write(0x20, 1, 0x20);
        pulse(5);
        assertEquals(0x0d, pics.acknowledge());
    }

    @Test
    void specialMaskModeLetsLowerPrioritiesIn() {
        pulse(3);
        assertEquals(0x0b, pics.acknowledge());
        bus.write(0x21, 1, 0x08);   // the handler masks its own level
        bus.write(0x20, 1, 0x68);   // OCW3 ESMM|SMM
        pulse(6);
        assertTrue(pics.hasPending(), "special mask: IR6 despite IR3 in service");
        bus.write(0x20, 1, 0x48);   // special mask off
        assertFalse(pics.hasPending());
    }

    @Test
    void intrListenerSeesEveryChange() {
        intrChanges.clear();
        pics.input(0).raise();
        pics.acknowledge();
        assertTrue(intrChanges.contains(true));
        assertFalse(intrChanges.get(intrChanges.size() - 1));
    }

    @Nested
    class Reset {
        @Test
        void icw1ClearsMaskAndRequestsButNotElcr() {
            bus.write(0x4d0, 1, 0x28);
            bus.write(0x21, 1, 0xff);
            pulse(0);
            bus.write(0x20, 1, 0x11);
            assertEquals(0x00, bus.read(0x20, 1));
            assertEquals(0x28, bus.read(0x4d0, 1));
        }

        @Test
        void systemResetClearsElcrToo() {
            bus.write(0x4d0, 1, 0xf8);
            pics.reset();
            assertEquals(0, bus.read(0x4d0, 1));
            assertEquals(0, bus.read(0x21, 1));
        }
    }
}
