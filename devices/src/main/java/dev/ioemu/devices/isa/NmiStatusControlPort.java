package dev.ioemu.devices.isa;

import dev.ioemu.devices.bus.PortDevice;
import dev.ioemu.devices.time.Clock;

/**
 * Port 61h, the PIIX "NMI status and control" register as a PC uses it: bit 0 is PIT counter 2's
 * GATE (speaker gate), bit 1 the speaker data enable, bit 4 the refresh toggle, bit 5 counter 2's
 * OUT. Firmware and loaders (SeaBIOS without PM timer, GRUB, Linux) calibrate by setting the gate
 * and polling bit 5, so OUT must follow the clock.
 *
 * <p>The refresh toggle flips every 15.085 us of clock time (one DRAM refresh request); QEMU 7.2
 * flips it on every read instead. Bits 2-3 (parity/IOCHK enables) and 6-7 read 0, as on QEMU.
 */
public final class NmiStatusControlPort implements PortDevice {
    public static final int PORT = 0x61;
    public static final int TIM_CNT2_EN = 0x01;
    public static final int SPKR_DAT_EN = 0x02;
    public static final int REF_TOGGLE = 0x10;
    public static final int TMR2_OUT_STS = 0x20;
    /** One refresh request every 15.085 us (18 PIT clocks). */
    public static final long REFRESH_PERIOD_NANOS = 15_085;

    private final I8254Pit pit;
    private final Clock clock;
    private boolean speakerData;

    public NmiStatusControlPort(I8254Pit pit, Clock clock) {
        this.pit = pit;
        this.clock = clock;
    }

    public synchronized void reset() {
        speakerData = false;
    }

    @Override
    public synchronized int read(int offset, int size) {
        // A byte read (GRUB's PIT wait does nearly two million) needs no per-byte lambda.
        return offset == 0 && size == 1 ? readByte() : ByteRegisters.read(o -> readByte(), offset, size);
    }

    private int readByte() {
        int value = (pit.gate2() ? TIM_CNT2_EN : 0) | (speakerData ? SPKR_DAT_EN : 0)
                | (pit.out2() ? TMR2_OUT_STS : 0);
        if ((clock.nanos() / REFRESH_PERIOD_NANOS & 1) != 0) {
            value |= REF_TOGGLE;
        }
        return value;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        ByteRegisters.write((o, v) -> writeByte(v), offset, size, value);
    }

    private void writeByte(int value) {
        speakerData = (value & SPKR_DAT_EN) != 0;
        pit.setGate2((value & TIM_CNT2_EN) != 0);
    }

    /** True while the speaker sounds (gate and data both on); no audio backend yet. */
    public synchronized boolean speakerOn() {
        return speakerData && pit.gate2();
    }

    @Override
    public String name() {
        return "pcspk";
    }
}
