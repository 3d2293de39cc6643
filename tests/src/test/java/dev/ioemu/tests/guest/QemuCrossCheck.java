package dev.ioemu.tests.guest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * ioemu's software CPU against QEMU 7.2 TCG on the same disk image, through the interface both
 * offer: each runs with {@code -singlestep -d ITEMS,nochain -dfilter GUEST} into a pipe, and this
 * class reads both logs side by side from the first instruction at 0000:7C00 on (shared/spec/cpu.md
 * §1: "guest" = outside the BIOS, linear C0000-FFFFF and the top of the 4 GiB space; ioemu's BIOS
 * is HLE traps there, SeaBIOS runs code there, so only guest instructions are comparable).
 *
 * <ul>
 * <li>{@link #trace}: per guest instruction, CS:EIP, the disassembly (in_asm), the eight general
 *     registers, EFLAGS and the six selectors must be equal. Values the two BIOSes legitimately
 *     make different are re-synchronised, not compared: after an instruction that reads the
 *     outside world ({@code int} into the BIOS, {@code in}, {@code rdtsc}, {@code cpuid}) every
 *     field that differs is marked, and stays excused until both sides agree on it again. QEMU
 *     logs each further iteration of a REP string instruction; those records are folded into the
 *     one ioemu logs. The first record that differs otherwise is the first divergence (reported
 *     with the instructions before it); the comparison re-synchronises and goes on, counting
 *     divergences, until CS:EIP differ.
 * <li>{@link #count}: {@code -d exec} lines from 7C00 to the workload's exit, a REP string
 *     instruction counted once on both sides (consecutive records at one address folded); QEMU's
 *     unfolded count (one per iteration, cpu.md's convention) is given too.
 * </ul>
 * Command line: {@code QemuCrossCheck trace|count IMAGE IOEMU-LAUNCHER [N]}.
 */
public final class QemuCrossCheck {
    /** Guest linear addresses: below the option-ROM/BIOS area and RAM above 1 MiB (not the BIOS's relocated code). */
    static final String GUEST_FILTER = "0..0xbffff,0x100000..0x5ffffff";
    static final long BOOT = 0x7c00;
    private static final String[] GPR = {"EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP"};
    private static final String[] SEG = {"ES", "CS", "SS", "DS", "FS", "GS"};
    /** Fields of one record: 8 GPRs, EIP, EFL, 6 selectors. */
    private static final int F_EIP = 8, F_EFL = 9, F_SEG = 10, FIELDS = 16;
    private static final String[] FIELD_NAMES = new String[FIELDS];

    static {
        System.arraycopy(GPR, 0, FIELD_NAMES, 0, 8);
        FIELD_NAMES[F_EIP] = "EIP";
        FIELD_NAMES[F_EFL] = "EFL";
        for (int s = 0; s < 6; s++) {
            FIELD_NAMES[F_SEG + s] = SEG[s];
        }
    }

    private QemuCrossCheck() {
    }

    /** One logged guest instruction: its state before it runs and its disassembly. */
    record Record(long linear, int[] f, String insn) {
        int cs() {
            return f[F_SEG + 1];
        }

        String where() {
            return String.format("%04x:%08x", cs(), f[F_EIP]);
        }

        String describe() {
            StringBuilder sb = new StringBuilder(where()).append("  ").append(insn == null ? "?" : insn).append("\n      ");
            for (int i = 0; i < FIELDS; i++) {
                if (i == F_EIP) {
                    continue;
                }
                sb.append(FIELD_NAMES[i]).append('=').append(String.format(i >= F_SEG ? "%04x" : "%08x", f[i])).append(' ');
            }
            return sb.toString().stripTrailing();
        }
    }

    /** Reads records ({@code -d in_asm,cpu}) or exec lines ({@code -d exec}) from one log. */
    static final class LogReader implements AutoCloseable {
        private final BufferedReader in;
        private final Map<Long, String> disassembly = new HashMap<>();
        long lines;

        LogReader(java.io.InputStream stream) {
            in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.ISO_8859_1), 1 << 20);
        }

        /** The next register dump as a record, or null at the end of the log. */
        Record nextRecord() throws IOException {
            String line;
            while ((line = in.readLine()) != null) {
                lines++;
                if (line.startsWith("0x") && line.length() > 38 && line.charAt(10) == ':') {
                    // in_asm: "0x00007c00:  fa                       cli      "
                    long address = Long.parseLong(line.substring(2, 10), 16);
                    if (line.length() > 38) {
                        disassembly.put(address, line.substring(38).strip().replaceAll("\\s+", " "));
                    }
                    continue;
                }
                if (!line.startsWith("EAX=")) {
                    continue;
                }
                int[] f = new int[FIELDS];
                parseGprLine(line, f, 0);
                parseGprLine(in.readLine(), f, 4);
                String eipLine = in.readLine();
                f[F_EIP] = hex(eipLine, 4);
                f[F_EFL] = hex(eipLine, 17);
                long csBase = 0;
                for (int s = 0; s < 6; s++) {
                    String seg = in.readLine();
                    f[F_SEG + s] = hex4(seg, 4);
                    if (s == 1) {
                        csBase = Long.parseLong(seg.substring(9, 17), 16);
                    }
                }
                lines += 8;
                long linear = (csBase + (f[F_EIP] & 0xFFFF_FFFFL)) & 0xFFFF_FFFFL;
                return new Record(linear, f, disassembly.get(linear));
            }
            return null;
        }

        /** The pc of the next {@code Trace} line of {@code -d exec}, or -1 at the end. */
        long nextExecPc() throws IOException {
            String line;
            while ((line = in.readLine()) != null) {
                lines++;
                if (line.startsWith("Trace ")) {
                    int slash = line.indexOf('/');
                    return Long.parseUnsignedLong(line.substring(slash + 1, line.indexOf('/', slash + 1)), 16);
                }
            }
            return -1;
        }

        private static void parseGprLine(String line, int[] f, int first) {
            // "EAX=00000000 EBX=00000000 ECX=00000000 EDX=00000000" (ESI EDI EBP ESP on the second)
            int[] order = first == 0 ? new int[] {0, 1, 2, 3} : new int[] {4, 5, 6, 7};
            for (int k = 0; k < 4; k++) {
                f[order[k]] = hex(line, 4 + 13 * k);
            }
        }

        private static int hex(String line, int at) {
            return (int) Long.parseLong(line.substring(at, at + 8), 16);
        }

        private static int hex4(String line, int at) {
            return Integer.parseInt(line.substring(at, at + 4), 16);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** One emulator writing its log into a pipe that this process reads. */
    static final class Source implements AutoCloseable {
        final Process process;
        final Path fifo;
        final LogReader reader;

        Source(List<String> command, Path fifo, Path dir, String tag) throws IOException, InterruptedException {
            this.fifo = fifo;
            Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
            if (mk.waitFor() != 0) {
                throw new IOException("mkfifo " + fifo + " failed");
            }
            process = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectOutput(dir.resolve(tag + ".stdout").toFile())
                    .redirectError(dir.resolve(tag + ".stderr").toFile()).start();
            reader = new LogReader(Files.newInputStream(fifo));
        }

        @Override
        public void close() throws IOException {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reader.close();
            Files.deleteIfExists(fifo);
        }
    }

    static List<String> qemuCommand(Path image, String items, Path log) {
        return new ArrayList<>(List.of("qemu-system-x86_64", "-machine", "pc", "-accel", "tcg", "-m", "128",
                "-nodefaults", "-display", "none", "-drive", "file=" + image + ",if=ide,format=raw", "-serial", "null",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-singlestep", "-d", items, "-dfilter", GUEST_FILTER,
                "-D", log.toString()));
    }

    static List<String> ioemuCommand(Path launcher, Path image, String items, Path log) {
        return new ArrayList<>(List.of(launcher.toString(), "-machine", "pc", "-accel", "soft", "-m", "128",
                "-nodefaults", "-display", "none", "-drive", "file=" + image + ",if=ide,format=raw", "-serial", "null",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-singlestep", "-d", items, "-dfilter", GUEST_FILTER,
                "-D", log.toString()));
    }

    /** The outcome of a trace comparison. */
    record TraceResult(long compared, long resyncs, long repIterationsFolded, long divergences, String firstDivergence,
                       String controlFlowDivergence, long disassemblyDifferences, String firstDisassemblyDifference,
                       double seconds) {
        String summary() {
            return String.format(Locale.ROOT, "trace: %,d guest instructions from 0000:7c00 compared (QEMU: %,d further REP"
                            + " iterations or interrupted block entries folded); %,d re-synchronisations after"
                            + " int/in/rdtsc/cpuid; %,d register divergences; control flow %s; %,d in_asm lines differ"
                            + " from capstone's%s; %.1f s%n%s",
                    compared, repIterationsFolded, resyncs, divergences,
                    controlFlowDivergence == null ? "identical" : "diverged", disassemblyDifferences,
                    firstDisassemblyDifference == null ? "" : " (first: " + firstDisassemblyDifference + ")", seconds,
                    (firstDivergence == null ? "no divergence" : "first divergence: " + firstDivergence)
                            + (controlFlowDivergence == null ? "" : "\ncontrol flow: " + controlFlowDivergence));
        }
    }

    /** Compares the first {@code limit} guest instructions after 0000:7C00. */
    static TraceResult trace(Path image, Path launcher, long limit, Path dir) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path qemuImage = copy(image, dir.resolve("qemu-trace.img"));
        Path ioemuImage = copy(image, dir.resolve("ioemu-trace.img"));
        String items = "in_asm,cpu,nochain";
        try (Source q = new Source(qemuCommand(qemuImage, items, dir.resolve("qemu.fifo")), dir.resolve("qemu.fifo"), dir, "qemu");
             Source i = new Source(ioemuCommand(launcher, ioemuImage, items, dir.resolve("ioemu.fifo")),
                     dir.resolve("ioemu.fifo"), dir, "ioemu")) {
            Record qr = skipToBoot(q.reader);
            Record ir = skipToBoot(i.reader);
            if (qr == null || ir == null) {
                throw new IOException("no instruction at 0000:7c00 in the " + (qr == null ? "QEMU" : "ioemu") + " log");
            }
            boolean[] tainted = new boolean[FIELDS];
            // The start state is the BIOSes': re-synchronise on it.
            long resyncs = 0;
            long compared = 0;
            long folded = 0;
            long divergences = 0;
            long disassemblyDifferences = 0;
            String firstDisassembly = null;
            String first = null;
            String controlFlow = null;
            ArrayDeque<String> context = new ArrayDeque<>();
            Record prevQ = null;
            boolean resyncNext = true;
            while (compared < limit) {
                // QEMU logs REP iterations after the first as records at the same address, and a
                // block it entered but left for a pending interrupt before its instruction ran.
                while (prevQ != null && qr != null && qr.linear() == prevQ.linear() && ir.linear() != prevQ.linear()) {
                    folded++;
                    qr = q.reader.nextRecord();
                }
                if (qr == null) {
                    break;
                }
                if (qr.linear() != ir.linear() || qr.cs() != ir.cs()) {
                    controlFlow = String.format("after %,d instructions: QEMU at %s, ioemu at %s%n  QEMU:  %s%n  ioemu: %s%n"
                                    + "  before it:%n    %s", compared, qr.where(), ir.where(), qr.describe(), ir.describe(),
                            String.join("\n    ", context));
                    break;
                }
                List<String> differing = new ArrayList<>();
                for (int k = 0; k < FIELDS; k++) {
                    if (qr.f()[k] == ir.f()[k]) {
                        tainted[k] = false;
                    } else if (resyncNext) {
                        tainted[k] = true;
                    } else if (!tainted[k]) {
                        differing.add(FIELD_NAMES[k]);
                        tainted[k] = true;
                    }
                }
                if (resyncNext) {
                    resyncs++;
                }
                if (qr.insn() != null && ir.insn() != null && !qr.insn().equals(ir.insn())) {
                    // ioemu's disassembler against capstone: counted apart, not a CPU divergence.
                    disassemblyDifferences++;
                    if (firstDisassembly == null) {
                        firstDisassembly = String.format("%s QEMU \"%s\", ioemu \"%s\"", qr.where(), qr.insn(), ir.insn());
                    }
                }
                if (!differing.isEmpty()) {
                    divergences++;
                    if (first == null) {
                        first = String.format("instruction %,d at %s: %s differ%n  QEMU:  %s%n  ioemu: %s%n  before it:%n    %s",
                                compared + 1, qr.where(), String.join(", ", differing), qr.describe(), ir.describe(),
                                String.join("\n    ", context));
                    }
                }
                context.addLast(ir.describe());
                if (context.size() > 6) {
                    context.removeFirst();
                }
                String insn = ir.insn() == null ? "" : ir.insn();
                resyncNext = insn.startsWith("int ") || insn.startsWith("in") && !insn.startsWith("inc")
                        || insn.startsWith("rdtsc") || insn.startsWith("cpuid");
                compared++;
                prevQ = qr;
                qr = q.reader.nextRecord();
                ir = i.reader.nextRecord();
                if (ir == null) {
                    break;
                }
            }
            return new TraceResult(compared, resyncs, folded, divergences, first, controlFlow,
                    disassemblyDifferences, firstDisassembly, (System.nanoTime() - start) / 1e9);
        }
    }

    private static Record skipToBoot(LogReader r) throws IOException {
        Record rec;
        while ((rec = r.nextRecord()) != null) {
            if (rec.linear() == BOOT && rec.cs() == 0) {
                return rec;
            }
        }
        return null;
    }

    /** Instruction counts from 7C00 to the exit. */
    record CountResult(long qemuFolded, long qemuPerIteration, long ioemu, double seconds) {
        double ratio() {
            return (double) ioemu / qemuFolded;
        }

        String summary() {
            return String.format(Locale.ROOT, "count: guest instructions from 0000:7c00 to the exit, REP counted once:"
                            + " QEMU %,d, ioemu %,d, ioemu/QEMU = %.4f (%+.2f %%); QEMU with each REP iteration counted"
                            + " (cpu.md's convention): %,d; %.1f s",
                    qemuFolded, ioemu, ratio(), (ratio() - 1) * 100, qemuPerIteration, seconds);
        }
    }

    static CountResult count(Path image, Path launcher, Path dir) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path qemuImage = copy(image, dir.resolve("qemu-count.img"));
        Path ioemuImage = copy(image, dir.resolve("ioemu-count.img"));
        long[] q = new long[2];
        long[] i = new long[2];
        try (Source qs = new Source(qemuCommand(qemuImage, "exec,nochain", dir.resolve("qemu-count.fifo")),
                dir.resolve("qemu-count.fifo"), dir, "qemu-count");
             Source is = new Source(ioemuCommand(launcher, ioemuImage, "exec,nochain", dir.resolve("ioemu-count.fifo")),
                     dir.resolve("ioemu-count.fifo"), dir, "ioemu-count")) {
            // Both pipes must be drained at once, or the writer that is not read stalls.
            Thread t = new Thread(() -> countExec(is.reader, i));
            t.start();
            countExec(qs.reader, q);
            t.join();
            qs.process.waitFor(60, TimeUnit.SECONDS);
            is.process.waitFor(60, TimeUnit.SECONDS);
        }
        return new CountResult(q[0], q[1], i[0], (System.nanoTime() - start) / 1e9);
    }

    /** [0] = records from 7C00 on with consecutive ones at one address folded, [1] = all records from 7C00 on. */
    private static void countExec(LogReader r, long[] out) {
        try {
            long pc;
            boolean booted = false;
            long previous = -1;
            while ((pc = r.nextExecPc()) >= 0) {
                if (!booted) {
                    if (pc != BOOT) {
                        continue;
                    }
                    booted = true;
                }
                out[1]++;
                if (pc != previous) {
                    out[0]++;
                }
                previous = pc;
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Path copy(Path image, Path to) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("cp", "--sparse=always", image.toString(), to.toString()).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("cp " + image + " failed");
        }
        return to;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: QemuCrossCheck trace|count IMAGE IOEMU-LAUNCHER [N]");
            System.exit(2);
        }
        Path dir = Files.createTempDirectory("crosscheck");
        try {
            Path image = Path.of(args[1]).toAbsolutePath();
            Path launcher = Path.of(args[2]).toAbsolutePath();
            if (args[0].equals("trace")) {
                long n = args.length > 3 ? Long.parseLong(args[3]) : 1_000_000;
                System.out.println(trace(image, launcher, n, dir).summary());
            } else {
                System.out.println(count(image, launcher, dir).summary());
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        System.exit(0);
    }
}
