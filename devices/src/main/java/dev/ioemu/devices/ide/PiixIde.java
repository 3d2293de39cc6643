package dev.ioemu.devices.ide;

import dev.ioemu.devices.block.BlockAio;
import dev.ioemu.devices.block.BlockCompletion;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.bus.IrqLine;
import dev.ioemu.devices.bus.PhysicalMemory;
import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.bus.VmStateControl;
import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.pci.PciConfigSpace;
import dev.ioemu.devices.pci.PciFunction;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * The PIIX3 IDE function at PCI 00:01.1 (8086:7010) with its two legacy channels and bus-master
 * block (shared/spec/ide.md §1, §8, §10). It maps 0x1F0-0x1F7/0x3F6 (IRQ 14) and
 * 0x170-0x177/0x376 (IRQ 15) at construction, and BAR4's 16 bytes whenever the guest has
 * programmed BAR4 and enabled I/O decoding in the PCI command register.
 *
 * <p><b>Threads and the lock.</b> Port accesses, PCI configuration and the public methods are
 * called on the one machine thread. Block requests run on one {@link BlockAio} I/O thread per
 * drive and complete there; the completion re-enters the device under {@link #lock}, the only
 * lock of the controller, which guards every field of the channels, units and engines. No
 * device code ever blocks on I/O while holding it: the machine thread waits for in-flight
 * requests (SRST, BM Stop, reset, drain) with {@link #idle}, which releases it. IRQ lines are
 * therefore set with the lock held, possibly from an I/O thread: {@link IrqLine#set} must be
 * thread-safe and must not call back into this device.
 *
 * <p>Nothing a guest writes escapes as an exception: a device-model bug caught at the port
 * boundary or in a completion is logged, kept for {@link #internalErrors()}, and the access
 * reads all-ones.
 */
public final class PiixIde implements PciFunction, AutoCloseable {
    /** Device 1, function 1 on bus 0. */
    public static final int DEVFN = 0x09;
    public static final int PRIMARY_COMMAND_BASE = 0x1F0;
    public static final int PRIMARY_CONTROL = 0x3F6;
    public static final int SECONDARY_COMMAND_BASE = 0x170;
    public static final int SECONDARY_CONTROL = 0x376;

    private static final int VENDOR_INTEL = 0x8086;
    private static final int DEVICE_82371SB_IDE = 0x7010;
    /** Prog-if 0x80 (bus-master capable, both channels fixed in compatibility mode), IDE, mass storage. */
    private static final int CLASS_IDE = 0x01_01_80;
    /** BAR4 (BMIBA): 16 bytes of I/O space. */
    private static final int BAR4 = 0x20;
    private static final int BAR4_SIZE = 16;
    private static final int BAR_IO_SPACE = 0x01;
    private static final int BAR4_ADDRESS_MASK = ~(BAR4_SIZE - 1);

    /** tryLock attempts before {@link #lockBriefly} parks: a few microseconds. */
    private static final int LOCK_SPINS = 200;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PiixIde.class);

    private final IoPortBus ports;
    private final PhysicalMemory memory;
    private final VmStateControl vm;
    /** The controller lock; see the class comment. Lock order: this lock only. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled after every completion; waited on by SRST, BM Stop, reset and drain. */
    private final Condition idle = lock.newCondition();
    private final IdeBus[] channels = new IdeBus[2];
    private final PciConfigSpace config = new PciConfigSpace();
    private final PortDevice busMasterPorts = new BusMasterPorts();
    /** Where BAR4 is mapped on the port bus, or -1. */
    private int mappedBar4 = -1;
    private final List<Throwable> internalErrors = new ArrayList<>();
    private boolean closed;

    public PiixIde(IoPortBus bus, PhysicalMemory memory, IrqLine irq14, IrqLine irq15, VmStateControl vm) {
        this.ports = bus;
        this.memory = memory;
        this.vm = vm;
        channels[0] = new IdeBus(this, 0, irq14);
        channels[1] = new IdeBus(this, 1, irq15);
        config.setIdentity(VENDOR_INTEL, DEVICE_82371SB_IDE, 0, CLASS_IDE, 0);
        config.setDefaultWriteMasks();
        config.setWriteMask(BAR4, 4, BAR4_ADDRESS_MASK);
        resetConfig();
        bus.map(PRIMARY_COMMAND_BASE, 8, channels[0].commandBlock);
        bus.map(PRIMARY_CONTROL, 1, channels[0].controlBlock);
        bus.map(SECONDARY_COMMAND_BASE, 8, channels[1].commandBlock);
        bus.map(SECONDARY_CONTROL, 1, channels[1].controlBlock);
    }

    /**
     * Attaches a drive at {@code channel} (0 primary, 1 secondary), {@code unit} (0 master,
     * 1 slave). Machine set-up only, before the guest runs.
     *
     * @throws IllegalArgumentException for a bad position, an occupied unit or a read-only disk
     */
    public void attach(int channel, int unit, IdeDriveConfig cfg) {
        if (channel < 0 || channel > 1 || unit < 0 || unit > 1) {
            throw new IllegalArgumentException("IDE position: bus " + channel + " unit " + unit
                    + " (expected: bus 0-1, unit 0-1)");
        }
        lock.lock();
        try {
            channels[channel].unit(unit).attach(cfg);
        } finally {
            lock.unlock();
        }
    }

    /** Machine reset (system_reset): waits for in-flight requests, then power-on state. */
    @Override
    public void reset() {
        lock.lock();
        try {
            for (IdeBus b : channels) {
                b.reset();
            }
            resetConfig();
            updateBar4Mapping();
        } finally {
            lock.unlock();
        }
    }

    /** The VM continued after a werror/rerror=stop pause: re-issue the parked requests. */
    public void resume() {
        lock.lock();
        try {
            for (IdeBus b : channels) {
                Runnable r = b.retry;
                b.retry = null;
                if (r != null) {
                    if (TraceEvent.IDE_RETRY.enabled) {
                        Trace.emit(TraceEvent.IDE_RETRY, b.index);
                    }
                    guarded(r);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no block request of any channel is in flight (deterministic test waits). */
    public void drain() {
        lock.lock();
        try {
            while (anyInFlight()) {
                idle.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@link #drain()} with a time limit; false if requests were still in flight. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (anyInFlight()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                idle.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Quit/stop: waits for in-flight requests, then flushes every drive (synchronously). */
    public void drainAndFlush() {
        drain();
        for (IdeBus b : channels) {
            for (int u = 0; u < 2; u++) {
                BlockDevice block = b.unit(u).block();
                if (block != null && !block.isReadOnly()) {
                    int result = block.flush();
                    if (result < 0) {
                        LOG.warn("{}: flush at shutdown failed: {}", block.name(), Errno.name(result));
                    }
                }
            }
        }
    }

    /** Drains and stops the I/O threads and unmaps the ports. Does not close the block devices. */
    @Override
    public void close() {
        drain();
        List<BlockAio> workers = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (IdeBus b : channels) {
                for (int u = 0; u < 2; u++) {
                    BlockAio aio = b.unit(u).aio();
                    if (aio != null) {
                        workers.add(aio);
                    }
                }
            }
            if (mappedBar4 >= 0) {
                ports.unmap(mappedBar4, busMasterPorts);
                mappedBar4 = -1;
            }
            ports.unmap(PRIMARY_COMMAND_BASE, channels[0].commandBlock);
            ports.unmap(PRIMARY_CONTROL, channels[0].controlBlock);
            ports.unmap(SECONDARY_COMMAND_BASE, channels[1].commandBlock);
            ports.unmap(SECONDARY_CONTROL, channels[1].controlBlock);
        } finally {
            lock.unlock();
        }
        // Outside the lock: a late completion must be able to take it while the worker stops.
        for (BlockAio aio : workers) {
            aio.close();
        }
    }

    /** Device-model bugs caught at the boundary since construction (tests assert it stays empty). */
    public List<Throwable> internalErrors() {
        lock.lock();
        try {
            return List.copyOf(internalErrors);
        } finally {
            lock.unlock();
        }
    }

    // =====================================================================================
    // PCI configuration space (§8.1)
    // =====================================================================================

    @Override
    public int configRead(int offset, int size) {
        lock.lock();
        try {
            return config.read(offset, size);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void configWrite(int offset, int size, int value) {
        lock.lock();
        try {
            config.write(offset, size, value);
            boolean touchesCommand = offset < PciConfigSpace.COMMAND + 2 && offset + size > PciConfigSpace.COMMAND;
            boolean touchesBar4 = offset < BAR4 + 4 && offset + size > BAR4;
            if (touchesCommand || touchesBar4) {
                updateBar4Mapping();
            }
        } finally {
            lock.unlock();
        }
    }

    private void resetConfig() {
        config.resetCommon();
        config.set16(PciConfigSpace.STATUS, PciConfigSpace.STATUS_DEVSEL_MEDIUM | PciConfigSpace.STATUS_FAST_BACK);
        config.set32(BAR4, BAR_IO_SPACE);
    }

    /**
     * BAR4 decodes only with I/O enabled and a non-zero base that fits the 64 KiB port space
     * (QEMU's pci_bar_address); a base that collides with another device stays unmapped.
     */
    private void updateBar4Mapping() {
        int bar = config.get32(BAR4);
        long base = bar & BAR4_ADDRESS_MASK & 0xFFFF_FFFFL;
        boolean decode = (config.get16(PciConfigSpace.COMMAND) & PciConfigSpace.COMMAND_IO) != 0
                && base != 0 && base + BAR4_SIZE <= IoPortBus.PORT_COUNT;
        int wanted = decode ? (int) base : -1;
        if (wanted == mappedBar4) {
            return;
        }
        if (mappedBar4 >= 0) {
            ports.unmap(mappedBar4, busMasterPorts);
            mappedBar4 = -1;
        }
        if (wanted >= 0) {
            try {
                ports.map(wanted, BAR4_SIZE, busMasterPorts);
                mappedBar4 = wanted;
            } catch (IllegalArgumentException overlap) {
                // The guest placed BAR4 on top of another device; QEMU would let one shadow the
                // other. We leave the bus-master block unmapped and say so.
                LOG.warn("BAR4 at 0x{}: {}", Integer.toHexString(wanted), overlap.getMessage());
            }
        }
        if (TraceEvent.PCI_BAR_MAP.enabled) {
            Trace.emit(TraceEvent.PCI_BAR_MAP, "piix3-ide", 4, mappedBar4);
        }
    }

    boolean busMasterEnabled() {
        return (config.get16(PciConfigSpace.COMMAND) & PciConfigSpace.COMMAND_MASTER) != 0;
    }

    PhysicalMemory memory() {
        return memory;
    }

    // =====================================================================================
    // Lock plumbing for the channels
    // =====================================================================================

    /** Runs a port access under the lock; a device-model bug reads as all-ones, never escapes. */
    int locked(IntSupplier access) {
        lockBriefly();
        try {
            return access.getAsInt();
        } catch (RuntimeException | AssertionError e) {
            recordInternalError(e);
            return 0xFFFF_FFFF;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the lock where the holder only ever keeps it briefly — a register access or a
     * completion: a short spin first, since parking and being woken again costs far more than the
     * wait (tens of microseconds on a small VM) and happens all the time while a guest polls a
     * status register as its transfer completes.
     */
    private void lockBriefly() {
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | AssertionError e) {
            recordInternalError(e);
        }
    }

    private void recordInternalError(Throwable e) {
        LOG.error("IDE device model internal error", e);
        internalErrors.add(e);
    }

    /**
     * Submits a block request for {@code bus}. {@code done} runs on the I/O thread with the lock
     * held, after the channel's in-flight count has dropped.
     */
    void submit(IdeBus bus, Consumer<BlockCompletion> request, IntConsumer done) {
        assert lock.isHeldByCurrentThread();
        bus.inFlight++;
        try {
            request.accept(result -> complete(bus, done, result));
        } catch (RejectedExecutionException closedAio) {
            bus.inFlight--;
            done.accept(-Errno.EIO);
        }
    }

    private void complete(IdeBus bus, IntConsumer done, int result) {
        lockBriefly();
        try {
            bus.inFlight--;
            done.accept(result);
        } catch (RuntimeException | AssertionError e) {
            recordInternalError(e);
        } finally {
            idle.signalAll();
            lock.unlock();
        }
    }

    /** Machine thread: waits (releasing the lock) until {@code bus} has nothing in flight. */
    void awaitBusIdle(IdeBus bus) {
        assert lock.isHeldByCurrentThread();
        while (bus.inFlight > 0) {
            idle.awaitUninterruptibly();
        }
    }

    /** Machine thread: waits (releasing the lock) for the next completion of any request. */
    void awaitCompletion() {
        assert lock.isHeldByCurrentThread();
        idle.awaitUninterruptibly();
    }

    boolean canStop() {
        return vm != VmStateControl.NONE;
    }

    void requestStop() {
        vm.requestStop("io-error");
    }

    void reportIoError(BlockDevice drive, boolean isRead, String action, int errno) {
        vm.blockIoError(drive, isRead, action, errno);
    }

    private boolean anyInFlight() {
        return channels[0].inFlight > 0 || channels[1].inFlight > 0;
    }

    /** Test access to a unit. */
    IdeDevice device(int channel, int unit) {
        return channels[channel].unit(unit);
    }

    /** IDE units: two channels of two (QEMU's {@code -drive index=0..3}). */
    public static final int MAX_DRIVES = 4;

    /**
     * The drive at IDE index {@code index} = channel × 2 + unit (QEMU's {@code -drive index=}:
     * 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave), or null if no
     * drive is attached there. The machine hands these to the BIOS, whose INT 13h services submit
     * to {@link IdeDevice#requestQueue()}.
     */
    public IdeDevice drive(int index) {
        if (index < 0 || index >= MAX_DRIVES) {
            throw new IllegalArgumentException("IDE index: " + index + " (expected: 0 to " + (MAX_DRIVES - 1) + ")");
        }
        IdeDevice d = channels[index / 2].unit(index % 2);
        return d.present() ? d : null;
    }

    /** BAR4 (16 bytes): channel 0's engine at +0..+7, channel 1's at +8..+15 (§8.2). */
    private final class BusMasterPorts implements PortDevice {
        @Override
        public int read(int offset, int size) {
            return locked(() -> channels[offset >> 3].dma.read(offset & 7, size));
        }

        @Override
        public void write(int offset, int size, int value) {
            locked(() -> {
                channels[offset >> 3].dma.write(offset & 7, size, value);
                return 0;
            });
        }

        @Override
        public String name() {
            return "piix-bmdma";
        }
    }
}
