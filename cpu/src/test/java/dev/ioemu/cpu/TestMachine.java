package dev.ioemu.cpu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A bare machine for CPU tests: RAM at 0 (all-ones beyond it), guest code assembled with nasm
 * and loaded at 0000:7C00 like a boot sector, a trap port (0xE0) that records the register file
 * and stops the CPU, and a programmable INTR line.
 */
final class TestMachine implements IoPorts, InterruptController {
    static final int LOAD_ADDRESS = 0x7C00;
    static final int TRAP_PORT = 0xE0;

    final CpuMemory memory;
    final Cpu cpu;
    final List<int[]> traps = new ArrayList<>();
    final List<String> unimplemented = new ArrayList<>();
    Integer pendingVector;
    int nmiCount;
    int acknowledged;

    TestMachine(CpuModel model, int ramBytes) {
        memory = new CpuMemory(MemoryBus.UNASSIGNED);
        memory.mapRam(0, ByteBuffer.allocateDirect(ramBytes));
        cpu = new Cpu(model, memory);
        cpu.setIoPorts(this);
        cpu.setInterruptController(this);
        cpu.setListener(new CpuListener() {
            @Override
            public void unimplementedOpcode(int cs, int eip, byte[] bytes, int length) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < length; i++) {
                    sb.append(String.format("%02x", bytes[i] & 0xFF));
                }
                unimplemented.add(sb.toString());
            }
        });
    }

    /** Assembles {@code source} (nasm, flat binary, org 0x7C00) and points CS:IP at it. */
    void load(String source) {
        byte[] code = assemble(source);
        memory.write(LOAD_ADDRESS, code, 0, code.length);
        cpu.setSegmentRealMode(Cpu.CS, 0);
        cpu.setEip(LOAD_ADDRESS);
    }

    static byte[] assemble(String source) {
        try {
            Path dir = Files.createTempDirectory("ioemu-cpu-test");
            try {
                Path asm = dir.resolve("t.asm");
                Path bin = dir.resolve("t.bin");
                Files.writeString(asm, "org 0x7c00\n" + source);
                Process p;
                try {
                    p = new ProcessBuilder("nasm", "-f", "bin", "-o", bin.toString(), asm.toString())
                            .redirectErrorStream(true).start();
                } catch (IOException e) {
                    assumeTrue(false, "skipped: nasm not installed");
                    throw e;
                }
                String out = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("nasm failed: " + out);
                }
                return Files.readAllBytes(bin);
            } finally {
                try (var s = Files.walk(dir)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public int in(int port, int size) {
        return size == 1 ? 0xFF : size == 2 ? 0xFFFF : -1;
    }

    /** OUT to the trap port: record EAX…EDI, EIP (already past the OUT) and stop. */
    @Override
    public void out(int port, int size, int value) {
        if (port == TRAP_PORT) {
            int[] regs = new int[10];
            for (int i = 0; i < 8; i++) {
                regs[i] = cpu.register(i);
            }
            regs[8] = cpu.eip();
            regs[9] = value;
            traps.add(regs);
            cpu.requestStop();
        }
    }

    @Override
    public boolean hasNmi() {
        return nmiCount > 0;
    }

    @Override
    public void acknowledgeNmi() {
        nmiCount--;
    }

    @Override
    public boolean hasPending() {
        return pendingVector != null;
    }

    @Override
    public int acknowledge() {
        int v = pendingVector;
        pendingVector = null;
        acknowledged++;
        return v;
    }
}
