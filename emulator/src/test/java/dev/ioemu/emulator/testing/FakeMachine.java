package dev.ioemu.emulator.testing;

import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.emulator.machine.BlockInfo;
import dev.ioemu.devices.bus.GpioPins;
import dev.ioemu.emulator.machine.Machine;
import dev.ioemu.emulator.machine.PcMemoryMap;
import dev.ioemu.emulator.machine.QomDevice;
import dev.ioemu.emulator.machine.RunStateControl;
import dev.ioemu.devices.time.VirtualClock;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny machine for front-end tests: 2 MiB of RAM with the pc memory map, an IOAPIC with 24
 * pins, and two devices that stand in for IDE:
 * <ul>
 *   <li>{@link #SYNC_IRQ_PORT} (one byte): writing N raises pin 14 if N != 0, lowers it if 0, at
 *       once — like a device finishing a command synchronously;</li>
 *   <li>{@link #ASYNC_IRQ_PORT} (one byte): writing N sets pin 15 to (N != 0) later, on an "I/O
 *       thread" — like a disk completion; {@link #drain()} waits for it;</li>
 *   <li>{@link #SCRATCH_PORT} (4 bytes): a latch reading back what was written.</li>
 * </ul>
 */
public final class FakeMachine implements Machine {
    public static final int SYNC_IRQ_PORT = 0x1f7;
    public static final int ASYNC_IRQ_PORT = 0x177;
    public static final int SCRATCH_PORT = 0x500;
    public static final long RAM = 2L << 20;

    public final PcMemoryMap memory = new PcMemoryMap(RAM);
    public final GpioPins ioapic = new GpioPins(24);
    public final AtomicInteger drains = new AtomicInteger();
    public final AtomicInteger resets = new AtomicInteger();
    public final List<BlockInfo> blocks = new ArrayList<>();
    private final IoPortBus bus = new IoPortBus();
    private final VirtualClock clock = new VirtualClock();
    private final RunStateControl runState;
    private final ExecutorService ioThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-io");
        t.setDaemon(true);
        return t;
    });
    private final List<QomDevice> qom = List.of(
            new QomDevice("/machine/i440fx", new GpioPins(0), new GpioPins(0)),
            new QomDevice("/machine/i440fx/ioapic", ioapic, new GpioPins(0)));
    /** Delay of the asynchronous completion, so a test can observe it between requests. */
    public volatile long asyncDelayMillis = 50;

    public FakeMachine(boolean startPaused) {
        runState = new RunStateControl(startPaused, () -> { });
        bus.map(SYNC_IRQ_PORT, 1, port("sync-irq", v -> ioapic.set(14, v != 0 ? 1 : 0)));
        bus.map(ASYNC_IRQ_PORT, 1, port("async-irq", v -> ioThread.execute(() -> {
            sleep(asyncDelayMillis);
            ioapic.set(15, v != 0 ? 1 : 0);
        })));
        bus.map(SCRATCH_PORT, 4, new PortDevice() {
            private int latch;

            @Override public int read(int offset, int size) { return latch >>> (8 * offset); }

            @Override public void write(int offset, int size, int value) { latch = value << (8 * offset); }

            @Override public String name() { return "scratch"; }
        });
    }

    private interface Writer {
        void write(int value);
    }

    private static PortDevice port(String name, Writer w) {
        return new PortDevice() {
            @Override public int read(int offset, int size) { return 0x50; }

            @Override public void write(int offset, int size, int value) { w.write(value); }

            @Override public String name() { return name; }
        };
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override public IoPortBus ioBus() { return bus; }

    @Override public AddressSpace addressSpace() { return memory.addressSpace(); }

    @Override public VirtualClock clock() { return clock; }

    @Override public List<QomDevice> qomDevices() { return qom; }

    @Override public RunStateControl runState() { return runState; }

    @Override public void reset() { resets.incrementAndGet(); }

    @Override
    public void drain() {
        drains.incrementAndGet();
        try {
            ioThread.submit(() -> { }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("fake I/O thread did not drain", e);
        }
    }

    @Override public List<BlockInfo> blocks() { return blocks; }

    @Override public void shutdown() { ioThread.shutdown(); }
}
