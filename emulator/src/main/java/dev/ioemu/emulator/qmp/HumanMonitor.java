package dev.ioemu.emulator.qmp;

import dev.ioemu.devices.host.Errno;
import dev.ioemu.devices.block.BlkDebug;
import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.emulator.machine.BlockInfo;
import dev.ioemu.emulator.machine.Machine;
import dev.ioemu.emulator.machine.RunState;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The HMP commands QMP {@code human-monitor-command} runs (QEMU hmp-commands.hx): {@code info
 * status}, {@code info block}, {@code info kvm}, {@code trace-event NAME on|off}, {@code info trace-events
 * [NAME]} and {@code qemu-io [-d] DEVICE "COMMAND"}, whose commands are qemu-io's
 * (qemu-io-cmds.c) as QEMU's tests use them: {@code break EVENT TAG}, {@code resume TAG},
 * {@code wait_break TAG}, {@code remove_break TAG} on a blkdebug node, and {@code read},
 * {@code write}, {@code flush} on the drive. Output is the text QEMU prints, lines ending in
 * {@code \r\n} as the monitor sends them; qemu-io's timing line is left out (it is never the same
 * twice).
 *
 * <p>Threads: runs on the QMP thread holding the machine's monitor. {@code wait_break} blocks it
 * until the request arrives at the breakpoint, as QEMU's monitor does.
 */
public final class HumanMonitor {
    /** How long {@code wait_break} waits for a request to reach an armed breakpoint. */
    private static final long WAIT_BREAK_SECONDS = 60;

    private final Machine machine;
    private volatile boolean kvmEnabled;
    private volatile boolean kvmPresent;

    public HumanMonitor(Machine machine) {
        this.machine = machine;
    }

    /** What {@code info kvm} says (QEMU's hmp_info_kvm). */
    public void reportKvm(boolean enabled, boolean present) {
        this.kvmEnabled = enabled;
        this.kvmPresent = present;
    }

    /** Runs one HMP command line and returns its output. */
    public String execute(String commandLine) {
        String cmd = commandLine.strip();
        if (cmd.isEmpty()) {
            return "";
        }
        if (cmd.equals("info status")) {
            RunState st = machine.runState().state();
            String detail = st == RunState.RUNNING ? "running"
                    : st == RunState.PAUSED ? "paused" : "paused (" + st.qmpName + ")";
            return "VM status: " + detail + "\r\n";
        }
        // Run-state control: QEMU's hmp_stop/hmp_cont/hmp_system_reset call the QMP commands and print nothing.
        switch (cmd) {
            case "stop" -> {
                machine.runState().stop();
                return "";
            }
            case "c", "cont" -> {
                machine.runState().cont();
                return "";
            }
            case "system_reset" -> {
                machine.systemReset("host-qmp-system-reset");
                return "";
            }
            default -> { }
        }
        if (cmd.equals("info kvm")) {
            return "kvm support: " + (kvmPresent ? (kvmEnabled ? "enabled" : "disabled") : "not compiled") + "\r\n";
        }
        if (cmd.equals("info block")) {
            return infoBlock();
        }
        String word = cmd.split("\\s+", 2)[0];
        if (word.equals("qemu-io")) {
            return qemuIo(cmd.substring(word.length()));
        }
        if (word.equals("trace-event") || cmd.startsWith("info trace-events")) {
            return traceEvent(cmd);
        }
        return "unknown command: '" + word + "'\r\n";
    }

    /**
     * QEMU 7.2's {@code info block} (print_block_info): one paragraph per drive, blank lines
     * between them. ioemu has no node names, so the "(#blockN)" after the device is absent, as
     * query-block has no "node-name"; a disk's firmware-writes setting follows the cache mode.
     */
    private String infoBlock() {
        StringBuilder out = new StringBuilder();
        for (BlockInfo b : machine.blocks()) {
            if (out.length() > 0) {
                out.append("\r\n");
            }
            out.append(b.device());
            if (b.file() == null) {
                out.append(": [not inserted]\r\n");
            } else {
                out.append(": ").append(b.file()).append(" (").append(b.format())
                        .append(b.readOnly() ? ", read-only" : "").append(")\r\n");
            }
            out.append("    Attached to:      ").append(b.qdev()).append("\r\n");
            if (b.removable()) {
                out.append("    Removable device: not locked, tray closed\r\n");
            }
            if (b.file() == null) {
                continue;
            }
            out.append("    Cache mode:       ").append(b.cache().writeback ? "writeback" : "writethrough")
                    .append(b.cache().direct ? ", direct" : "").append(b.cache().noFlush ? ", ignore flushes" : "")
                    .append("\r\n");
            if (b.firmwareWrites() != null) {
                out.append("    Firmware writes:  ").append(b.firmwareWrites().name().toLowerCase(Locale.ROOT))
                        .append("\r\n");
            }
        }
        return out.toString();
    }

