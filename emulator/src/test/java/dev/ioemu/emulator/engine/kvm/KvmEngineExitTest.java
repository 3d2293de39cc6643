package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.time.MonotonicClock;
import dev.ioemu.emulator.engine.SoftCpuEngine.Exit;
import dev.ioemu.emulator.machine.PcMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.ioemu.emulator.engine.kvm.ScriptedVcpu.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The KVM engine's exit handling (shared/spec/kvm.md §3.2.1, §5.9) driven through a scripted
 * vCPU over a real pc machine: string I/O, MMIO to ROM and unassigned space, HLT and interrupt
 * injection from the Java 8259, triple fault, internal errors and host shutdown. What KVM itself
 * does is covered by the tests module's Kvm* boots, which need /dev/kvm.
 */
@Timeout(20)
class KvmEngineExitTest {
    private static final int EXIT_PORT = 0xf4;
    private static final int RECORDER_PORT = 0x300;

    private final PcMachine machine = new PcMachine(2 << 20, false);
    private final ScriptedVcpu vcpu = new ScriptedVcpu();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final List<Integer> recorded = new ArrayList<>();
    private KvmEngine engine;

    private KvmEngine engine(boolean noReboot) {
        engine = new KvmEngine(vcpu, machine.ioBus(), machine.addressSpace(), null,
                machine.platform().interruptController(), machine.clock(), new MonotonicClock(), machine::reset, noReboot,
                new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        machine.platform().attachDebugExit(EXIT_PORT, 4, status -> engine.requestExit(new Exit.Status(status)));
        machine.addComponent(new dev.ioemu.emulator.machine.MachineComponent() {
            @Override public void reset() { engine.machineWasReset(); }
        });
        machine.ioBus().map(RECORDER_PORT, 1, new PortDevice() {
            @Override public int read(int offset, int size) { return 0x40; }

            @Override public String name() { return "recorder"; }

            @Override public void write(int offset, int size, int value) { recorded.add(value); }
        });
        return engine;
    }

    @AfterEach
    void close() {
        machine.shutdown();
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void stringOutDeliversEveryElementToThePortInOrder() {
        vcpu.then(io(true, RECORDER_PORT, 4, 1024, r -> {
            for (int i = 0; i < 1024; i++) {
                r.putInt(DATA_OFFSET + 4 * i, i * 3);
            }
        })).then(outByte(EXIT_PORT, 0x21));
        assertEquals(new Exit.Status(0x43), engine(false).run());
        assertEquals(1024, recorded.size());
        for (int i = 0; i < 1024; i++) {
            assertEquals(i * 3, recorded.get(i));
        }
    }

    @Test
    void stringInFillsEveryElementOfTheDataArea() {
        byte[] got = new byte[4];
        vcpu.then(io(false, RECORDER_PORT, 1, 3, r -> r.putInt(DATA_OFFSET, 0)))
                .then(((java.util.function.Consumer<java.nio.ByteBuffer>) r -> r.get(DATA_OFFSET, got)).andThen(outByte(EXIT_PORT, 0)));
        engine(false).run();
        assertArrayEquals(new byte[] {0x40, 0x40, 0x40, 0}, got, "three elements in, the byte after them untouched");
    }

    @Test
    void stringOutWithAHugeCountEndsTheRunWithOneLineInsteadOfReadingPastTheRunArea() {
        vcpu.then(io(true, RECORDER_PORT, 2, 0x7fff_ffff, r -> { }));
        assertEquals(new Exit.Status(1), engine(false).run());
        assertTrue(recorded.isEmpty(), "no element reached the device");
        assertEquals(1, err().lines().count(), err());
        assertTrue(err().startsWith("ioemu: KVM: KVM_EXIT_IO with a bad layout: port 0x300 size 2 count 2147483647"), err());
    }

    @Test
    void mmioWriteToTheBiosRomIsDroppedAndTheGuestGoesOn() {
        byte[] before = new byte[8];
        machine.addressSpace().read(0xf0000, before, 0, 8);
        vcpu.then(mmio(0xf0000, true, 4, 0x55aa55aaL)).then(mmio(0xfffffff0L, true, 8, -1L)).then(outByte(EXIT_PORT, 1));
        assertEquals(new Exit.Status(3), engine(false).run());
        byte[] after = new byte[8];
        machine.addressSpace().read(0xf0000, after, 0, 8);
        assertArrayEquals(before, after);
        assertEquals("", err());
    }

    @Test
    void mmioReadOfUnassignedSpaceAnswersZeroAndAWriteThereIsDropped() {
        long[] got = new long[1];
        vcpu.then(mmio(0xc8000, true, 2, 0x1234)).then(mmio(0xc8000, false, 2, 0xffff_ffffL))
                .then(((java.util.function.Consumer<java.nio.ByteBuffer>) r -> got[0] = r.getLong(KvmRunLayout.MMIO_DATA))
                        .andThen(outByte(EXIT_PORT, 0)));
        engine(false).run();
        assertEquals(0xffff_0000L, got[0], "the two bytes read are zero, the rest of data[] untouched");
    }

    @Test
    void tripleFaultResetsTheMachineAndTheVcpuRestartsAtTheResetVector() {
        vcpu.then(at(0x1234, 0x5678).andThen(exit(KvmIoctls.KVM_EXIT_SHUTDOWN))).then(outByte(EXIT_PORT, 0));
        assertEquals(new Exit.Status(1), engine(false).run());
        KvmRegisterFile regs = new KvmRegisterFile(vcpu.runArea());
        assertEquals(0xf000, regs.selector(dev.ioemu.bios.RegisterFile.Segment.CS));
        assertEquals(0xffff0000L, regs.segmentBase(dev.ioemu.bios.RegisterFile.Segment.CS));
        assertEquals(0xfff0, regs.eip());
        assertTrue(err().contains("triple fault at 1234:00005678: resetting"), err());
    }

    @Test
    void tripleFaultUnderNoRebootEndsWithStatusZero() {
        vcpu.then(exit(KvmIoctls.KVM_EXIT_SHUTDOWN)).then(outByte(EXIT_PORT, 5));
        assertEquals(new Exit.Status(0), engine(true).run());
        assertTrue(err().contains("exiting (-no-reboot)"), err());
    }

    @Test
    void emulationFailureEndsWithOneLineNamingTheExitRegistersAndCodeBytes() {
        machine.addressSpace().write(0x7c00, new byte[] {0x0f, 0x0b, (byte) 0x90}, 0, 3);
        vcpu.then(at(0, 0x7c00).andThen(r -> {
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_INTERNAL_ERROR);
            r.putInt(KvmRunLayout.INTERNAL_SUBERROR, KvmIoctls.KVM_INTERNAL_ERROR_EMULATION);
            r.putInt(KvmRunLayout.INTERNAL_NDATA, 1);
            r.putLong(KvmRunLayout.INTERNAL_DATA, 0xabc);
            r.putLong(KvmRunLayout.REGS + KvmRunLayout.RAX, 0x1122);
        }));
        assertEquals(new Exit.Status(1), engine(false).run());
        String e = err();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("KVM_EXIT_INTERNAL_ERROR (emulation failure, data abc)"), e);
        assertTrue(e.contains("CS:EIP=0000:00007c00"), e);
        assertTrue(e.contains("EAX=00001122"), e);
        assertTrue(e.contains("code at 00007c00: 0f 0b 90"), e);
    }

