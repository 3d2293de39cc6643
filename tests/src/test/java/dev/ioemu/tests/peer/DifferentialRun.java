package dev.ioemu.tests.peer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one script against two peers with the same machine arguments and, when a disk image is
 * involved, two copies of the same image; then compares every reply, the IRQ levels and the image
 * bytes (after both peers were ended with SIGTERM, which flushes).
 */
public final class DifferentialRun {
    /** How a peer's machine arguments are built from its own copy of the image (null: no image). */
    @FunctionalInterface
    public interface Args {
        List<String> forImage(Path image);
    }

    private DifferentialRun() {
    }

    /**
     * @param a     the reference peer (normally QEMU)
     * @param b     the peer under test (normally ioemu; QEMU for a harness self-check)
     * @param image the initial image, copied for each peer, or null
     */
    public static Comparison run(QtestPeer.Kind a, QtestPeer.Kind b, Script script, Path image, Args args,
                                 Path workDir) throws IOException {
        Path imageA = null;
        Path imageB = null;
        if (image != null) {
            imageA = workDir.resolve("a.img");
            imageB = workDir.resolve("b.img");
            Files.copy(image, imageA, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(image, imageB, StandardCopyOption.REPLACE_EXISTING);
        }
        Path dirA = Files.createDirectories(workDir.resolve("peer-a"));
        Path dirB = Files.createDirectories(workDir.resolve("peer-b"));
        List<Exchange> ta = new ArrayList<>();
        List<Exchange> tb = new ArrayList<>();
        int[] exit = new int[2];
        try (QtestPeer pa = QtestPeer.launch(a, args.forImage(imageA), dirA);
             QtestPeer pb = QtestPeer.launch(b, args.forImage(imageB), dirB)) {
            List<Step> steps = script.steps();
            for (int i = 0; i < steps.size(); i++) {
                try {
                    ta.add(execute(pa, steps.get(i)));
                    tb.add(execute(pb, steps.get(i)));
                } catch (IOException e) {
                    // A peer died or hung: say where, with the requests that led there.
                    StringBuilder context = new StringBuilder();
                    for (int k = Math.max(0, i - 15); k <= i; k++) {
                        context.append("\n    ").append(k).append(": ").append(steps.get(k).request());
                    }
                    throw new IOException(script.origin() + ", step " + i + ": " + e.getMessage() + context, e);
                }
            }
            pa.close();
            pb.close();
            exit[0] = pa.exitStatus();
            exit[1] = pb.exitStatus();
        }
        String dump = System.getProperty("ioemu.diff.dump");
        if (dump != null) {
            // -Dioemu.diff.dump=FILE: both transcripts side by side, to study a run by hand.
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < ta.size(); i++) {
                Exchange x = ta.get(i);
                Exchange y = i < tb.size() ? tb.get(i) : null;
                lines.add(i + "\t" + x.step().request() + "\t" + x.irqLines() + " " + x.reply() + " (" + x.tries() + ")\t"
                        + (y == null ? "-" : y.irqLines() + " " + y.reply() + " (" + y.tries() + ")"));
            }
            Files.write(Path.of(dump), lines);
        }
        Comparison c = Comparison.of(ta, tb);
        if (exit[0] != 0 || exit[1] != 0) {
            // libqtest fails a test unless the emulator exits with 0 after SIGTERM.
            c.exitStatus(exit[0], exit[1]);
        }
        if (image != null) {
            String diff = compareImages(imageA, imageB);
            if (diff != null) {
                c.imageDifference(diff);
            }
            // Further images a peer's arguments made next to its main one (a.img.slave, …).
            try (var siblings = Files.list(workDir)) {
                for (Path x : siblings.filter(p -> p.getFileName().toString().startsWith("a.img.")).sorted().toList()) {
                    Path y = workDir.resolve("b.img." + x.getFileName().toString().substring("a.img.".length()));
                    String d = Files.exists(y) ? compareImages(x, y) : "missing " + y.getFileName();
                    if (d != null) {
                        c.imageDifference(x.getFileName() + ": " + d);
                    }
                }
            }
        }
        return c;
    }

    /** Sends one step to one peer (repeating a poll until it is satisfied or exhausted). */
    public static Exchange execute(QtestPeer peer, Step step) throws IOException {
        Exchange e = peer.send(step, step.request());
        if (step.poll() == null) {
            return e;
        }
        List<String> irqs = new ArrayList<>(e.irqLines());
        int tries = 1;
        while (!step.poll().done(value(e.reply())) && tries < step.poll().maxTries()) {
            e = peer.send(step, step.request());
            irqs.addAll(e.irqLines());
            tries++;
        }
        return new Exchange(step, irqs, e.reply(), tries);
    }

    /** The number in an "OK 0x…" reply; -1 for anything else (a FAIL never satisfies a poll). */
    static long value(String reply) {
        if (!reply.startsWith("OK 0x")) {
            return -1;
        }
        return Long.parseUnsignedLong(reply.substring(5), 16);
    }

    /** Null if equal, else the first differing sectors. */
    static String compareImages(Path x, Path y) throws IOException {
        List<Long> sectors = new ArrayList<>();
        long sizeX = Files.size(x);
        long sizeY = Files.size(y);
        try (InputStream ix = Files.newInputStream(x); InputStream iy = Files.newInputStream(y)) {
            byte[] bx = new byte[512];
            byte[] by = new byte[512];
            for (long s = 0; ; s++) {
                int nx = ix.readNBytes(bx, 0, 512);
                int ny = iy.readNBytes(by, 0, 512);
                if (nx == 0 && ny == 0) {
                    break;
                }
                if (nx != ny || !Arrays.equals(bx, 0, nx, by, 0, ny)) {
                    sectors.add(s);
                }
            }
        }
        if (sizeX == sizeY && sectors.isEmpty()) {
            return null;
        }
        return "sizes " + sizeX + "/" + sizeY + ", " + sectors.size() + " differing sector(s), first: "
                + sectors.subList(0, Math.min(10, sectors.size()));
    }
}