    private static String traceEvent(String cmd) {
        List<String> words;
        try {
            words = hmpArguments(cmd);
        } catch (IllegalArgumentException e) {
            return e.getMessage() + "\r\n";
        }
        if (words.get(0).equals("trace-event")) {
            return TraceCommands.hmpTraceEvent(words.subList(1, words.size()));
        }
        if (!words.get(1).equals("trace-events")) {
            return "unknown command: 'info " + words.get(1) + "'\r\n";
        }
        return TraceCommands.hmpInfoTraceEvents(words.subList(2, words.size()));
    }

    private String qemuIo(String args) {
        List<String> words;
        try {
            words = hmpArguments(args);
        } catch (IllegalArgumentException e) {
            return e.getMessage() + "\r\n";
        }
        boolean qdev = !words.isEmpty() && words.get(0).equals("-d");
        if (qdev) {
            words.remove(0);
        }
        if (words.size() != 2) {
            return "qemu-io: expected: qemu-io [-d] DEVICE \"COMMAND\"\r\n";
        }
        String device = words.get(0);
        BlockDevice block = null;
        for (BlockInfo b : machine.blocks()) {
            if (b.block() != null && (qdev ? device.equals(b.qdev()) : device.equals(b.device()))) {
                block = b.block();
            }
        }
        if (block == null) {
            return qdev ? "Error: Cannot find device='" + device + "'\r\n"
                    : "Error: Cannot find device='" + device + "' nor node-name='" + device + "'\r\n";
        }
        String[] argv = words.get(1).strip().split("\\s+");
        String out;
        try {
            out = command(block, argv);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out = "interrupted\n";
        }
        return out.replace("\n", "\r\n");
    }

    private static String command(BlockDevice block, String[] argv) throws InterruptedException {
        String name = argv[0];
        BlkDebug debug = BlkDebug.find(block);
        return switch (name) {
            case "break" -> {
                if (argv.length != 3) {
                    yield badArgs(name, "event tag");
                }
                int r = debug == null ? -Errno.ENOTSUP : debug.addBreakpoint(argv[1], argv[2]);
                yield r < 0 ? "Could not set breakpoint: " + strerror(r) + "\n" : "";
            }
            case "remove_break" -> {
                if (argv.length != 2) {
                    yield badArgs(name, "tag");
                }
                int r = debug == null ? -Errno.ENOTSUP : debug.removeBreakpoint(argv[1]);
                yield r < 0 ? "Could not remove breakpoint " + argv[1] + ": " + strerror(r) + "\n" : "";
            }
            case "resume" -> {
                if (argv.length != 2) {
                    yield badArgs(name, "tag");
                }
                int r = debug == null ? -Errno.ENOTSUP : debug.resume(argv[1]);
                yield r < 0 ? "Could not resume request: " + strerror(r) + "\n" : "";
            }
            case "wait_break" -> {
                if (argv.length != 2) {
                    yield badArgs(name, "tag");
                }
                if (debug == null) {
                    yield "wait_break: no blkdebug node on this drive\n";
                }
                yield debug.awaitSuspended(argv[1], WAIT_BREAK_SECONDS, TimeUnit.SECONDS) ? ""
                        : "wait_break: no request reached breakpoint " + argv[1] + "\n";
            }
            case "flush" -> {
                if (argv.length != 1) {
                    yield badArgs(name, "");
                }
                int r = block.flush();
                yield r < 0 ? "flush failed: " + strerror(r) + "\n" : "";
            }
            case "read", "write" -> readWrite(block, argv);
            default -> "command \"" + name + "\" not found\n";
        };
    }

    private static String badArgs(String name, String args) {
        return "bad argument count " + "to " + name + ", expected: " + name + (args.isEmpty() ? "" : " " + args)
                + "\n";
    }

