package dev.ioemu.emulator.qmp;

import dev.ioemu.devices.block.BlockStats;
import dev.ioemu.devices.block.CacheMode;
import dev.ioemu.devices.chardev.ChardevEndpoint;
import dev.ioemu.devices.chardev.Connection;
import dev.ioemu.emulator.chardev.Chardevs;
import dev.ioemu.emulator.cli.ChardevSpec;
import dev.ioemu.emulator.machine.BlockInfo;
import dev.ioemu.emulator.testing.FakeMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QMP over a Unix socket set up the way libqtest does it: the test listens, the monitor
 * connects as a client (shared/spec/qtest.md §5.2); replies and events compared with QEMU 7.2's.
 */
class QmpMonitorTest {
    @TempDir
    Path dir;
    private FakeMachine machine;
    private final AtomicReference<String> quitReason = new AtomicReference<>();
    private ServerSocketChannel listener;
    private SocketChannel client;
    private BufferedReader in;
    private OutputStream out;
    private Thread monitorThread;

    @BeforeEach
    void connect() throws Exception {
        machine = new FakeMachine(true);
        Path sock = dir.resolve("qtest.qmp");
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(sock), 1);
        Connection conn = Chardevs.backend(new ChardevSpec(ChardevSpec.Kind.UNIX, "char0", sock.toString(),
                null, 0, false, true)).open().next();
        QmpMonitor monitor = new QmpMonitor(machine, quitReason::set);
        monitorThread = new Thread(() -> {
            try (conn) {
                monitor.serve(conn);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        monitorThread.start();
        client = listener.accept();
        in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client), StandardCharsets.UTF_8));
        out = Channels.newOutputStream(client);
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        listener.close();
        monitorThread.join(5000);
    }

    private String line() throws Exception {
        String l = in.readLine();
        assertTrue(l != null, "connection closed early");
        return l;
    }

    private void send(String json) throws Exception {
        out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private String execute(String json) throws Exception {
        send(json);
        return line();
    }

    private static String withoutTimestamp(String event) {
        return event.replaceFirst("\\{\"timestamp\": \\{\"seconds\": \\d+, \"microseconds\": \\d+\\}, ", "{");
    }

    private void negotiate() throws Exception {
        line();
        assertEquals("{\"return\": {}}", execute("{\"execute\": \"qmp_capabilities\"}"));
    }

    @Test
    void greetingThenCapabilitiesNegotiation() throws Exception {
        assertEquals("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"ioemu\"}, "
                + "\"capabilities\": [\"oob\"]}}", line());
        assertEquals("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation with "
                + "'qmp_capabilities'\"}}", execute("{\"execute\": \"query-status\"}"));
        assertEquals("{\"return\": {}}", execute("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}"));
        assertEquals("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already "
                + "complete, command ignored\"}}", execute("{\"execute\": \"qmp_capabilities\"}"));
    }

    @Test
    void linesEndWithCrLf() throws Exception {
        byte[] buf = new byte[4096];
        int n = Channels.newInputStream(client).read(buf);
        String greeting = new String(buf, 0, n, StandardCharsets.UTF_8);
        assertTrue(greeting.endsWith("}\r\n"), greeting);
    }

    @Test
    void statusAndRunStateEventsComeBeforeTheReply() throws Exception {
        negotiate();
        assertEquals("{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}, \"id\": 5}",
                execute("{\"execute\": \"query-status\", \"id\": 5}"));
        assertEquals("{\"event\": \"RESUME\"}", withoutTimestamp(execute("{\"execute\": \"cont\"}")));
        assertEquals("{\"return\": {}}", line());
        assertEquals("{\"return\": {}}", execute("{\"execute\": \"cont\"}"), "already running: no event");
        assertEquals("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}",
                execute("{\"execute\": \"query-status\"}"));
        assertEquals("{\"event\": \"STOP\"}", withoutTimestamp(execute("{\"execute\": \"stop\"}")));
        assertEquals("{\"return\": {}}", line());
        assertEquals("{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}}",
                execute("{\"execute\": \"query-status\"}"));
        assertEquals("{\"event\": \"RESET\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}",
                withoutTimestamp(execute("{\"execute\": \"system_reset\"}")));
        assertEquals("{\"return\": {}}", line());
        assertEquals(1, machine.resets.get());
        assertEquals("{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}",
                execute("{\"execute\": \"query-status\"}"), "a reset while paused goes back to prelaunch");
    }

    @Test
    void deviceRequestedStopIsAnIoErrorWithAStopEvent() throws Exception {
        negotiate();
        execute("{\"execute\": \"cont\"}");
        line();
        machine.runState().requestStop("io-error");
        assertEquals("{\"event\": \"STOP\"}", withoutTimestamp(line()));
        assertEquals("{\"return\": {\"status\": \"io-error\", \"singlestep\": false, \"running\": false}}",
                execute("{\"execute\": \"query-status\"}"));
    }

    @Test
    void errorsMatchQemu() throws Exception {
        negotiate();
        assertEquals("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command foo has not been found\"}}",
                execute("{\"execute\": \"foo\"}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be a JSON object\"}}",
                execute("[1]"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'x' is unexpected\"}}",
                execute("{\"x\": 1}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'execute' must be a string\"}}",
                execute("{\"execute\": 1}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'arguments' must be an object\"}}",
                execute("{\"execute\": \"stop\", \"arguments\": 3}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'a' is unexpected\"}}",
                execute("{\"execute\": \"stop\", \"arguments\": {\"a\": 1}}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, invalid keyword 'foo'\"}}",
                execute("foo"));
        assertEquals("{\"return\": {}}", execute("{\"execute\": \"stop\"}"), "the monitor recovered");
    }

    @Test
    void humanMonitorCommand() throws Exception {
        negotiate();
        assertEquals("{\"return\": \"VM status: paused (prelaunch)\\r\\n\"}",
                execute("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info status\"}}"));
        assertEquals("{\"return\": \"unknown command: 'bogus'\\r\\n\"}",
                execute("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"bogus\"}}"));
        assertEquals("{\"return\": \"\"}",
                execute("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"\"}}"));
        assertEquals("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'command-line' is missing\"}}",
                execute("{\"execute\": \"human-monitor-command\"}"));
    }

    @Test
    void blockQueries() throws Exception {
        BlockStats stats = new BlockStats();
        stats.record(BlockStats.Kind.READ, 512, 512, 1000);
        stats.record(BlockStats.Kind.FLUSH, 0, -5, 10);
        machine.blocks.add(new BlockInfo("ide0-hd0", "/machine/unattached/device[18]", false, "/tmp/d.img", false,
                "raw", CacheMode.WRITEBACK, 67108864, stats));
        negotiate();
        String block = execute("{\"execute\": \"query-block\"}");
        assertEquals("{\"return\": [{\"io-status\": \"ok\", \"device\": \"ide0-hd0\", \"locked\": false, "
                + "\"removable\": false, \"inserted\": {\"image\": {\"virtual-size\": 67108864, \"filename\": \"/tmp/d.img\", "
                + "\"format\": \"raw\", \"dirty-flag\": false}, \"ro\": false, \"drv\": \"raw\", \"encrypted\": false, "
                + "\"cache\": {\"no-flush\": false, \"direct\": false, \"writeback\": true}, \"file\": \"/tmp/d.img\"}, "
                + "\"qdev\": \"/machine/unattached/device[18]\", \"type\": \"unknown\"}]}", block);
        String stat = execute("{\"execute\": \"query-blockstats\"}");
        assertTrue(stat.contains("\"rd_bytes\": 512"), stat);
        assertTrue(stat.contains("\"rd_operations\": 1"), stat);
        assertTrue(stat.contains("\"failed_flush_operations\": 1"), stat);
        assertTrue(stat.contains("\"rd_total_time_ns\": 1000"), stat);
    }

    @Test
    void quitSendsShutdownThenReplyThenAsksTheProcessToExit() throws Exception {
        negotiate();
        assertEquals("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}}",
                withoutTimestamp(execute("{\"execute\": \"quit\"}")));
        assertEquals("{\"return\": {}}", line());
        for (int i = 0; i < 100 && quitReason.get() == null; i++) {
            Thread.sleep(10);
        }
        assertEquals("host-qmp-quit", quitReason.get());
    }

    @Test
    void eventsAreHeldBackUntilNegotiation() throws Exception {
        line();
        machine.runState().cont();
        assertEquals("{\"return\": {}}", execute("{\"execute\": \"qmp_capabilities\"}"));
        assertEquals("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}",
                execute("{\"execute\": \"query-status\"}"));
    }
}
