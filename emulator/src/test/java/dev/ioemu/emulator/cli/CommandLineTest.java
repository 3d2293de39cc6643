package dev.ioemu.emulator.cli;

import dev.ioemu.emulator.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandLineTest {
    private static VmConfig parse(String line) throws UsageException {
        return CommandLine.parse(line.isEmpty() ? new String[0] : line.split(" "));
    }

    @Test
    void libqtestCommandLineOf72() throws Exception {
        VmConfig c = parse("-qtest unix:/tmp/qtest-1.sock -qtest-log /dev/null "
                + "-chardev socket,path=/tmp/qtest-1.qmp,id=char0 -mon chardev=char0,mode=control "
                + "-display none -machine pc -accel qtest");
        assertEquals("qtest", c.accelerator());
        assertEquals(new ChardevSpec(ChardevSpec.Kind.UNIX, null, "/tmp/qtest-1.sock", null, 0, false, true), c.qtest());
        assertEquals("/dev/null", c.qtestLog());
        assertEquals(1, c.monitors().size());
        assertEquals("/tmp/qtest-1.qmp", c.monitors().get(0).path());
        assertFalse(c.monitors().get(0).server(), "QEMU connects to libqtest's socket");
        assertEquals(VmConfig.DEFAULT_RAM_SIZE, c.ramSize());
    }

    @Test
    void libqtestCommandLineOfMaster() throws Exception {
        VmConfig c = parse("-qtest unix:/tmp/q.sock -qtest-log /dev/fd/2 -chardev socket,path=/tmp/q.qmp,id=char0 "
                + "-mon chardev=char0,mode=control -display none -audio none -run-with exit-with-parent=on "
                + "-machine pc -accel qtest");
        assertTrue(c.exitWithParent());
        assertEquals("/dev/fd/2", c.qtestLog());
    }

    @Test
    void peerStyleCommandLine() throws Exception {
        VmConfig c = parse("-machine pc,accel=qtest -S -qtest stdio -nodefaults -display none -m 256M "
                + "-drive file=/tmp/d.img,if=ide,format=raw,cache=none,index=1,werror=stop,rerror=report "
                + "-name vm1 -trace ide_* -trace enable=bmdma_* -D /tmp/trace.log");
        assertEquals(ChardevSpec.Kind.STDIO, c.qtest().kind());
        assertTrue(c.startPaused());
        assertTrue(c.noDefaults());
        assertEquals(256L << 20, c.ramSize());
        assertEquals(List.of("ide_*", "bmdma_*"), c.tracePatterns());
        assertEquals(Path.of("/tmp/trace.log"), c.logFile());
        assertEquals("vm1", c.name());
        DriveSpec d = c.drives().get(0);
        assertEquals("/tmp/d.img", d.file());
        assertEquals(1, d.index());
        assertEquals("stop", d.werror());
        assertEquals("raw", d.options().get("format"), "block keys pass through untouched");
    }

    @Test
    void splitDriveAndDeviceWithGlobals() throws Exception {
        VmConfig c = parse("-drive if=none,id=disk0,file=/tmp/a.img,format=raw "
                + "-device ide-hd,drive=disk0,bus=ide.1,unit=1,model=MyDisk -global ide-hd.serial=testdisk "
                + "-global ide-hd.ver=version -device ide-cd,bus=ide.0");
        IdeDeviceSpec hd = c.ideDevices().get(0);
        assertEquals(new IdeDeviceSpec(IdeDeviceSpec.Kind.HD, "disk0", 1, 1, "MyDisk", "testdisk", "version",
                "-device ide-hd,drive=disk0,bus=ide.1,unit=1,model=MyDisk"), hd);
        IdeDeviceSpec cd = c.ideDevices().get(1);
        assertNull(cd.drive(), "an empty CD-ROM");
        assertEquals(0, cd.bus());
        assertEquals(-1, cd.unit());
    }

    @Test
    void legacyDiskOptions() throws Exception {
        VmConfig c = parse("-hdb /b.img -hdd /e.img -cdrom /c.iso /d.img");
        assertEquals(4, c.drives().size());
        assertEquals(3, c.drives().get(1).index());
        assertEquals(2, c.drives().get(2).index());
        assertEquals(DriveSpec.Media.CDROM, c.drives().get(2).media());
        assertEquals("on", c.drives().get(2).options().get("readonly"));
        assertEquals("/d.img", c.drives().get(3).file());
        assertEquals(0, c.drives().get(3).index(), "a positional image is -hda");
    }

    @Test
    void doubleDashSpellingAndChardevForms() throws Exception {
        VmConfig c = parse("--qtest tcp:localhost:4444 --qmp unix:/tmp/m.sock,server=on,wait=off");
        assertEquals(new ChardevSpec(ChardevSpec.Kind.TCP, null, null, "localhost", 4444, false, true), c.qtest());
        assertEquals(new ChardevSpec(ChardevSpec.Kind.UNIX, null, "/tmp/m.sock", null, 0, true, false), c.monitors().get(0));
    }

    @Test
    void qomFormOfQtest() throws Exception {
        VmConfig c = parse("-chardev socket,path=/tmp/q.sock,id=q -object qtest,id=qt,chardev=q,log=/tmp/q.log");
        assertEquals("/tmp/q.sock", c.qtest().path());
        assertEquals("/tmp/q.log", c.qtestLog());
    }

    @Test
    void legacyAcceleratorListPicksTheFirstThatExists() throws Exception {
        assertEquals("qtest", parse("-machine accel=kvm:qtest").accelerator());
        String kvmIfPresent = dev.ioemu.emulator.engine.kvm.KvmHost.probe().present() ? "kvm" : "tcg";
        assertEquals(kvmIfPresent, parse("-machine pc,accel=kvm:tcg").accelerator());
        assertEquals(kvmIfPresent, parse("-machine pc,accel=kvm:soft").accelerator());
        assertEquals("kvm", parse("-machine pc,accel=kvm").accelerator());
    }

    @Test
    void softCpuIsTheDefaultAndQtestWhenAQtestChardevIsGiven() throws Exception {
        assertEquals(dev.ioemu.emulator.engine.kvm.KvmHost.probe().defaultAccelerator(), parse("-hda a.img").accelerator());
        assertEquals("tcg", parse("-accel soft").accelerator());
        assertEquals("qtest", parse("-qtest stdio").accelerator());
    }

    @Test
    void platformOptionsReachTheConfig() throws Exception {
        VmConfig c = parse("-serial stdio -debugcon file:/tmp/d.txt -no-reboot -boot order=c "
                + "-chardev file,id=log,path=/tmp/s.log -device isa-debugcon,iobase=0x402,chardev=log "
                + "-device isa-debug-exit,iobase=0xf4,iosize=0x04");
        PlatformOptions p = c.platform();
        assertEquals(PlatformOptions.CharTarget.Kind.STDIO, p.serial().kind());
        assertEquals(Path.of("/tmp/d.txt"), p.debugcon().file());
        assertTrue(p.noReboot());
        assertEquals(List.of(new PlatformOptions.IsaDevice("isa-debugcon", 0x402, 1,
                        new PlatformOptions.CharTarget(PlatformOptions.CharTarget.Kind.FILE, Path.of("/tmp/s.log"))),
                new PlatformOptions.IsaDevice("isa-debug-exit", 0xf4, 4, null)), p.isaDevices());
        assertEquals(PlatformOptions.CharTarget.Kind.STDIO, parse("-nographic").platform().serial().kind());
        assertNull(parse("-nodefaults").platform().serial());
    }

    @Test
    void traceEventsFileAddsItsPatterns(@TempDir Path dir) throws Exception {
        Path events = dir.resolve("events");
        Files.writeString(events, "# comment\nide_exec_cmd\n\nbmdma_*\n");
        assertEquals(List.of("ide_exec_cmd", "bmdma_*"), parse("-trace events=" + events).tracePatterns());
    }

    @Test
    void memorySizes() throws Exception {
        assertEquals(128L << 20, CommandLine.memorySize("128"));
        assertEquals(1L << 30, CommandLine.memorySize("1G"));
        assertEquals(512L << 20, CommandLine.memorySize("size=512M"));
        assertEquals(64L << 20, CommandLine.memorySize("65536k"));
    }

    @Test
    void versionAndHelpExitZero() {
        assertEquals(0, Main.run(new String[] {"-version"}, System.err, s -> { }));
        assertEquals(0, Main.run(new String[] {"--help"}, System.err, s -> { }));
    }

    /** Runs Main in-process and returns {exit status, stderr}. */
    private static Object[] run(String args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int[] exited = {-1};
        int status = Main.run(args.split(" "), new PrintStream(err, true, StandardCharsets.UTF_8), s -> exited[0] = s);
        assertEquals(-1, exited[0], "a start-up error returns; it does not call exit");
        return new Object[] {status, err.toString(StandardCharsets.UTF_8)};
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "-bogus|ioemu: -bogus: invalid option",
            "-m|ioemu: -m: requires an argument",
            "-machine q35|ioemu: -machine q35: unsupported machine type 'q35' (expected: pc)",
            "-machine pc,foo=1|ioemu: -machine pc,foo=1: Invalid parameter 'foo' (expected: type, accel)",
            "-accel hvf|ioemu: -accel hvf: invalid accelerator 'hvf' (expected: qtest, tcg, soft, kvm)",
            "-serial tty:/dev/x|ioemu: -serial tty:/dev/x: unsupported character device (expected: stdio, file:PATH, null or none)",
            "-boot order=9|ioemu: -boot order=9: invalid boot device '9' (expected: letters a-p, c = first hard disk)",
            "-device isa-debug-exit,iobase=zz|ioemu: -device isa-debug-exit,iobase=zz: Parameter 'iobase' expects a number (got 'zz')",
            "-device isa-debugcon,iobase=0x402,chardev=nope|ioemu: -device isa-debugcon,iobase=0x402,chardev=nope: Property 'isa-debugcon.chardev' can't find value 'nope'",
            "-machine pc,accel=kvm -accel qtest|ioemu: -accel qtest: accelerator already chosen: kvm",
            "-m 12x|ioemu: -m 12x: invalid RAM size '12x' (expected: e.g. 128M or 1G)",
            "-m 1M|ioemu: -m 1M: RAM size 1048576 bytes (expected: a multiple of 4 KiB from 2 MiB to 1 TiB)",
            "-m 2T|ioemu: -m 2T: RAM size 2199023255552 bytes (expected: a multiple of 4 KiB from 2 MiB to 1 TiB)",
            "-display gtk|ioemu: -display gtk: display 'gtk' not available (expected: none)",
            "-audio pa|ioemu: -audio pa: audio driver 'pa' not available (expected: none)",
            "-drive file=a.img,if=virtio|ioemu: -drive file=a.img,if=virtio: interface if=virtio not supported (expected: ide, none)",
            "-drive file=a.img,index=4|ioemu: -drive file=a.img,index=4: index=4 (expected: 0 to 3; IDE has 2 buses x 2 units)",
            "-drive file=a.img,index=x|ioemu: -drive file=a.img,index=x: index='x' (expected: a number)",
            "-drive file=a.img,media=floppy|ioemu: -drive file=a.img,media=floppy: media=floppy (expected: disk, cdrom)",
            "-drive file=a.img,werror=explode|ioemu: -drive file=a.img,werror=explode: werror=explode (expected: report, ignore, stop, enospc)",
            "-drive file=a.img,cache=fast|ioemu: -drive file=a.img,cache=fast: cache: 'fast' (expected: writeback, none, writethrough, directsync, unsafe, fadvise)",
            "-drive file=a.img,readonly=maybe|ioemu: -drive file=a.img,readonly=maybe: Parameter 'readonly' expects 'on' or 'off', got 'maybe'",
            "-drive if=ide|ioemu: -drive if=ide: a disk drive needs file=IMAGE",
            "-drive if=none,file=a.img|ioemu: -drive if=none,file=a.img: if=none needs id=ID (for -device ...,drive=ID)",
            "-drive file=a.img,index=0 -hda b.img|ioemu: -hda b.img: drive index 0 already used by -drive file=a.img,index=0",
            "-drive if=none,id=d,file=a -drive if=none,id=d,file=b|ioemu: -drive if=none,id=d,file=b: duplicate drive id 'd'",
            "-device virtio-blk|ioemu: -device virtio-blk: 'virtio-blk' is not a valid device model name (expected: ide-hd, ide-cd)",
            "-device ide-hd|ioemu: -device ide-hd: drive property not set (ide-hd needs drive=ID)",
            "-device ide-hd,drive=nope|ioemu: -device ide-hd,drive=nope: Property 'ide-hd.drive' can't find value 'nope'",
            "-drive if=none,id=d,file=a -device ide-hd,drive=d,bus=ide.2|ioemu: -device ide-hd,drive=d,bus=ide.2: Bus 'ide.2' not found (expected: ide.0, ide.1)",
            "-drive if=none,id=d,file=a -device ide-hd,drive=d,unit=2|ioemu: -device ide-hd,drive=d,unit=2: unit=2 (expected: 0 or 1)",
            "-drive if=none,id=d,file=a -device ide-hd,drive=d,speed=9|ioemu: -device ide-hd,drive=d,speed=9: property 'speed' not found (expected: drive, bus, unit, model, serial, ver)",
            "-drive if=none,id=d,file=a -device ide-hd,drive=d -device ide-hd,drive=d|ioemu: -device ide-hd,drive=d: drive 'd' is already in use",
            "-drive file=a,index=0 -device ide-cd,bus=ide.0,unit=0|ioemu: -device ide-cd,bus=ide.0,unit=0: ide.0 unit 0 already used by -drive file=a,index=0",
            "-drive if=none,id=d -device ide-hd,drive=d|ioemu: -device ide-hd,drive=d: Device needs media, but drive is empty (expected: file= on drive 'd')",
            "-global ide-hd|ioemu: -global ide-hd: invalid syntax (expected: DRIVER.PROPERTY=VALUE)",
            "-global virtio.x=1|ioemu: -global virtio.x=1: driver 'virtio' not supported (expected: ide-hd, ide-cd)",
            "-global ide-hd.wwn=1|ioemu: -global ide-hd.wwn=1: property 'wwn' not supported (expected: model, serial, ver)",
            "-qtest pipe:x|ioemu: -qtest pipe:x: chardev 'pipe:x' not supported (expected: stdio, null, unix:PATH, tcp:HOST:PORT)",
            "-qtest tcp:localhost|ioemu: -qtest tcp:localhost: tcp address 'localhost' (expected: HOST:PORT)",
            "-qtest tcp:h:99999|ioemu: -qtest tcp:h:99999: port '99999' (expected: 0 to 65535)",
            "-qtest unix:/x,server=maybe|ioemu: -qtest unix:/x,server=maybe: Parameter 'server' expects 'on' or 'off', got 'maybe'",
            "-qtest unix:/x,reconnect=1|ioemu: -qtest unix:/x,reconnect=1: Invalid parameter 'reconnect' (expected: server, wait)",
            "-qtest stdio -qtest stdio|ioemu: -qtest stdio: only one qtest chardev is allowed",
            "-qtest stdio -qmp stdio|ioemu: -qmp stdio: stdio is already in use (expected: one of -qtest/-qmp on stdio)",
            "-chardev socket,path=/x|ioemu: -chardev socket,path=/x: parameter 'id' is missing",
            "-chardev pty,id=c|ioemu: -chardev pty,id=c: chardev backend 'pty' not supported (expected: socket, stdio, null)",
            "-chardev socket,id=c|ioemu: -chardev socket,id=c: socket chardev needs 'path' or 'port'",
            "-chardev socket,id=c,path=/x,colour=red|ioemu: -chardev socket,id=c,path=/x,colour=red: Invalid parameter 'colour'",
            "-chardev socket,id=c,path=/x -chardev socket,id=c,path=/y|ioemu: -chardev socket,id=c,path=/y: duplicate chardev id 'c'",
            "-mon chardev=nope,mode=control|ioemu: -mon chardev=nope,mode=control: chardev 'nope' not found (expected: an id from -chardev)",
            "-chardev socket,id=c,path=/x -mon chardev=c|ioemu: -mon chardev=c: monitor mode 'readline' not supported (expected: mode=control)",
            "-trace events=/nonexistent/ev|ioemu: -trace events=/nonexistent/ev: /nonexistent/ev: No such file or directory",
            "-trace enable=x,colour=1|ioemu: -trace enable=x,colour=1: Invalid parameter 'colour' (expected: enable, events, file)",
            "-object iothread,id=io0|ioemu: -object iothread,id=io0: object type 'iothread' not supported (expected: qtest)",
            "-object qtest,id=q,chardev=nope|ioemu: -object qtest,id=q,chardev=nope: chardev 'nope' not found (expected: an id from -chardev)",
            "-machine accel=kvm:hax|ioemu: -machine accel=kvm:hax: invalid accelerator 'hax' (expected: qtest, tcg, soft, kvm)",
            "-run-with chroot=/x|ioemu: -run-with chroot=/x: Invalid parameter 'chroot' (expected: exit-with-parent)",
            "-qtest unix:/nonexistent/qtest.sock|ioemu: -qtest unix:/nonexistent/qtest.sock: Failed to connect to '/nonexistent/qtest.sock': No such file or directory",
            "-qtest-log /nonexistent/dir/log|ioemu: -qtest-log /nonexistent/dir/log: cannot open: No such file or directory",
            // Hostile-input regressions (issue 8, items 4, 7 and 8), QEMU 7.2's wording where it has one.
            "-m 128M,maxmem=zz|ioemu: -m 128M,maxmem=zz: Parameter 'maxmem' expects a non-negative number below 2^64 (optional suffix k, M, G, T, P or E)",
            "-m 128M,slots=x|ioemu: -m 128M,slots=x: Parameter 'slots' expects a number",
            "-m 128M,slots=2|ioemu: -m 128M,slots=2: slots specified but no max-size",
            "-m 128M,maxmem=64M|ioemu: -m 128M,maxmem=64M: invalid value of maxmem: maximum memory size (0x4000000) must be at least the initial memory size (0x8000000)",
            "-name a,b=c|ioemu: -name a,b=c: Invalid parameter 'b'",
            "-name a,debug-threads=maybe|ioemu: -name a,debug-threads=maybe: Parameter 'debug-threads' expects 'on' or 'off', got 'maybe'",
            "-drive file=a.img,if=ide,readonly=on|ioemu: -drive file=a.img,if=ide,readonly=on: Block node is read-only",
            "-drive if=none,id=d,file=a,readonly=on -device ide-hd,drive=d|ioemu: -device ide-hd,drive=d: Block node is read-only",
            "-drive file=a.img,inject-error.99999999999.iotype=read|ioemu: -drive file=a.img,inject-error.99999999999.iotype=read: drive option: 'inject-error.99999999999.iotype' (expected: inject-error.N.KEY with N a number below 10^9)",
            "-qtest tcp:no.such.host.invalid:1|ioemu: -qtest tcp:no.such.host.invalid:1: address resolution failed for no.such.host.invalid:1: Name or service not known",
            "-qmp tcp:no.such.host.invalid:1|ioemu: -qmp tcp:no.such.host.invalid:1: address resolution failed for no.such.host.invalid:1: Name or service not known",
            "-chardev socket,id=c,path=/nonexistent/x.sock -mon chardev=c,mode=control|ioemu: -chardev socket,id=c,path=/nonexistent/x.sock: Failed to connect to '/nonexistent/x.sock': No such file or directory",
            "-D /nonexistent/dir/trace.log|ioemu: -D /nonexistent/dir/trace.log: Error opening logfile /nonexistent/dir/trace.log: No such file or directory",
    })
    void badCommandLineExitsOneWithAMessageNamingTheOption(String args, String message) {
        Object[] r = run(args);
        assertEquals(1, r[0], "exit status");
        assertEquals(message + System.lineSeparator(), r[1]);
    }

    @Test
    void symlinkLoopIsReportedWithTheCLibrarysWords(@TempDir Path dir) throws Exception {
        Path loop = dir.resolve("loop.img");
        Files.createSymbolicLink(loop, loop.getFileName());
        Object[] r = run("-drive file=" + loop + ",if=ide,format=raw");
        assertEquals(1, r[0]);
        assertEquals("ioemu: -drive file=" + loop + ",if=ide,format=raw: Could not open '" + loop
                + "': Too many levels of symbolic links" + System.lineSeparator(), r[1]);
    }

    @Test
    void everyOptionInTheTableIsParsedAndDocumentedOnce() {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (CliOption o : CommandLine.options()) {
            assertTrue(names.add(o.name()), "listed twice: " + o.name());
            if (o.takesValue()) {
                assertEquals("ioemu: " + o.name() + ": requires an argument" + System.lineSeparator(), run(o.name())[1]);
            } else {
                // A flag is known and takes no value: the next argument is read as an option.
                assertEquals("ioemu: -no-such-option: invalid option" + System.lineSeparator(),
                        run(o.name() + " -no-such-option")[1], o.name());
            }
            if (!o.help().isEmpty()) {
                assertTrue(CommandLine.usage().contains("  " + o.name() + " "), o.name() + " in the help");
            }
        }
        assertEquals("ioemu: -no-such-option: invalid option" + System.lineSeparator(), run("-no-such-option")[1]);
    }
}