    /** {@code read [-P PATTERN] OFFSET LENGTH}, {@code write [-P PATTERN | -z] OFFSET LENGTH}. */
    private static String readWrite(BlockDevice block, String[] argv) {
        boolean write = argv[0].equals("write");
        int pattern = write ? 0xcd : -1;
        boolean zeroes = false;
        List<String> pos = new ArrayList<>();
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("-P") && i + 1 < argv.length) {
                Long p = number(argv[++i]);
                if (p == null || p < 0 || p > 0xff) {
                    return "non-numeric pattern argument -- " + argv[i] + "\n";
                }
                pattern = p.intValue();
            } else if (write && a.equals("-z")) {
                zeroes = true;
            } else if (a.startsWith("-")) {
                return argv[0] + ": invalid option -- '" + a.substring(1) + "'\n";
            } else {
                pos.add(a);
            }
        }
        if (pos.size() != 2) {
            return "bad argument count to " + argv[0] + ", expected: " + argv[0] + " offset count\n";
        }
        Long offset = size(pos.get(0));
        Long count = size(pos.get(1));
        if (offset == null || offset < 0) {
            return "non-numeric offset argument -- " + pos.get(0) + "\n";
        }
        if (count == null || count < 0 || count > 64L << 20) {
            return "non-numeric length argument -- " + pos.get(1) + "\n";
        }
        int n = count.intValue();
        if (zeroes) {
            int r = block.writeZeroes(offset, n);
            return r < 0 ? "write failed: " + strerror(r) + "\n" : "wrote " + n + "/" + n + " bytes at offset "
                    + offset + "\n";
        }
        ByteBuffer buf = ByteBuffer.allocate(n);
        if (write) {
            for (int i = 0; i < n; i++) {
                buf.put(i, (byte) pattern);
            }
            int r = block.write(offset, buf);
            return r < 0 ? "write failed: " + strerror(r) + "\n"
                    : "wrote " + n + "/" + n + " bytes at offset " + offset + "\n";
        }
        int r = block.read(offset, buf);
        if (r < 0) {
            return "read failed: " + strerror(r) + "\n";
        }
        if (pattern >= 0) {
            for (int i = 0; i < n; i++) {
                if ((buf.get(i) & 0xff) != pattern) {
                    return "Pattern verification failed at offset " + (offset + i) + ", " + n + " bytes\n";
                }
            }
        }
        return "read " + n + "/" + n + " bytes at offset " + offset + "\n";
    }

    private static String strerror(int negativeErrno) {
        return Errno.strerror(negativeErrno);
    }

    private static Long number(String s) {
        try {
            return Long.decode(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** qemu-io's cvtnum: a number with an optional k/M/G/T suffix (powers of 1024). */
    private static Long size(String s) {
        if (s.isEmpty()) {
            return null;
        }
        long unit = switch (Character.toLowerCase(s.charAt(s.length() - 1))) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            case 't' -> 1L << 40;
            default -> 1;
        };
        Long n = number(unit == 1 ? s : s.substring(0, s.length() - 1));
        if (n == null) {
            return null;
        }
        try {
            return Math.multiplyExact(n, unit);
        } catch (ArithmeticException e) {
            return null;
        }
    }

    /**
     * HMP's argument splitting: words separated by blanks; a word in double quotes may contain
     * blanks and the escapes {@code \"}, {@code \\}, {@code \n}, {@code \r}, {@code \'}.
     */
    static List<String> hmpArguments(String text) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (true) {
            while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= text.length()) {
                return out;
            }
            StringBuilder w = new StringBuilder();
            if (text.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= text.length()) {
                        throw new IllegalArgumentException("unterminated string");
                    }
                    char c = text.charAt(i++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (i >= text.length()) {
                            throw new IllegalArgumentException("unterminated string");
                        }
                        char e = text.charAt(i++);
                        switch (e) {
                            case '"', '\\', '\'' -> w.append(e);
                            case 'n' -> w.append('\n');
                            case 'r' -> w.append('\r');
                            default -> throw new IllegalArgumentException("unsupported escape code: '\\" + e + "'");
                        }
                    } else {
                        w.append(c);
                    }
                }
            } else {
                while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
                    w.append(text.charAt(i++));
                }
            }
            out.add(w.toString());
        }
    }
}
