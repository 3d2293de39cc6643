package dev.ioemu.tools;

import dev.ioemu.cpu.CpuModel;
import dev.ioemu.cpu.vectors.VectorRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ioemu-x86-vectors [--cpu 8086|80286] [-v] FILE...}: runs SingleStepTests CPU vectors
 * (gzip JSON, one file per opcode form, as in shared/testdata/x86) on the software CPU and prints
 * one line per form, then {@code passed N of M}. Undefined flags are masked with the
 * {@code index.json} next to each file when there is one. Exit status: 0 if every vector passed,
 * 1 if some failed, 2 on a usage or file error.
 */
public final class X86Vectors {
    private static final String USAGE = "Usage: ioemu-x86-vectors [--cpu 8086|80286] [-v] FILE...";

    private X86Vectors() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        CpuModel model = CpuModel.I8086;
        boolean verbose = false;
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--cpu" -> {
                    if (i + 1 >= args.length) {
                        System.err.println("ioemu-x86-vectors: --cpu needs a value (expected: 8086 or 80286)");
                        return 2;
                    }
                    try {
                        model = CpuModel.parse(args[++i]);
                    } catch (IllegalArgumentException e) {
                        System.err.println("ioemu-x86-vectors: " + e.getMessage());
                        return 2;
                    }
                }
                case "-v", "--verbose" -> verbose = true;
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return 0;
                }
                default -> {
                    if (a.startsWith("-")) {
                        System.err.println("ioemu-x86-vectors: unknown option " + a + "\n" + USAGE);
                        return 2;
                    }
                    files.add(Path.of(a));
                }
            }
        }
        if (files.isEmpty()) {
            System.err.println(USAGE);
            return 2;
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                System.err.println("ioemu-x86-vectors: " + f + ": no such file");
                return 2;
            }
        }
        VectorRunner runner = new VectorRunner(model);
        long passed = 0;
        long total = 0;
        for (Path f : files) {
            VectorRunner.FormResult r;
            try {
                r = runner.runFile(f);
            } catch (IOException | IllegalArgumentException | ClassCastException | NullPointerException e) {
                System.err.println("ioemu-x86-vectors: " + f + ": not a SingleStepTests file (" + e.getMessage() + ")");
                return 2;
            }
            passed += r.passed();
            total += r.total();
            System.out.printf("%-6s %-8s passed %d of %d%n", r.form(), r.mnemonic(), r.passed(), r.total());
            int shown = 0;
            for (VectorRunner.Failure fail : r.failures()) {
                if (!verbose && shown == 3) {
                    System.out.printf("    … %d more (-v lists all)%n", r.failures().size() - shown);
                    break;
                }
                System.out.printf("    #%d %s: %s%n", fail.idx(), fail.name(), fail.detail());
                shown++;
            }
        }
        System.out.printf("passed %d of %d%n", passed, total);
        return passed == total ? 0 : 1;
    }
}
