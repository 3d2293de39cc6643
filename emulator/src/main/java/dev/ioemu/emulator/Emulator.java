package dev.ioemu.emulator;

import dev.ioemu.devices.chardev.ChardevEndpoint;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.devices.trace.Trace;
import dev.ioemu.devices.trace.TraceEvent;
import dev.ioemu.emulator.chardev.Chardevs;
import dev.ioemu.emulator.cli.ChardevSpec;
import dev.ioemu.emulator.cli.IdeDrivePlacement;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.cli.VmConfig;
import dev.ioemu.emulator.engine.SoftCpuEngine;
import dev.ioemu.emulator.debug.CpuDebugLog;
import dev.ioemu.emulator.debug.LogItem;
import dev.ioemu.emulator.engine.SoftPc;
import dev.ioemu.emulator.engine.kvm.KvmHost;
import dev.ioemu.emulator.engine.kvm.KvmPc;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PciIdeWiring;
import dev.ioemu.emulator.qmp.QmpMonitor;
import dev.ioemu.emulator.qtest.QtestLog;
import dev.ioemu.emulator.qtest.QtestServer;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

/**
 * One VM process: builds the machine from a {@link VmConfig}, opens the qtest and QMP chardevs
 * the way libqtest expects (connecting as a client to its sockets), serves them, and owns the one
 * way out: {@link #shutdown} drains and flushes every drive, then exits with status 0 — for QMP
 * {@code quit}, SIGTERM/SIGINT/SIGHUP (libqtest requires status 0 after SIGTERM; the JVM's own
 * default would be 143) and the death of the parent with {@code exit-with-parent=on}.
 *
 * <p>Threads: the qtest server runs on the thread that called {@link #run}; each QMP monitor has
 * its own thread; signal handlers run on a JVM signal thread. End of qtest input does not end
 * the process (QEMU's behaviour).
 */
public final class Emulator {
    private final VmConfig config;
    private final PrintStream err;
    private final IntConsumer exit;
    private final List<ChardevEndpoint> endpoints = new ArrayList<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile PcMachine machine;
    private volatile SoftPc softPc;
    private volatile KvmPc kvmPc;
    /** Where {@code -d} logs go: the -D file (shared with trace events), else stderr. */
    private PrintStream debugOut;
    private volatile Thread softEngineThread;   // read by signal and QMP threads in shutdown()
    /**
     * A quit (QMP, signal) that came while the CPU engine was still being built: the engine
     * thread takes it up as soon as it exists, so drives are never closed under a BIOS that is
     * about to read them. Guarded by {@code this}, with {@link #engineExpected}.
     */
    private String pendingQuit;
    private boolean engineExpected;
    private volatile QtestLog qtestLog = QtestLog.disabled();
    private boolean shuttingDown;

    /**
     * @param exit how to end the process (System::exit; tests pass a recorder)
     */
    public Emulator(VmConfig config, PrintStream err, IntConsumer exit) {
        this.config = config;
        this.err = err;
        this.debugOut = err;
        this.exit = exit;
    }

