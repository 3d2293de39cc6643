package dev.ioemu.tools;

import dev.ioemu.devices.block.BlockOpenException;
import dev.ioemu.devices.block.Preallocation;
import dev.ioemu.devices.block.RawImageResize;
import dev.ioemu.devices.host.Errno;
import java.io.PrintStream;

/**
 * {@code ioemu-img resize [-f raw] [--preallocation=off|falloc|full] [-q] [--shrink] FILE [+|-]SIZE}
 * as qemu-img resize does it for raw images: grow freely, shrink only with {@code --shrink}
 * (qemu-img's refusal and warning otherwise), sizes absolute or relative to the current length,
 * and the file keeps the exact byte length asked for (raw images are not rounded).
 */
final class ImgResize {
    private ImgResize() {
    }

    static int run(ImgTool.Arguments a, PrintStream out, PrintStream err) {
        String file = a.positional().get(0);
        String sizeText = a.positional().get(1);
        boolean relative = sizeText.startsWith("+") || sizeText.startsWith("-");
        boolean shrinks = sizeText.startsWith("-");
        long amount = SizeArgument.parse("size", relative ? sizeText.substring(1) : sizeText);
        Preallocation preallocation = preallocation(a.values().get("--preallocation"));
        boolean shrinkAllowed = a.has("--shrink");
        try {
            RawImageResize.resize(file, current -> {
                long size = !relative ? amount : shrinks ? current - amount : saturatedAdd(current, amount);
                if (size <= 0) {
                    throw new BlockOpenException("New image size must be positive", "", Errno.EINVAL);
                }
                if (size < current && !shrinkAllowed) {
                    throw new BlockOpenException("Use the --shrink option to perform a shrink operation.",
                            "warning: Shrinking an image will delete all data beyond the shrunken image's end. "
                                    + "Before performing such an operation, make sure there is no important data there.",
                            Errno.EINVAL);
                }
                return size;
            }, preallocation);
        } catch (BlockOpenException e) {
            err.println("ioemu-img: " + e.reason());
            if (!e.hint().isEmpty()) {
                err.println((e.hint().startsWith("warning:") ? "ioemu-img: " : "") + e.hint());
            }
            return 1;
        }
        if (!a.has("-q")) {
            out.println("Image resized.");
        }
        return 0;
    }

    /** qemu-img's texts for --preallocation: "metadata" is a qcow2 mode, anything else is unknown. */
    private static Preallocation preallocation(String value) {
        if (value == null) {
            return Preallocation.OFF;
        }
        if (value.equals("metadata")) {
            throw new IllegalArgumentException("--preallocation: 'metadata' is a qcow2 mode (expected: off, falloc, "
                    + "full)");
        }
        try {
            return Preallocation.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--preallocation: '" + value + "' (expected: off, falloc, full)");
        }
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? -1 : r;
    }
}
