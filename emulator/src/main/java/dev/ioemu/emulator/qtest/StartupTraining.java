package dev.ioemu.emulator.qtest;

import dev.ioemu.emulator.Main;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The training start behind the launcher's class-data sharing archive (emulator/bin/launch.sh,
 * README "Start-up"): the JVM that runs this class with {@code -XX:ArchiveClassesAtExit} archives
 * every class it loaded, and later starts map those classes instead of reading and verifying the
 * jars. So it does what the first seconds of real runs do, through the real entry point. The
 * argument names the kind of start the archive is for: {@code qtest} (a start with
 * {@code -qtest}) or {@code vm} (every other start; the default). For {@code vm}, first a boot
 * on the software CPU ({@code -accel soft}, as {@code ioemu -hda disk.img} starts):
 * the HLE BIOS's POST, then {@link #TRAINING_BOOT_SECTOR}, which calls the BIOS services boot
 * loaders call first (INT 10h, 13h, 15h, 1Ah) and ends the VM through isa-debug-exit, so the
 * archive holds the CPU, its opcode table's method-reference classes, the platform chips and the
 * BIOS. For both, one VM started with libqtest's command line (qtest and QMP connecting to Unix
 * sockets this class listens on, a raw disk on the primary IDE channel, a second monitor on
 * stdio), the QMP greeting and a few queries, libqos's fw_cfg and PCI probes, an IDE IDENTIFY,
 * PIO and DMA transfers and a FLUSH CACHE, guest memory commands, then QMP {@code quit}.
 *
 * <p>Exits with status 0 only if the boot ended as the boot sector asks and every reply was the
 * expected one (the launcher keeps the archive only then), 1 with one line on stderr otherwise,
 * and gives up after {@link #TIMEOUT_SECONDS}.
 */
public final class StartupTraining {
    static final int TIMEOUT_SECONDS = 60;
    private static final int IMAGE_SIZE = 1 << 20;
    // PIIX3 IDE at 00:01.1 (pc machine), reached through PCI configuration mechanism #1.
    private static final int PCI_CONFIG_ADDRESS = 0xcf8;
    private static final int PCI_CONFIG_DATA = 0xcfc;
    private static final int IDE_CONFIG = 0x8000_0000 | (1 << 11) | (1 << 8);
    private static final int PCI_COMMAND_IO_AND_MASTER = 0x5;
    private static final int BMDMA_BASE = 0xc000;
    // ATA (shared/spec/ide.md): primary command block and the commands trained.
    private static final int ATA_DATA = 0x1f0;
    private static final int ATA_SECTOR_COUNT = 0x1f2;
    private static final int ATA_LBA_LOW = 0x1f3;
    private static final int ATA_DEVICE = 0x1f6;
    private static final int ATA_COMMAND = 0x1f7;
    private static final int STATUS_BSY = 0x80;
    private static final int STATUS_DRQ = 0x08;
    private static final int CMD_IDENTIFY = 0xec;
    private static final int CMD_READ_SECTORS = 0x20;
    private static final int CMD_WRITE_SECTORS = 0x30;
    private static final int CMD_READ_DMA = 0xc8;
    private static final int CMD_FLUSH_CACHE = 0xe7;
    private static final long PRD_TABLE = 0x10000;
    private static final long DMA_BUFFER = 0x20000;
    /** isa-debug-exit's status for the value 0 the boot sector writes: (0 << 1) | 1. */
    private static final int BOOT_EXIT_STATUS = 1;

    /**
     * The training boot sector (16-bit real mode at 0000:7C00; NASM source in the comments): one
     * call of each BIOS service a boot loader starts with, a short loop, then isa-debug-exit.
     */
    private static final byte[] TRAINING_BOOT_SECTOR = bootSector(
            0xB8, 0x2E, 0x0E,                    // mov ax, 0x0e2e     INT 10h AH=0Eh: teletype '.'
            0xCD, 0x10,                          // int 0x10
            0xB4, 0x08,                          // mov ah, 0x08       INT 13h AH=08h: drive parameters
            0xB2, 0x80,                          // mov dl, 0x80
            0xCD, 0x13,                          // int 0x13
            0xB4, 0x41,                          // mov ah, 0x41       INT 13h AH=41h: EDD check
            0xBB, 0xAA, 0x55,                    // mov bx, 0x55aa
            0xB2, 0x80,                          // mov dl, 0x80
            0xCD, 0x13,                          // int 0x13
            0xB4, 0x42,                          // mov ah, 0x42       INT 13h AH=42h: read LBA 1 to 0000:8000
            0xB2, 0x80,                          // mov dl, 0x80
            0xBE, 0x4B, 0x7C,                    // mov si, dap
            0xCD, 0x13,                          // int 0x13
            0x66, 0x31, 0xDB,                    // xor ebx, ebx       INT 15h E820h: first entry to 0000:9000
            0x66, 0xB8, 0x20, 0xE8, 0x00, 0x00,  // mov eax, 0xe820
            0x66, 0xBA, 0x50, 0x41, 0x4D, 0x53,  // mov edx, 'SMAP'
            0x66, 0xB9, 0x14, 0x00, 0x00, 0x00,  // mov ecx, 20
            0xBF, 0x00, 0x90,                    // mov di, 0x9000
            0xCD, 0x15,                          // int 0x15
            0xB4, 0x00,                          // mov ah, 0x00       INT 1Ah AH=00h: tick count
            0xCD, 0x1A,                          // int 0x1a
            0xB9, 0x00, 0x01,                    // mov cx, 0x100
            0xBF, 0x00, 0xA0,                    // mov di, 0xa000
            0x01, 0xC8,                          // again: add ax, cx
            0xAB,                                // stosw
            0xE2, 0xFB,                          // loop again
            0xB0, 0x00,                          // mov al, 0
            0xE6, 0xF4,                          // out 0xf4, al      isa-debug-exit
            0xF4,                                // hlt
            0x10, 0x00, 0x01, 0x00,              // dap: size 16, 1 sector
            0x00, 0x80, 0x00, 0x00,              //      to 0000:8000
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);   // LBA 1

    private BufferedReader qtestIn;
    private OutputStream qtestOut;
    private BufferedReader qmpIn;
    private OutputStream qmpOut;
    private volatile boolean trained;
    /** Deleted on the way out, whichever thread ends the process. */
    private static volatile Path workDir;

    private StartupTraining() {
    }

    public static void main(String[] args) {
        boolean bootsSoftCpu = args.length == 0 || args[0].equals("vm");
        if (args.length > 1 || args.length == 1 && !bootsSoftCpu && !args[0].equals("qtest")) {
            System.err.println("ioemu start-up training: " + String.join(" ", args) + " (expected: qtest or vm)");
            System.exit(2);
        }
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");   // as Main does
        }
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(TIMEOUT_SECONDS * 1000L);
                fail("no answer within " + TIMEOUT_SECONDS + " s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "training-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            workDir = Files.createTempDirectory("ioemu-training");
            if (bootsSoftCpu) {
                bootSoftCpu(workDir);
            }
            new StartupTraining().train(workDir);
        } catch (IOException | RuntimeException e) {
            fail(e.toString());
        }
    }

    /** The training boot sector (512 bytes, a copy): prints '.' on COM1, ends with isa-debug-exit status 1. */
    public static byte[] trainingBootSector() {
        return TRAINING_BOOT_SECTOR.clone();
    }

    /** Boots {@link #TRAINING_BOOT_SECTOR} on the software CPU in this JVM; returns when the guest has ended the VM. */
    private static void bootSoftCpu(Path dir) throws IOException {
        Path image = dir.resolve("boot.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
            f.write(TRAINING_BOOT_SECTOR);
        }
        Path serial = dir.resolve("serial.txt");
        String[] vmArgs = {"-machine", "pc", "-nodefaults", "-display", "none", "-no-reboot", "-accel", "soft",
            "-drive", "file=" + image + ",if=ide,format=raw", "-serial", "file:" + serial,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"};
        int[] exitStatus = {-1};
        int status = Main.run(vmArgs, System.err, s -> exitStatus[0] = s);
        if (status != 0 || exitStatus[0] != BOOT_EXIT_STATUS) {
            throw new IllegalStateException("the training boot ended with status " + status + "/" + exitStatus[0]
                    + " (expected: isa-debug-exit status " + BOOT_EXIT_STATUS + ")");
        }
        String console = Files.readString(serial, StandardCharsets.ISO_8859_1);
        if (!console.equals(".")) {
            throw new IllegalStateException("the training boot printed '" + console + "' (expected: '.')");
        }
    }

    private static byte[] bootSector(int... code) {
        byte[] sector = new byte[512];
        for (int i = 0; i < code.length; i++) {
            sector[i] = (byte) code[i];
        }
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        return sector;
    }

    private void train(Path dir) throws IOException {
        Path image = dir.resolve("train.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(IMAGE_SIZE);
        }
        Path qtestPath = dir.resolve("qtest.sock");
        Path qmpPath = dir.resolve("qmp.sock");
        try (ServerSocketChannel qtestListener = listen(qtestPath); ServerSocketChannel qmpListener = listen(qmpPath)) {
            String[] vmArgs = {"-qtest", "unix:" + qtestPath, "-qtest-log", "/dev/null",
                "-chardev", "socket,path=" + qmpPath + ",id=char0", "-mon", "chardev=char0,mode=control",
                "-display", "none", "-machine", "pc", "-accel", "qtest",
                // A second monitor on stdio (stdin is empty): what a `-qtest stdio` start opens.
                "-qmp", "stdio",
                "-drive", "file=" + image + ",if=ide,format=raw,cache=writeback"};
            // The VM ends the process through its exit path (QMP quit below); status 0 only if trained.
            Thread vm = new Thread(() -> {
                int status = Main.run(vmArgs, System.err, s -> exit(s == 0 && trained ? 0 : 1));
                fail("the VM did not start (status " + status + ")");
            }, "training-vm");
            vm.start();
            SocketChannel qtest = qtestListener.accept();
            SocketChannel qmp = qmpListener.accept();
            qtestIn = new BufferedReader(new InputStreamReader(Channels.newInputStream(qtest), StandardCharsets.ISO_8859_1));
            qtestOut = Channels.newOutputStream(qtest);
            qmpIn = new BufferedReader(new InputStreamReader(Channels.newInputStream(qmp), StandardCharsets.UTF_8));
            qmpOut = Channels.newOutputStream(qmp);
            handshake();
            ide();
            memory();
            trained = true;
            qmp("{\"execute\": \"quit\"}", "\"return\"");
            try {
                vm.join();   // the VM's exit path ends the process
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void handshake() throws IOException {
        expect(qtest("endianness"), "OK little");
        expectStart(qmpLine(), "{\"QMP\"");
        qmp("{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
        qmp("{\"execute\": \"query-status\"}", "\"return\"");
        qmp("{\"execute\": \"query-block\"}", "\"return\"");
        qmp("{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info block\"}}", "\"return\"");
        // libqos: RAM size from fw_cfg, then interrupts intercepted at the IOAPIC.
        expect(qtest("outw 0x510 0x3"), "OK");
        for (int i = 0; i < 8; i++) {
            expectStart(qtest("inb 0x511"), "OK 0x");
        }
        expect(qtest("irq_intercept_in ioapic"), "OK");
    }

    private void ide() throws IOException {
        // PCI: IDs of 00:01.1, then BAR4 and I/O + bus-master decoding, as a driver sets them up.
        expect(qtest("outl " + hex(PCI_CONFIG_ADDRESS) + " " + hex(IDE_CONFIG)), "OK");
        expectStart(qtest("inl " + hex(PCI_CONFIG_DATA)), "OK 0x");
        expect(qtest("outl " + hex(PCI_CONFIG_ADDRESS) + " " + hex(IDE_CONFIG | 0x20)), "OK");
        expect(qtest("outl " + hex(PCI_CONFIG_DATA) + " " + hex(BMDMA_BASE | 1)), "OK");
        expect(qtest("outl " + hex(PCI_CONFIG_ADDRESS) + " " + hex(IDE_CONFIG | 0x04)), "OK");
        expect(qtest("outw " + hex(PCI_CONFIG_DATA) + " " + hex(PCI_COMMAND_IO_AND_MASTER)), "OK");
        expect(qtest("outb " + hex(ATA_DEVICE) + " 0xe0"), "OK");
        command(CMD_IDENTIFY, 0);
        awaitDrq();
        for (int i = 0; i < 256; i++) {
            expectStart(qtest("inw " + hex(ATA_DATA)), "OK 0x");
        }
        command(CMD_WRITE_SECTORS, 1);
        awaitDrq();
        for (int i = 0; i < 256; i++) {
            expect(qtest("outw " + hex(ATA_DATA) + " " + hex(i)), "OK");
        }
        awaitNotBusy();
        command(CMD_READ_SECTORS, 1);
        awaitDrq();
        for (int i = 0; i < 256; i++) {
            expectStart(qtest("inw " + hex(ATA_DATA)), "OK 0x");
        }
        // READ DMA of one sector through a one-entry PRD table (end-of-table bit set).
        expect(qtest("writel " + hex(PRD_TABLE) + " " + hex(DMA_BUFFER)), "OK");
        expect(qtest("writel " + hex(PRD_TABLE + 4) + " 0x80000200"), "OK");
        expect(qtest("outl " + hex(BMDMA_BASE + 4) + " " + hex(PRD_TABLE)), "OK");
        expect(qtest("outb " + hex(BMDMA_BASE) + " 0x8"), "OK");   // direction: to memory
        command(CMD_READ_DMA, 1);
        expect(qtest("outb " + hex(BMDMA_BASE) + " 0x9"), "OK");   // start
        awaitNotBusy();
        expectStart(qtest("inb " + hex(BMDMA_BASE + 2)), "OK 0x");
        expect(qtest("outb " + hex(BMDMA_BASE) + " 0x0"), "OK");
        expectStart(qtest("b64read " + hex(DMA_BUFFER) + " 0x200"), "OK ");
        command(CMD_FLUSH_CACHE, 0);
        awaitNotBusy();
    }

    private void memory() throws IOException {
        expect(qtest("writeq 0x1000 0x0123456789abcdef"), "OK");
        expect(qtest("readq 0x1000"), "OK 0x0123456789abcdef");
        expect(qtest("memset 0x2000 0x100 0x5a"), "OK");
        expectStart(qtest("read 0x2000 0x10"), "OK 0x5a5a");
        expect(qtest("b64write 0x3000 0x4 AQIDBA=="), "OK");
        expect(qtest("readl 0x3000"), "OK 0x0000000004030201");
    }

    private void command(int command, int sectors) throws IOException {
        expect(qtest("outb " + hex(ATA_SECTOR_COUNT) + " " + hex(sectors)), "OK");
        expect(qtest("outb " + hex(ATA_LBA_LOW) + " 0x0"), "OK");
        expect(qtest("outb " + hex(ATA_COMMAND) + " " + hex(command)), "OK");
    }

    private int status() throws IOException {
        String r = qtest("inb " + hex(ATA_COMMAND));
        expectStart(r, "OK 0x");
        return Integer.parseInt(r.substring(5), 16);
    }

    private void awaitDrq() throws IOException {
        int s;
        while (((s = status()) & STATUS_BSY) != 0) {
            Thread.onSpinWait();
        }
        if ((s & STATUS_DRQ) == 0) {
            throw new IllegalStateException("IDE status " + hex(s) + " without DRQ");
        }
    }

    private void awaitNotBusy() throws IOException {
        while ((status() & STATUS_BSY) != 0) {
            Thread.onSpinWait();
        }
    }

    /** Sends one qtest line and returns its reply; interrupt lines (libqtest's async "IRQ …") are skipped. */
    private String qtest(String request) throws IOException {
        qtestOut.write((request + "\n").getBytes(StandardCharsets.ISO_8859_1));
        qtestOut.flush();
        String line;
        do {
            line = qtestIn.readLine();
            if (line == null) {
                throw new IOException("qtest connection closed after '" + request + "'");
            }
        } while (line.startsWith("IRQ "));
        return line;
    }

    private void qmp(String request, String expected) throws IOException {
        qmpOut.write((request + "\n").getBytes(StandardCharsets.UTF_8));
        qmpOut.flush();
        String line;
        do {
            line = qmpLine();   // events (SHUTDOWN, …) come before the reply
        } while (!line.contains("\"return\"") && !line.contains("\"error\""));
        if (!line.contains(expected)) {
            throw new IllegalStateException("QMP " + request + " answered " + line);
        }
    }

    private String qmpLine() throws IOException {
        String line = qmpIn.readLine();
        if (line == null) {
            throw new IOException("QMP connection closed");
        }
        return line;
    }

    private static void expect(String reply, String expected) {
        if (!reply.equals(expected)) {
            throw new IllegalStateException("qtest answered '" + reply + "' (expected: '" + expected + "')");
        }
    }

    private static void expectStart(String reply, String prefix) {
        if (!reply.startsWith(prefix)) {
            throw new IllegalStateException("qtest answered '" + reply + "' (expected: '" + prefix + "…')");
        }
    }

    private static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    private static ServerSocketChannel listen(Path path) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path), 1);
        return s;
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A temporary directory left behind is harmless.
        }
    }

    private static void fail(String why) {
        System.err.println("ioemu start-up training: " + why);
        exit(1);
    }

    private static void exit(int status) {
        delete(workDir);
        System.exit(status);
    }
}