    /**
     * Starts the VM and serves until {@link #shutdown}.
     *
     * @throws UsageException for a setup error (bad accelerator, unopenable chardev or log,
     *                        drive errors): the caller prints it and exits 1
     */
    public void run() throws UsageException, IOException {
        // Probed only when it matters: a qtest or software-CPU start never looks at the host's KVM.
        KvmHost kvmHost = null;
        if (config.kvmAccelerator()) {
            kvmHost = KvmHost.probe();
            if (!kvmHost.present()) {
                throw new UsageException(kvmHost.absentError());
            }
            if (kvmHost.slownessWarning() != null) {
                err.println(kvmHost.slownessWarning());
            }
        }
        if (config.exitWithParent()) {
            // First, before the machine is built: a parent that dies during start-up is still seen.
            Lifecycle.exitWithParent(this);
        }
        setUpTracing();
        if (TraceEvent.KVM_ACCEL_SELECTED.enabled) {
            KvmHost host = kvmHost != null ? kvmHost : KvmHost.probe();
            Trace.emit(TraceEvent.KVM_ACCEL_SELECTED, config.accelerator(), host.kind() + " " + host.detail());
        }
        checkStdioUsedOnce();
        try {
            machine = new PcMachine(config.ramSize(), config.startPaused(), firmware());
        } catch (dev.ioemu.devices.bus.MemoryAllocationException e) {
            throw new UsageException("-m " + (config.ramSize() >> 20) + "M: " + e.getMessage(), e);
        }
        machine.platform().setRtcBase(config.rtc().baseEpochSeconds(System.currentTimeMillis() / 1000));
        ChardevEndpoint qtestEndpoint;
        PciIdeWiring ideWiring;
        List<ChardevEndpoint> monitors = new ArrayList<>();
        try {
            ideWiring = IdeDrivePlacement.attach(machine, config);
            try {
                qtestLog = QtestLog.forOption(config.qtestLog());
            } catch (IOException e) {
                throw new UsageException("-qtest-log " + config.qtestLog() + ": cannot open: "
                        + dev.ioemu.emulator.cli.HostErrorText.reason(e), e);
            }
            qtestEndpoint = config.qtest() == null ? null : open("-qtest", config.qtest());
            for (ChardevSpec m : config.monitors()) {
                monitors.add(open("-qmp", m));
            }
        } catch (UsageException | RuntimeException e) {
            // Release drives that did open (their locks) before the process reports and exits.
            machine.shutdown();
            closeEndpoints();
            throw e;
        }
        synchronized (this) {
            engineExpected = qtestEndpoint == null && (config.softAccelerator() || config.kvmAccelerator());
        }
        Lifecycle.installSignalHandlers(this);
        if (!monitors.isEmpty()) {
            // Made only for a monitor to serve: a `-qtest stdio` start has none.
            QmpMonitor qmp = new QmpMonitor(machine, this::shutdown);
            // QEMU's "present" says KVM support is built in (always, here), not that /dev/kvm exists.
            qmp.reportKvm(config.kvmAccelerator(), true);
            for (int i = 0; i < monitors.size(); i++) {
                ChardevEndpoint ep = monitors.get(i);
                Thread t = new Thread(() -> serveMonitor(qmp, ep), "qmp-" + i);
                t.setDaemon(true);
                t.start();
            }
        }
        if (config.softAccelerator() && qtestEndpoint == null) {
            runSoftCpu(ideWiring);
            return;
        }
        if (config.kvmAccelerator() && qtestEndpoint == null) {
            runKvm(ideWiring);
            return;
        }
        if (qtestEndpoint != null) {
            QtestServer server = new QtestServer(machine, config.qtestAccelerator(), qtestLog);
            Connection c;
            while ((c = qtestEndpoint.next()) != null) {
                server.serve(c);
            }
        }
        awaitShutdown();
    }

