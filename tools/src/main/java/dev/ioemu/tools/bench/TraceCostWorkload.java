package dev.ioemu.tools.bench;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.bus.IoPortBus;
import dev.ioemu.devices.ide.Ata;
import dev.ioemu.devices.ide.guest.PciConfigAccess;
import dev.ioemu.devices.trace.LogFile;
import dev.ioemu.devices.trace.Trace;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The DMA path the trace-cost benchmark times ({@link #run()}): a 64 KiB WRITE DMA EXT and READ DMA EXT through the
 * PIIX3 model on an in-process machine ({@link InProcessIdeMachine}), every event off, or every
 * event on with lines formatted and written to a sink that discards them (the cost of tracing
 * without the cost of a disk). Loaded once per variant in its own class loader
 * ({@code TraceStrippingClassLoader}), so the variant with trace calls removed runs the same
 * classes with the calls taken out.
 */
public final class TraceCostWorkload implements AutoCloseable, Runnable, java.util.function.IntSupplier {
    static final int TRANSFER = 64 * 1024;
    /** The primary channel's legacy command block and control port (PIIX3 compatibility mode). */
    private static final int ATA_PRIMARY = 0x1F0;
    private static final int ATA_PRIMARY_CONTROL = 0x3F6;
    private final BlockDevice disk;
    private final InProcessIdeMachine machine;
    private long lba;

    /**
     * @param image  a raw image of at least 64 MiB
     * @param allOn  every trace event on, lines to a discarding sink
     */
    public TraceCostWorkload(String image, boolean allOn) throws BenchFailure, dev.ioemu.devices.block.BlockOpenException {
        Trace.disableAll();
        if (allOn) {
            LogFile.use(new PrintStream(OutputStream.nullOutputStream()));
            Trace.enable("*");
        }
        disk = BlockDevices.open(DriveOptions.parse("file=" + Path.of(image).toString().replace(",", ",,")
                + ",format=raw,cache=writeback"));
        machine = new InProcessIdeMachine(disk, TRANSFER);
    }

    /** One write and one read of 64 KiB, walking the first 64 MiB. */
    @Override
    public void run() {
        try {
            machine.dma(true, lba);
            machine.dma(false, lba);
        } catch (BenchFailure e) {
            throw new IllegalStateException("DMA at LBA " + lba + ": " + e.getMessage(), e);
        }
        lba = (lba + TRANSFER / 512) % (64L * 2048);
    }

    /**
     * The register half of the DMA path alone, on the vCPU thread with no I/O thread involved (so
     * the machine's scheduler does not blur it): the task file of a 128-sector READ DMA EXT at
     * {@code lba} written as a driver writes it, the BM status read, the alternate status read, no
     * command issued.
     *
     * @return the alternate status, for the benchmark to consume
     */
    @Override
    public int getAsInt() {
        IoPortBus ports = machine.ports;
        ports.write(ATA_PRIMARY + 1, 1, 0);                       // Features
        ports.write(ATA_PRIMARY + 2, 1, 0);                       // Sector Count, high then low (48-bit)
        ports.write(ATA_PRIMARY + 2, 1, TRANSFER / 512);
        for (int i = 0; i < 3; i++) {                             // LBA 47:24, then 23:0
            ports.write(ATA_PRIMARY + 3 + i, 1, 0);
        }
        for (int i = 0; i < 3; i++) {
            ports.write(ATA_PRIMARY + 3 + i, 1, (int) (lba >> (8 * i)) & 0xFF);
        }
        ports.write(ATA_PRIMARY + 6, 1, 0x40);                    // Device: LBA, master
        int bm = ports.read(PciConfigAccess.IO_WINDOW_BASE + Ata.BM_REG_STATUS, 1);
        lba = (lba + 1) & 0xFFFF;
        return ports.read(ATA_PRIMARY_CONTROL, 1) ^ bm;
    }

    @Override
    public void close() {
        machine.close();
        disk.close();
        Trace.disableAll();
    }
}
