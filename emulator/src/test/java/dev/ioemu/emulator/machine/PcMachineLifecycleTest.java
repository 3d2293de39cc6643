package dev.ioemu.emulator.machine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The machine's lifecycle is its list of components: each step walks it in registration order. */
class PcMachineLifecycleTest {
    private static final class Recorder implements MachineComponent {
        final String name;
        final List<String> log;

        Recorder(String name, List<String> log) {
            this.name = name;
            this.log = log;
        }

        @Override public String name() { return name; }
        @Override public void reset() { log.add(name + ".reset"); }
        @Override public void resume() { log.add(name + ".resume"); }
        @Override public void drain() { log.add(name + ".drain"); }
        @Override public void shutdown() { log.add(name + ".shutdown"); }
    }

    @Test
    void resetResumeDrainAndShutdownReachEveryComponentInRegistrationOrder() {
        PcMachine machine = new PcMachine(16L << 20, true);
        List<String> log = new ArrayList<>();
        machine.addComponent(new Recorder("a", log));
        machine.addComponent(new Recorder("b", log));
        machine.reset();
        machine.runState().cont();
        machine.drain();
        machine.shutdown();
        machine.shutdown();   // idempotent
        assertEquals(List.of("a.reset", "b.reset", "a.resume", "b.resume", "a.drain", "b.drain",
                "a.shutdown", "b.shutdown"), log);
    }

    @Test
    void theBuiltInChipsAreRegisteredComponentsAndResetBringsThemBack() {
        PcMachine machine = new PcMachine(16L << 20, false);
        List<String> names = machine.components().stream().map(MachineComponent::name).toList();
        assertTrue(names.containsAll(List.of("dma1", "dma2", "fw_cfg")), names.toString());
        // fw_cfg's selector survives until reset (FW_CFG_SIGNATURE is item 0; select FW_CFG_ID = 1).
        machine.ioBus().write(PcMachine.FW_CFG_PORT, 2, 1);
        assertEquals(0x03, machine.ioBus().read(PcMachine.FW_CFG_PORT + 1, 1), "ID: traditional + DMA, as QEMU 7.2");
        machine.reset();
        assertEquals('Q', machine.ioBus().read(PcMachine.FW_CFG_PORT + 1, 1), "reset selects the signature again");
    }

    @Test
    void aComponentRegistersOnlyOnce() {
        PcMachine machine = new PcMachine(16L << 20, false);
        Recorder r = new Recorder("twice", new ArrayList<>());
        machine.addComponent(r);
        assertThrows(IllegalStateException.class, () -> machine.addComponent(r));
    }
}
