package dev.ioemu.emulator.engine;

import dev.ioemu.bios.Bios;
import dev.ioemu.bios.BootListener;
import dev.ioemu.bios.ConsoleInput;
import dev.ioemu.bios.ConsoleOutput;
import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuMemory;
import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.MemoryBus;
import dev.ioemu.devices.bus.AddressSpace;
import dev.ioemu.devices.bus.RamBlock;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.devices.isa.SerialBackend;
import dev.ioemu.devices.isa.Uart16550;
import dev.ioemu.emulator.chardev.Chardevs;
import dev.ioemu.emulator.cli.PlatformOptions;
import dev.ioemu.emulator.cli.UsageException;
import dev.ioemu.emulator.machine.MachineComponent;
import dev.ioemu.emulator.machine.PcMachine;
import dev.ioemu.emulator.machine.PcPlatformWiring;
import dev.ioemu.emulator.machine.PciIdeWiring;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A pc machine run by the software CPU: the CPU's view of the machine's one address space (RAM
 * and ROM straight from the mapped blocks, everything else through it), the HLE BIOS (or a
 * {@code -bios} image such as SeaBIOS) in the BIOS ROM, INT 13h on the IDE drives' own request
 * queues, the serial and debug consoles, isa-debug-exit, and the A20 gate.
 */
public final class SoftPc {
    /** INT 19h's drive for {@code -boot c}; floppy and CD-ROM boot are not modelled. */

    private final SoftCpuEngine engine;
    private final List<Connection> consoles;

    private SoftPc(SoftCpuEngine engine, List<Connection> consoles) {
        this.engine = engine;
        this.consoles = consoles;
    }

    public SoftCpuEngine engine() {
        return engine;
    }

    /** Flushes and closes the consoles' character devices (stdio stays open). */
    public void closeOutputs() {
        for (Connection c : consoles) {
            try {
                c.out().flush();
                c.close();
            } catch (IOException ignored) {
                // Exiting: a console file that cannot be flushed loses only console text.
            }
        }
    }

    /**
     * Builds the CPU, firmware and consoles around {@code machine} (its chips and IDE already attached).
     *
     * @param rtcBaseSeconds the guest's wall time at start (from {@code -rtc}), for INT 1Ah
     * @throws UsageException when a -bios file or a console file cannot be opened
     */
    public static SoftPc build(PcMachine machine, PciIdeWiring ideWiring, PlatformOptions options, long rtcBaseSeconds,
                               PrintStream err) throws UsageException {
        AddressSpace space = machine.addressSpace();
        CpuMemory memory = new CpuMemory(new AddressSpaceBus(space));
        mapDirect(memory, space);
        space.addRamWriteListener(memory::invalidateCode);
        PcPlatformWiring platform = machine.platform();
        platform.a20Gate().setListener(memory::setA20);
        memory.setA20(platform.a20Gate().enabled());
        Cpu cpu = new Cpu(CpuModel.I386, memory);

        List<Connection> consoles = new ArrayList<>();
        SoftCpuEngine[] engineRef = new SoftCpuEngine[1];
        Connection serial = options.serial() == null ? null : open("-serial", options.serial(), consoles);
        OutputStream serialOut = serial == null ? null : serial.out();
        Uart16550 com1 = serialOut == null ? null : platform.attachCom1(backend(serialOut));
        if (options.debugcon() != null) {
            platform.attachDebugCon(0xe9, backend(open("-debugcon", options.debugcon(), consoles).out()));
        }
        for (PlatformOptions.IsaDevice d : options.isaDevices()) {
            switch (d.driver()) {
                case "isa-debug-exit" -> platform.attachDebugExit(d.iobase(), d.iosize(),
                        status -> engineRef[0].requestExit(new SoftCpuEngine.Exit.Status(status)));
                case "isa-debugcon" -> platform.attachDebugCon(d.iobase(),
                        d.output() == null ? b -> { } : backend(open("-chardev", d.output(), consoles).out()));
                default -> throw new IllegalStateException("ISA driver " + d.driver());
            }
        }

        Bios bios = null;
        if (options.bios() != null) {
            // The image is already in the ROM and its shadow (PcMachine placed it): nothing to load.
            if (machine.memoryMap().firmwareShadow() == null) {
                throw new IllegalStateException("-bios " + options.bios() + " given but the machine was built without it");
            }
            dev.ioemu.emulator.machine.FirmwareCmos.describeDisks(machine, ideWiring);
        } else {
            ConsoleOutput console = serialOut != null ? ch -> write(serialOut, ch) : ch -> write(System.out, ch);
            ConsoleInput keyboard = new ConsoleInput();
            if (options.serial() != null && options.serial().kind() == PlatformOptions.CharTarget.Kind.STDIO) {
                startStdinReader(engineRef, com1, keyboard, serial.in());
            }
            bios = HleBios.create(memory, machine, platform, ideWiring, com1 != null, console, keyboard,
                    rtcBaseSeconds, new BootListener() {
                        @Override public void bootFailed(String reason) {
                            err.println("ioemu: no bootable device: " + reason);
                            engineRef[0].requestExit(new SoftCpuEngine.Exit.Status(1));
                        }
                    });
            machine.memoryMap().loadBios(bios.romImage());
        }

        SoftCpuEngine engine = new SoftCpuEngine(cpu, new SoftCpuEngine.Timebase() {
            @Override public long nextDeadline() { return machine.clock().nextDeadline(); }

            @Override public long advanceTo(long target) { return machine.clock().advanceTo(target); }
        }, machine.ioBus(), bios == null ? null : bios.dispatcher(), platform.interruptController(),
                machine::reset, options.noReboot(), options.icountSleep(), options.nanosPerInstruction());
        engineRef[0] = engine;
        // QMP/HMP stop, cont, -S and system_reset act on this CPU between instructions.
        engine.setRunGate(() -> machine.runState().state().running);
        machine.runState().attachVcpu(new dev.ioemu.emulator.machine.RunStateControl.Vcpu() {
            @Override public void kick() { engine.kick(); }

            @Override public void post(Runnable task) { engine.post(task); }
        });
        machine.addComponent(new MachineComponent() {
            @Override public void reset() { engine.machineWasReset(); }
        });
        cpu.reset();
        return new SoftPc(engine, consoles);
    }

