package dev.ioemu.cpu.vectors;

import dev.ioemu.cpu.Cpu;
import dev.ioemu.cpu.CpuMemory;
import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.MemoryBus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Runs SingleStepTests CPU vectors (gzip JSON, one array per opcode form) on the interpreter
 * and compares registers, masked flags and RAM, following the runner rules of
 * shared/testdata/x86/README.md: the 8086 executes exactly one instruction; the 80286 runs the
 * instruction and the HLT that follows it (or the one at the handler an exception enters).
 * Undefined flags are masked with {@code flags_mask} from the set's {@code index.json}, also in
 * the FLAGS image an exception pushed.
 */
public final class VectorRunner {
    private static final String[] REGS = {"ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags"};
    /** Enough RAM for the 80286's 24-bit address space; the 8086 model masks to 20 bits. */
    private static final int RAM_SIZE = 16 << 20;

    private final CpuModel model;
    private final CpuMemory memory;
    private final Cpu cpu;
    private final Map<Path, Map<String, Object>> indexes = new HashMap<>();

    /** One vector that disagreed with the silicon. */
    public record Failure(String form, long idx, String name, String detail) {
    }

    /** The outcome of one form file. */
    public record FormResult(String form, String mnemonic, int passed, int total, List<Failure> failures) {
    }

    public VectorRunner(CpuModel model) {
        this.model = model;
        memory = new CpuMemory(MemoryBus.UNASSIGNED);
        memory.mapRam(0, ByteBuffer.allocateDirect(RAM_SIZE));
        cpu = new Cpu(model, memory);
    }

