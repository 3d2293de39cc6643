package dev.ioemu.emulator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code -blockdev} with QEMU's keys, as ide-test's diagnostic test and QEMU users write it. */
class BlockdevSpecTest {
    private static VmConfig parse(String line) throws UsageException {
        return CommandLine.parse(line.split(" "));
    }

    private static DriveSpec drive(VmConfig c, String id) {
        return c.drives().stream().filter(d -> id.equals(d.id())).findFirst().orElseThrow();
    }

    @Test
    void ideTestDiagnosticCommandLine() throws Exception {
        VmConfig c = parse("-blockdev driver=file,node-name=hda,filename=/tmp/a.img "
                + "-blockdev driver=file,node-name=hdb,filename=/tmp/b.img "
                + "-device ide-hd,drive=hda,bus=ide.0,unit=0 -device ide-hd,drive=hdb,bus=ide.0,unit=1");
        assertEquals(Map.of("if", "none", "id", "hda", "file", "/tmp/a.img"), drive(c, "hda").options());
        assertEquals(List.of("hda", "hdb"), c.ideDevices().stream().map(IdeDeviceSpec::drive).toList());
        assertEquals(DriveSpec.Interface.NONE, drive(c, "hdb").iface());
    }

    @Test
    void rawOverBlkdebugOverFileNestedAndByReference() throws Exception {
        VmConfig c = parse("-blockdev driver=file,node-name=f,filename=/tmp/a.img,locking=off,cache.direct=on "
                + "-blockdev driver=blkdebug,node-name=dbg,image=f,config=/tmp/rules,inject-error.0.event=read_aio "
                + "-blockdev driver=raw,node-name=disk,read-only=on,file.driver=blkdebug,file.image.driver=file,"
                + "file.image.filename=/tmp/b.img -device ide-hd,drive=dbg");
        Map<String, String> dbg = drive(c, "dbg").options();
        assertEquals("/tmp/a.img", dbg.get("file"));
        assertEquals("off", dbg.get("locking"));
        assertEquals("on", dbg.get("cache.direct"));
        assertEquals("/tmp/rules", dbg.get("blkdebug.config"));
        assertEquals("read_aio", dbg.get("blkdebug.inject-error.0.event"));
        Map<String, String> disk = drive(c, "disk").options();
        assertEquals("/tmp/b.img", disk.get("file"));
        assertEquals("on", disk.get("readonly"));
        assertEquals("", disk.get("blkdebug.config"), "a blkdebug node without rules still takes breakpoints");
    }

    @Test
    void theWriteLogKeyBelongsToTheFileNodeAndReachesTheBlockLayer() throws Exception {
        VmConfig c = parse("-blockdev driver=raw,node-name=disk,file.driver=file,file.filename=/tmp/a.img,"
                + "file.x-write-log=/tmp/a.log -device ide-hd,drive=disk");
        assertEquals("/tmp/a.log", drive(c, "disk").options().get("x-write-log"));
        assertEquals("/tmp/a.log", dev.ioemu.devices.block.DriveOptions.fromMap(drive(c, "disk").options())
                .writeLog());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "driver=file,filename=/tmp/a | Parameter 'node-name' is missing",
        "node-name=x,filename=/tmp/a | Parameter 'driver' is missing",
        "driver=qcow2,node-name=x,file=y | Parameter 'driver' does not accept value 'qcow2'",
        "driver=file,node-name=x | The 'file' block driver requires a file name",
        "driver=file,node-name=x,filename=/a,bogus=1 | Parameter 'bogus' is unexpected",
        "driver=raw,node-name=x,file=nothere | Cannot find device= nor node-name=nothere",
        "driver=raw,node-name=x | Parameter 'file' is missing",
        "driver=file,node-name=x,filename=/a,read-only=maybe | Parameter 'read-only' expects 'on' or 'off'",
        "driver=file,node-name=1x,filename=/a | Invalid node-name: '1x'",
    })
    void badBlockdevsAreRefusedWithQemusWording(String value, String message) {
        UsageException e = assertThrows(UsageException.class, () -> parse("-blockdev " + value));
        assertTrue(e.getMessage().startsWith("-blockdev " + value + ": " + message), e.getMessage());
    }

    @Test
    void nodeNamesAreUnique() {
        UsageException e = assertThrows(UsageException.class, () -> parse(
                "-blockdev driver=file,node-name=a,filename=/x -blockdev driver=file,node-name=a,filename=/y"));
        assertTrue(e.getMessage().contains("Duplicate nodes with node-name='a'"), e.getMessage());
    }
}