    @Test
    void unknownExitReasonIsReportedByNameNotThrown() {
        vcpu.then(exit(KvmIoctls.KVM_EXIT_FAIL_ENTRY));
        assertEquals(new Exit.Status(1), engine(false).run());
        assertTrue(err().contains("KVM_EXIT_FAIL_ENTRY (hardware entry failure reason 0x0)"), err());
    }

    @Test
    void haltWaitsForTheJavaPicAndInjectsItsVectorWhenTheGuestCanTakeIt() {
        KvmEngine e = engine(false);
        // The BIOS's PIC set-up: master at vector 08h, only IRQ 1 (keyboard) open, not the PIT.
        int[][] icw = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfd}};
        for (int[] w : icw) {
            machine.ioBus().write(w[0], 1, w[1]);
        }
        vcpu.then(r -> {
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_HLT);
            r.put(KvmRunLayout.IF_FLAG, (byte) 1);
            r.put(KvmRunLayout.READY_FOR_INTERRUPT_INJECTION, (byte) 1);
            Thread raiser = new Thread(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ignored) {
                    return;
                }
                machine.platform().isaIrq(1).set(true);   // the keyboard, from another thread
            });
            raiser.start();
        }).then(outByte(EXIT_PORT, 0));
        e.run();
        assertEquals(List.of(0x09), vcpu.injected);
    }

    @Test
    void pendingInterruptWhileTheGuestHasIfClearAsksForAnInterruptWindow() {
        KvmEngine e = engine(false);
        int[][] icw = {{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xfd}};
        for (int[] w : icw) {
            machine.ioBus().write(w[0], 1, w[1]);
        }
        machine.platform().isaIrq(1).set(true);
        byte[] windowRequested = new byte[1];
        vcpu.then(r -> {
            windowRequested[0] = r.get(KvmRunLayout.REQUEST_INTERRUPT_WINDOW);
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_IRQ_WINDOW_OPEN);
            r.put(KvmRunLayout.IF_FLAG, (byte) 1);
            r.put(KvmRunLayout.READY_FOR_INTERRUPT_INJECTION, (byte) 1);
        }).then(outByte(EXIT_PORT, 0));
        e.run();
        assertEquals(1, windowRequested[0], "request_interrupt_window before the first run (IF unknown)");
        assertEquals(List.of(0x09), vcpu.injected);
    }

    @Test
    void hostShutdownKicksAGuestSpinningInKvmRun() throws Exception {
        KvmEngine e = engine(false);
        Thread host = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ignored) {
                return;
            }
            e.post(() -> e.requestExit(new Exit.Shutdown("host-signal")));
        });
        host.start();
        assertEquals(new Exit.Shutdown("host-signal"), e.run());
        host.join();
    }

    @Test
    void guestHaltedWithInterruptsOffWaitsForTheHostAndSaysSoOnce() {
        KvmEngine e = engine(false);
        vcpu.then(at(0, 0x7c10).andThen(r -> {
            r.putInt(KvmRunLayout.EXIT_REASON, KvmIoctls.KVM_EXIT_HLT);
            r.put(KvmRunLayout.IF_FLAG, (byte) 0);
        }));
        new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ignored) {
                return;
            }
            e.post(() -> e.requestExit(new Exit.Shutdown("host-qmp-quit")));
        }).start();
        assertEquals(new Exit.Shutdown("host-qmp-quit"), e.run());
        assertEquals("ioemu: guest halted with interrupts disabled at 0000:00007c10\n", err());
    }

    @Test
    void machineResetFromAMonitorThreadKicksTheVcpuAndEndsTheRunUnderNoReboot() {
        KvmEngine e = engine(true);
        new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ignored) {
                return;
            }
            machine.reset();   // QMP system_reset runs on the monitor's thread
        }).start();
        assertEquals(new Exit.Status(0), e.run());
    }
}