    /** Runs every vector in {@code file}; the form name is the file name without {@code .json.gz}. */
    public FormResult runFile(Path file) throws IOException {
        String form = file.getFileName().toString().replaceFirst("\\.json(\\.gz)?$", "");
        Map<String, Object> formInfo = formInfo(file.toAbsolutePath().getParent(), form);
        int mask = formInfo == null ? 0xFFFF : ((Long) formInfo.get("flags_mask")).intValue();
        String mnemonic = formInfo == null ? "" : String.valueOf(formInfo.get("mnemonic"));
        byte[] text;
        try (InputStream in = file.toString().endsWith(".gz")
                ? new GZIPInputStream(Files.newInputStream(file), 1 << 16) : Files.newInputStream(file)) {
            text = in.readAllBytes();
        }
        Object doc = VectorJson.parse(text);
        if (!(doc instanceof List<?> tests)) {
            throw new IllegalArgumentException(file + ": not a JSON array of tests");
        }
        int passed = 0;
        List<Failure> failures = new ArrayList<>();
        for (Object t : tests) {
            @SuppressWarnings("unchecked")
            Map<String, Object> test = (Map<String, Object>) t;
            String detail = runOne(test, mask);
            if (detail == null) {
                passed++;
            } else {
                Object idx = test.get("idx") != null ? test.get("idx") : test.get("test_num");
                failures.add(new Failure(form, idx instanceof Long l ? l : -1, String.valueOf(test.get("name")), detail));
            }
        }
        return new FormResult(form, mnemonic, passed, tests.size(), failures);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> formInfo(Path dir, String form) throws IOException {
        if (dir == null) {
            return null;
        }
        Map<String, Object> index = indexes.get(dir);
        if (index == null && !indexes.containsKey(dir)) {
            Path p = dir.resolve("index.json");
            if (Files.isRegularFile(p)) {
                index = (Map<String, Object>) VectorJson.parse(Files.readAllBytes(p));
            }
            indexes.put(dir, index);
        }
        if (index == null) {
            return null;
        }
        for (Object f : (List<Object>) index.get("forms")) {
            Map<String, Object> m = (Map<String, Object>) f;
            if (form.equals(m.get("form"))) {
                return m;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static int reg(Map<String, Object> regs, String name) {
        Object v = regs.get(name);
        return v == null ? -1 : ((Long) v).intValue();
    }

    /** Runs one vector; returns null if it passed, else what differed. */
    @SuppressWarnings("unchecked")
    private String runOne(Map<String, Object> test, int mask) {
        Map<String, Object> initial = (Map<String, Object>) test.get("initial");
        Map<String, Object> fin = (Map<String, Object>) test.get("final");
        Map<String, Object> iregs = (Map<String, Object>) initial.get("regs");
        Map<String, Object> fregs = (Map<String, Object>) fin.get("regs");
        List<Object> iram = (List<Object>) initial.get("ram");
        List<Object> fram = (List<Object>) fin.get("ram");
        cpu.reset();
        cpu.setRegister(Cpu.EAX, reg(iregs, "ax"));
        cpu.setRegister(Cpu.EBX, reg(iregs, "bx"));
        cpu.setRegister(Cpu.ECX, reg(iregs, "cx"));
        cpu.setRegister(Cpu.EDX, reg(iregs, "dx"));
        cpu.setRegister(Cpu.ESP, reg(iregs, "sp"));
        cpu.setRegister(Cpu.EBP, reg(iregs, "bp"));
        cpu.setRegister(Cpu.ESI, reg(iregs, "si"));
        cpu.setRegister(Cpu.EDI, reg(iregs, "di"));
        cpu.setSegmentRealMode(Cpu.CS, reg(iregs, "cs"));
        cpu.setSegmentRealMode(Cpu.SS, reg(iregs, "ss"));
        cpu.setSegmentRealMode(Cpu.DS, reg(iregs, "ds"));
        cpu.setSegmentRealMode(Cpu.ES, reg(iregs, "es"));
        cpu.setEip(reg(iregs, "ip"));
        int flags = reg(iregs, "flags");
        // Real mode on the 286 cannot hold FLAGS bits 12-15 (README: clear them before loading).
        cpu.setEflags(model.is8086() ? flags : flags & 0x0FFF);
        for (Object e : iram) {
            List<Object> pair = (List<Object>) e;
            memory.writeByte((Long) pair.get(0), ((Long) pair.get(1)).intValue());
        }
        String result;
        try {
            if (model.is8086()) {
                cpu.run(1);
            } else {
                for (int i = 0; i < 4 && !cpu.isHalted(); i++) {
                    cpu.run(1);
                }
            }
            result = compare(test, iregs, fregs, iram, fram, mask);
        } finally {
            for (Object e : iram) {
                memory.writeByte((Long) ((List<Object>) e).get(0), 0);
            }
            for (Object e : fram) {
                memory.writeByte((Long) ((List<Object>) e).get(0), 0);
            }
        }
        return result;
    }

    @SuppressWarnings("unchecked")
    private String compare(Map<String, Object> test, Map<String, Object> iregs, Map<String, Object> fregs,
                           List<Object> iram, List<Object> fram, int mask) {
        if (!model.is8086() && !cpu.isHalted()) {
            return "did not reach the terminating HLT; " + cpu;
        }
        StringBuilder diff = new StringBuilder();
        for (String name : REGS) {
            int expected = fregs.containsKey(name) ? reg(fregs, name) : reg(iregs, name);
            if (name.equals("flags") && !model.is8086() && !fregs.containsKey(name)) {
                expected &= 0x0FFF;
            }
            int actual = actual(name);
            int m = name.equals("flags") ? mask : 0xFFFF;
            if ((expected & m) != (actual & m)) {
                diff.append(String.format("%s=%04x (expected %04x) ", name, actual & 0xFFFF, expected));
            }
        }
        Map<String, Object> exception = (Map<String, Object>) test.get("exception");
        long flagAddress = exception == null || mask == 0xFFFF ? -1 : (Long) exception.get("flag_address");
        // Where the exception pushed FLAGS: SS:SP-2 at entry. The index's flag_address is one
        // byte low for odd SP in some 80286 vectors, so the computed address is masked too.
        long pushedFlags = exception == null || mask == 0xFFFF ? -1
                : ((reg(iregs, "ss") << 4) + ((reg(iregs, "sp") - 2) & 0xFFFF)) & (model.is8086() ? 0xFFFFF : 0xFFFFFF);
        Map<Long, Integer> finalBytes = new HashMap<>();
        for (Object e : fram) {
            List<Object> pair = (List<Object>) e;
            long addr = (Long) pair.get(0);
            int expected = ((Long) pair.get(1)).intValue();
            finalBytes.put(addr, expected);
            int actual = memory.readByte(addr);
            int m = 0xFF;
            if (addr == flagAddress || addr == pushedFlags) {
                m &= mask & 0xFF;
            }
            if (addr == flagAddress + 1 || addr == pushedFlags + 1) {
                m &= mask >>> 8;
            }
            if ((expected & m) != (actual & m)) {
                diff.append(String.format("[%05x]=%02x (expected %02x) ", addr, actual, expected));
            }
        }
        if (!model.is8086()) {
            // 80286 files list only changed bytes: the rest must still hold their initial values.
            for (Object e : iram) {
                List<Object> pair = (List<Object>) e;
                long addr = (Long) pair.get(0);
                if (!finalBytes.containsKey(addr)) {
                    int expected = ((Long) pair.get(1)).intValue();
                    int actual = memory.readByte(addr);
                    if (expected != actual) {
                        diff.append(String.format("[%05x]=%02x (expected unchanged %02x) ", addr, actual, expected));
                    }
                }
            }
        }
        return diff.length() == 0 ? null : diff.toString().trim();
    }

    private int actual(String name) {
        return switch (name) {
            case "ax" -> cpu.register(Cpu.EAX) & 0xFFFF;
            case "bx" -> cpu.register(Cpu.EBX) & 0xFFFF;
            case "cx" -> cpu.register(Cpu.ECX) & 0xFFFF;
            case "dx" -> cpu.register(Cpu.EDX) & 0xFFFF;
            case "sp" -> cpu.register(Cpu.ESP) & 0xFFFF;
            case "bp" -> cpu.register(Cpu.EBP) & 0xFFFF;
            case "si" -> cpu.register(Cpu.ESI) & 0xFFFF;
            case "di" -> cpu.register(Cpu.EDI) & 0xFFFF;
            case "cs" -> cpu.segmentSelector(Cpu.CS);
            case "ss" -> cpu.segmentSelector(Cpu.SS);
            case "ds" -> cpu.segmentSelector(Cpu.DS);
            case "es" -> cpu.segmentSelector(Cpu.ES);
            case "ip" -> cpu.eip() & 0xFFFF;
            default -> cpu.eflags() & 0xFFFF;
        };
    }
}
