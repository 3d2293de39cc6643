package dev.ioemu.emulator.engine.kvm;

import dev.ioemu.bios.Bios;
import dev.ioemu.bios.BootListener;
import dev.ioemu.bios.ConsoleInput;
import dev.ioemu.bios.ConsoleOutput;
import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.isa.SerialBackend;
import dev.ioemu.devices.isa.Uart16550;
import dev.ioemu.devices.time.MonotonicClock;
import dev.ioemu.emulator.cli.PlatformOptions;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.engine.SoftCpuEngine.Exit;
import dev.ioemu.emulator.machine.MachineComponent;
import dev.ioemu.emulator.engine.HleBios;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PcPlatformWiring;
import dev.ioemu.emulator.machine.PciIdeWiring;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A pc machine run by KVM: the same machine, chips, IDE drives and HLE BIOS as the software CPU
 * ({@code SoftPc}), with the guest CPU in a {@link KvmVm}. Guest RAM and the BIOS ROM are the
 * address space's own RamBlocks registered as memory slots; the BIOS traps through
 * {@code OUT 0xE0} IO exits; interrupts come from the Java 8259s; time is the host's monotonic
 * clock. Build and run on one thread: KVM wants its vCPU driven by the thread that created it.
 */
public final class KvmPc implements AutoCloseable {

    /** Where the vCPU comes from: /dev/kvm, or (tests) another keeper of the kvm_run contract. */
    @FunctionalInterface
    interface VcpuSource {
        /** A vCPU over {@code space}'s RAM and ROM, created on the calling (vCPU) thread. */
        Vcpu open(AddressSpace space) throws KvmException;
    }

    private final Vcpu vcpu;
    private final KvmEngine engine;
    private final List<OutputStream> outputs;

    private KvmPc(Vcpu vcpu, KvmEngine engine, List<OutputStream> outputs) {
        this.vcpu = vcpu;
        this.engine = engine;
        this.outputs = outputs;
    }

    public KvmEngine engine() {
        return engine;
    }

    /**
     * Builds the firmware, consoles and the KVM VM around {@code machine} (its chips and IDE
     * already attached), on the calling thread, which must then call {@code engine().run()}.
     *
     * @throws UsageException when a console file or -bios image cannot be opened, or KVM refuses a set-up step
     */
    public static KvmPc build(PcMachine machine, PciIdeWiring ideWiring, PlatformOptions options, long rtcBaseSeconds,
                              PrintStream err) throws UsageException {
        return build(machine, ideWiring, options, rtcBaseSeconds, err, KvmPc::openKvm);
    }

