package dev.ioemu.tools.bench;

import dev.ioemu.devices.block.BlockDevice;
import dev.ioemu.devices.block.BlockDevices;
import dev.ioemu.devices.block.DriveOptions;
import dev.ioemu.devices.trace.LogFile;
import dev.ioemu.devices.trace.Trace;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The DMA path the trace-cost benchmark times: a 64 KiB WRITE DMA EXT and READ DMA EXT through the
 * PIIX3 model on an in-process machine ({@link InProcessIdeMachine}), every event off, or every
 * event on with lines formatted and written to a sink that discards them (the cost of tracing
 * without the cost of a disk). Loaded once per variant in its own class loader
 * ({@code TraceStrippingClassLoader}), so the variant with trace calls removed runs the same
 * classes with the calls taken out.
 */
public final class TraceCostWorkload implements AutoCloseable, Runnable {
    static final int TRANSFER = 64 * 1024;
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

    @Override
    public void close() {
        machine.close();
        disk.close();
        Trace.disableAll();
    }
}