    /** RAM and ROM below 4 GiB go to the CPU's fast path, chunk by chunk. */
    private static void mapDirect(CpuMemory memory, AddressSpace space) {
        for (AddressSpace.Mapping m : space.mappings()) {
            if (m.kind() == AddressSpace.Kind.MMIO || m.start() >= (1L << 32)) {
                continue;
            }
            long done = 0;
            while (done < m.size()) {
                long offset = m.blockOffset() + done;
                RamBlock.Chunk chunk = m.block().chunkAt(offset);
                long inChunk = offset - chunk.offset();
                long length = Math.min(m.size() - done, chunk.size() - inChunk);
                length = Math.min(length, (1L << 32) - (m.start() + done));
                ByteBuffer slice = chunk.buffer().duplicate().position((int) inChunk).limit((int) (inChunk + length)).slice();
                if (m.kind() == AddressSpace.Kind.RAM) {
                    memory.mapRam(m.start() + done, slice);
                } else {
                    memory.mapRom(m.start() + done, slice);
                }
                done += length;
            }
        }
    }


    /** Opens a console's character device (devices.chardev), as QEMU's {@code -serial}/{@code -debugcon}. */
    private static Connection open(String option, PlatformOptions.CharTarget target, List<Connection> consoles)
            throws UsageException {
        Connection c;
        try {
            c = Chardevs.backend(target).open().next();
        } catch (IOException e) {
            throw new UsageException(option + " " + Chardevs.spelling(target) + ": could not open: " + e.getMessage(), e);
        }
        consoles.add(c);
        return c;
    }

    private static SerialBackend backend(OutputStream out) {
        return b -> write(out, b & 0xff);
    }

    private static void write(OutputStream out, int b) {
        try {
            out.write(b);
            if (b == '\n') {
                // Each line is visible while the VM runs, in a file too (QEMU's file chardev writes
                // every byte at once): tests watch a guest's console for the moment to act.
                out.flush();
            }
        } catch (IOException ignored) {
            // A console whose reader went away loses console text, never guest state.
        }
    }

    /** Console input: bytes typed on stdin reach COM1 and the BIOS keyboard on the engine thread. */
    private static void startStdinReader(SoftCpuEngine[] engine, Uart16550 com1, ConsoleInput keyboard, InputStream in) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[256];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    byte[] data = java.util.Arrays.copyOf(buf, n);
                    engine[0].post(() -> {
                        if (com1 != null) {
                            com1.receive(data, 0, data.length);
                        }
                        keyboard.offerText(new String(data, java.nio.charset.StandardCharsets.ISO_8859_1));
                    });
                }
            } catch (IOException e) {
                // stdin closed: no more console input.
            }
        }, "console-input");
        t.setDaemon(true);
        t.start();
    }

    /** The CPU's slow path: ROM writes, MMIO and unassigned space through the machine's map. */
    private record AddressSpaceBus(AddressSpace space) implements MemoryBus {
        @Override
        public int read(long address, int size) {
            return switch (size) {
                case 1 -> space.readByte(address);
                case 2 -> space.readWord(address);
                default -> space.readDword(address);
            };
        }

        @Override
        public void write(long address, int size, int value) {
            switch (size) {
                case 1 -> space.writeByte(address, value);
                case 2 -> space.writeWord(address, value);
                default -> space.writeDword(address, value);
            }
        }
    }
}