    /** vCPU 0 of a new /dev/kvm VM whose memory slots are {@code space}'s RAM and ROM. */
    private static Vcpu openKvm(AddressSpace space) throws KvmException {
        KvmVm vm = KvmVm.create(space);
        try {
            return vm.createVcpu();
        } catch (KvmException | RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    static KvmPc build(PcMachine machine, PciIdeWiring ideWiring, PlatformOptions options, long rtcBaseSeconds,
                       PrintStream err, VcpuSource source) throws UsageException {
        PcPlatformWiring platform = machine.platform();
        List<OutputStream> outputs = new ArrayList<>();
        KvmEngine[] engineRef = new KvmEngine[1];
        OutputStream serialOut = options.serial() == null ? null : open("-serial", options.serial(), outputs);
        Uart16550 com1 = serialOut == null ? null : platform.attachCom1(backend(serialOut));
        if (options.debugcon() != null) {
            platform.attachDebugCon(0xe9, backend(open("-debugcon", options.debugcon(), outputs)));
        }
        for (PlatformOptions.IsaDevice d : options.isaDevices()) {
            switch (d.driver()) {
                case "isa-debug-exit" -> platform.attachDebugExit(d.iobase(), d.iosize(),
                        status -> engineRef[0].requestExit(new Exit.Status(status)));
                case "isa-debugcon" -> platform.attachDebugCon(d.iobase(),
                        d.output() == null ? b -> { } : backend(open("-chardev", d.output(), outputs)));
                default -> throw new IllegalStateException("ISA driver " + d.driver());
            }
        }
        Bios bios = null;
        if (options.bios() != null) {
            machine.memoryMap().loadBios(readFirmware(options.bios()));
        } else {
            ConsoleOutput console = serialOut != null ? ch -> write(serialOut, ch) : ch -> write(System.out, ch);
            ConsoleInput keyboard = new ConsoleInput();
            if (options.serial() != null && options.serial().kind() == PlatformOptions.CharTarget.Kind.STDIO) {
                startStdinReader(engineRef, com1, keyboard);
            }
            bios = HleBios.create(machine.addressSpace(), machine, platform, ideWiring, com1 != null, console, keyboard,
                    rtcBaseSeconds, new BootListener() {
                        @Override public void bootFailed(String reason) {
                            err.println("ioemu: no bootable device: " + reason);
                            engineRef[0].requestExit(new Exit.Status(1));
                        }
                    });
            machine.memoryMap().loadBios(bios.romImage());
        }
        Vcpu vcpu;
        try {
            vcpu = source.open(machine.addressSpace());
        } catch (KvmException e) {
            throw new UsageException("-accel kvm: " + e.getMessage(), e);
        }
        KvmEngine engine = new KvmEngine(vcpu, machine.ioBus(), machine.addressSpace(), bios == null ? null : bios.dispatcher(),
                platform.interruptController(), machine.clock(), new MonotonicClock(), machine::reset, options.noReboot(), err);
        engineRef[0] = engine;
        machine.addComponent(new MachineComponent() {
            @Override public void reset() { engine.machineWasReset(); }
        });
        return new KvmPc(vcpu, engine, outputs);
    }


    private static byte[] readFirmware(Path file) throws UsageException {
        try {
            byte[] image = Files.readAllBytes(file);
            if (image.length == 0 || image.length > 256 * 1024 || image.length % 65536 != 0) {
                throw new UsageException("-bios " + file + ": " + image.length + " bytes (expected: 64, 128, 192 or 256 KiB)");
            }
            return image;
        } catch (IOException e) {
            throw new UsageException("-bios " + file + ": could not load: " + e.getMessage(), e);
        }
    }

    private static OutputStream open(String option, PlatformOptions.CharTarget target, List<OutputStream> outputs)
            throws UsageException {
        OutputStream out = switch (target.kind()) {
            case STDIO -> System.out;
            case NULL -> OutputStream.nullOutputStream();
            case FILE -> {
                try {
                    yield new BufferedOutputStream(Files.newOutputStream(target.file()));
                } catch (IOException e) {
                    throw new UsageException(option + " file:" + target.file() + ": could not open: " + e.getMessage(), e);
                }
            }
        };
        outputs.add(out);
        return out;
    }

    private static SerialBackend backend(OutputStream out) {
        return b -> write(out, b & 0xff);
    }

    private static void write(OutputStream out, int b) {
        try {
            out.write(b);
            if (out == System.out && b == '\n') {
                out.flush();
            }
        } catch (IOException ignored) {
            // A console whose reader went away loses console text, never guest state.
        }
    }

    /** Console input: bytes typed on stdin reach COM1 and the BIOS keyboard on the vCPU thread. */
    private static void startStdinReader(KvmEngine[] engine, Uart16550 com1, ConsoleInput keyboard) {
        Thread t = new Thread(() -> {
            InputStream in = System.in;
            byte[] buf = new byte[256];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    byte[] data = Arrays.copyOf(buf, n);
                    engine[0].post(() -> {
                        if (com1 != null) {
                            com1.receive(data, 0, data.length);
                        }
                        keyboard.offerText(new String(data, StandardCharsets.ISO_8859_1));
                    });
                }
            } catch (IOException e) {
                // stdin closed: no more console input.
            }
        }, "console-input");
        t.setDaemon(true);
        t.start();
    }

    /** Releases the vCPU and the VM (after the run, before guest RAM is unmapped), and flushes the consoles. */
    @Override
    public void close() {
        vcpu.close();
        for (OutputStream o : outputs) {
            try {
                o.flush();
                if (o != System.out) {
                    o.close();
                }
            } catch (IOException ignored) {
                // Exiting: a console file that cannot be flushed loses only console text.
            }
        }
    }
}