    /** The {@code -bios} image of a software-CPU run, or null (HLE BIOS; qtest never runs firmware). */
    private dev.ioemu.emulator.machine.FirmwareImage firmware() throws UsageException {
        java.nio.file.Path file = config.platform().bios();
        try {
            return file == null || !config.softAccelerator() ? null : dev.ioemu.emulator.machine.FirmwareImage.load(file);
        } catch (dev.ioemu.emulator.machine.MachineSetupException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }

    /**
     * Runs the guest on the software CPU on this thread until it exits (isa-debug-exit, a reset
     * under -no-reboot, no bootable device) or the host ends it (signal, QMP quit).
     */
    private void runSoftCpu(PciIdeWiring ideWiring) throws UsageException {
        SoftPc pc;
        try {
            pc = SoftPc.build(machine, ideWiring, config.platform(),
                    config.rtc().baseEpochSeconds(System.currentTimeMillis() / 1000), err);
        } catch (UsageException | RuntimeException e) {
            machine.shutdown();
            closeEndpoints();
            throw e;
        }
        if (CpuDebugLog.attach(pc.engine().cpu(), config.debugLog(), debugOut) != null
                && config.debugLog().has(LogItem.CPU_RESET)) {
            // The machine reset its CPU before the log was attached: QEMU logs that reset too.
            pc.engine().cpu().reset();
        }
        String quit = engineStarts(Thread.currentThread(), pc, null);
        SoftCpuEngine.Exit exit = quit != null ? new SoftCpuEngine.Exit.Shutdown(quit) : pc.engine().run();
        engineEnded();
        pc.closeOutputs();
        if (exit instanceof SoftCpuEngine.Exit.Status s) {
            shutdown("guest-shutdown", s.code());
        } else if (exit instanceof SoftCpuEngine.Exit.Shutdown s) {
            shutdown(s.reason(), 0);
        }
    }

    /** Runs the guest under KVM on this thread (it creates the vCPU) until it exits, as {@link #runSoftCpu}. */
    private void runKvm(PciIdeWiring ideWiring) throws UsageException {
        KvmPc pc;
        try {
            pc = KvmPc.build(machine, ideWiring, config.platform(),
                    config.rtc().baseEpochSeconds(System.currentTimeMillis() / 1000), err);
        } catch (UsageException | RuntimeException e) {
            machine.shutdown();
            closeEndpoints();
            throw e;
        }
        String quit = engineStarts(Thread.currentThread(), null, pc);
        SoftCpuEngine.Exit exit = quit != null ? new SoftCpuEngine.Exit.Shutdown(quit) : pc.engine().run();
        engineEnded();
        pc.close();
        if (exit instanceof SoftCpuEngine.Exit.Status s) {
            shutdown("guest-shutdown", s.code());
        } else if (exit instanceof SoftCpuEngine.Exit.Shutdown s) {
            shutdown(s.reason(), 0);
        }
    }

    private void setUpTracing() throws UsageException {
        config.trace().apply(err);
        for (String pattern : config.debugLog().tracePatterns()) {
            Trace.enable(pattern);
        }
        if (config.logFile() != null && !config.debugLog().items().isEmpty()) {
            // QEMU writes -d logs and trace events to the one -D file: -d lines join the trace sink.
            debugOut = new PrintStream(new dev.ioemu.emulator.debug.LogFileStream(), false);
        }
    }

    private void checkStdioUsedOnce() throws UsageException {
        int stdio = 0;
        if (config.qtest() != null && config.qtest().kind() == ChardevSpec.Kind.STDIO) {
            stdio++;
        }
        for (ChardevSpec m : config.monitors()) {
            if (m.kind() == ChardevSpec.Kind.STDIO) {
                stdio++;
            }
        }
        if (stdio > 1) {
            throw new UsageException("-qmp stdio: stdio is already in use (expected: one of -qtest/-qmp on stdio)");
        }
    }

    private ChardevEndpoint open(String option, ChardevSpec spec) throws UsageException {
        try {
            ChardevEndpoint ep = Chardevs.backend(spec).open();
            synchronized (endpoints) {
                endpoints.add(ep);
            }
            return ep;
        } catch (IOException e) {
            throw new UsageException(spec.label(option) + ": " + e.getMessage(), e);
        } catch (java.nio.channels.UnresolvedAddressException e) {
            throw new UsageException(spec.label(option) + ": address resolution failed for " + spec.host() + ":"
                    + spec.port() + ": Name or service not known", e);
        }
    }

    private void serveMonitor(QmpMonitor qmp, ChardevEndpoint ep) {
        try {
            while (true) {
                Connection next = ep.next();
                if (next == null) {
                    return;
                }
                try (Connection c = next) {
                    qmp.serve(c);
                }
            }
        } catch (IOException e) {
            // The listening socket was closed: no more monitor clients.
        }
    }

    private void awaitShutdown() {
        try {
            finished.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Ends the VM: SHUTDOWN event, drain and flush every drive, close the logs, exit 0. Safe to
     * call from any thread and more than once (later calls do nothing).
     *
     * @param reason QEMU's SHUTDOWN reason, e.g. "host-qmp-quit" or "host-signal"
     */
    public void shutdown(String reason) {
        Thread engineThread;
        SoftPc pc;
        KvmPc kvm;
        synchronized (this) {
            if (engineExpected && softEngineThread == null) {
                // The engine is still being built on the main thread: it ends the VM at once.
                if (pendingQuit == null) {
                    pendingQuit = reason;
                }
                return;
            }
            engineThread = softEngineThread;
            pc = softPc;
            kvm = kvmPc;
        }
        if (engineThread != null && engineThread != Thread.currentThread() && kvm != null) {
            kvm.engine().post(() -> kvm.engine().requestExit(new SoftCpuEngine.Exit.Shutdown(reason)));
            return;
        }
        if (engineThread != null && engineThread != Thread.currentThread() && pc != null) {
            // The guest runs on the engine thread: stop it there; it then comes back here.
            pc.engine().post(() -> pc.engine().requestExit(new SoftCpuEngine.Exit.Shutdown(reason)));
            return;
        }
        shutdown(reason, 0);
    }

    /** The engine thread is about to run the guest: returns the quit that came meanwhile, or null. */
    private synchronized String engineStarts(Thread thread, SoftPc pc, KvmPc kvm) {
        softPc = pc;
        kvmPc = kvm;
        softEngineThread = thread;
        return pendingQuit;
    }

    private synchronized void engineEnded() {
        softEngineThread = null;
        engineExpected = false;
    }

    /** Ends the VM as {@link #shutdown(String)} does, with {@code exitStatus} unless flushing fails. */
    private void shutdown(String reason, int exitStatus) {
        synchronized (this) {
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
        }
        int status = exitStatus;
        if (machine != null) {
            machine.runState().shutdown(reason);
            try {
                synchronized (machine) {
                    machine.shutdown();
                }
            } catch (RuntimeException e) {
                err.println("ioemu: error while flushing drives at exit: " + e);
                status = 1;
            }
        }
        closeEndpoints();
        Trace.flush();
        qtestLog.close();
        err.flush();
        finished.countDown();
        exit.accept(status);
    }

    private void closeEndpoints() {
        synchronized (endpoints) {
            for (ChardevEndpoint ep : endpoints) {
                try {
                    ep.close();
                } catch (IOException ignored) {
                    // Exiting anyway; a stale socket path is harmless.
                }
            }
        }
    }

    PrintStream err() {
        return err;
    }
}
